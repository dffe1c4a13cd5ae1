/**
 * A failed send that says which of its records the broker acknowledged, so only the others are sent
 * again (Benthos' batch error). A send spans several partitions and, when large, several requests:
 * a leader killed mid-send fails one partition while the others are written. Retrying the whole
 * send writes those again, once per failed attempt — a failover that fails three attempts published
 * the other partitions' records three times, past the at-least-once bound of docs/guarantees.md.
 *
 *   send([a→t/0, b→t/1, c→t/2]), leader of t/1 killed  ─►  TRB_PRODUCE, writtenBy(error) = {0, 2}
 *   the lane's next attempt                            ─►  send([b])
 *
 * The transports mark the TributaryError they throw (`markWritten`); the lane reads `writtenBy`.
 * What is marked was acknowledged (acks=all); what is not may still have been written (an answer
 * lost with its broker), which is the at-least-once repeat the bound allows for.
 */
import { isTributaryError, type TributaryError } from '../../errors.js';
import type { OutgoingMessage } from './types.js';

const WRITTEN = Symbol('tributary.produce.written');

/** `error`, marked with the indices (into the records of the failed send) the broker acknowledged. */
export function markWritten<E extends TributaryError>(error: E, written: ReadonlySet<number>): E {
  Object.defineProperty(error, WRITTEN, { value: written, configurable: true, enumerable: false });
  return error;
}

/** The indices of a failed send's records the broker acknowledged (none when the error does not say). */
export function writtenBy(error: unknown): ReadonlySet<number> {
  const written = typeof error === 'object' && error !== null ? (error as { [WRITTEN]?: unknown })[WRITTEN] : undefined;
  return written instanceof Set ? (written as ReadonlySet<number>) : new Set();
}

/**
 * Sends `messages` as consecutive requests of at most `maxBytes` each, one after another. When one
 * fails, its error (a TributaryError, marked by `sendChunk` with the acknowledged indices of its
 * chunk, if it knows them) is re-marked with indices into `messages`: every record of the requests
 * before it, and the chunk's acknowledged ones.
 */
export async function sendInChunks(messages: readonly OutgoingMessage[], maxBytes: number, sendChunk: (chunk: readonly OutgoingMessage[]) => Promise<void>): Promise<void> {
  let sent = 0;
  for (const chunk of chunksOf(messages, maxBytes)) {
    try {
      await sendChunk(chunk);
    } catch (error) {
      const written = new Set<number>();
      for (let i = 0; i < sent; i++) written.add(i);
      for (const i of writtenBy(error)) written.add(sent + i);
      if (written.size > 0 && isTributaryError(error)) markWritten(error, written);
      throw error;
    }
    sent += chunk.length;
  }
}

/** Consecutive slices of `messages` of at most `maxBytes` each (a single larger record is a slice of its own; the broker judges it). */
export function chunksOf(messages: readonly OutgoingMessage[], maxBytes: number): OutgoingMessage[][] {
  const chunks: OutgoingMessage[][] = [];
  let current: OutgoingMessage[] = [];
  let bytes = 0;
  for (const m of messages) {
    let size = (m.key?.length ?? 0) + (m.value?.length ?? 0) + 64; // + record overhead
    if (m.headers) for (const k in m.headers) size += k.length + (m.headers[k]?.length ?? 0);
    if (current.length > 0 && bytes + size > maxBytes) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(m);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
