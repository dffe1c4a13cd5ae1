/**
 * One partition of a Fetch answer (@platformatic/kafka's decoded record batches) → the runtime's
 * raw messages, from the offset asked for:
 *
 *   record batches [40..49] [50 marker] [51..60], from 45  ─►  messages 45..49, 51..60; next 61
 *
 * Records before `from` (a batch starts earlier than asked) and transaction markers (control
 * batches) are left out; `next` is past everything the answer held, markers included.
 * `takeFetched` applies such an answer to the partition's state.
 */
import type { Consumer } from '@platformatic/kafka';
import { NO_HEADERS } from '../headers.js';
import type { RawMessage } from '../types.js';
import type { PartitionState } from './partition-state.js';

export type FetchResponsePartition = Awaited<ReturnType<Consumer['fetch']>>['responses'][number]['partitions'][number];

export function fetchedRecords(part: FetchResponsePartition, from: bigint): { messages: RawMessage[]; next: bigint } {
  const messages: RawMessage[] = [];
  let next = from;
  for (const batch of part.records ?? []) {
    next = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
    if (batch.attributes & 0x20) continue; // control batch (transaction marker)
    for (const record of batch.records) {
      const offset = batch.firstOffset + BigInt(record.offsetDelta);
      if (offset >= from) messages.push(toRaw(record, offset, batch.firstTimestamp));
    }
  }
  return { messages, next };
}

function toRaw(record: { key: Buffer | null; value: Buffer | null; headers: [Buffer | null, Buffer | null][]; timestampDelta: bigint }, offset: bigint, firstTimestamp: bigint): RawMessage {
  let headers = NO_HEADERS;
  for (const [name, value] of record.headers) {
    if (!name) continue;
    if (headers === NO_HEADERS) headers = {};
    headers[name.toString()] = value ?? Buffer.alloc(0);
  }
  return { offset: offset.toString(), timestamp: Number(firstTimestamp + record.timestampDelta), key: record.key, value: record.value, headers: Object.freeze(headers) };
}

/** What one partition's fetch answer did (`takeFetched`). */
export type Taken = 'stale' | 'out-of-range' | 'error' | 'markers' | 'records';

/**
 * Applies one partition's fetch answer, asked from `from`, to its state:
 *
 *   the state fetches from elsewhere now (reset meanwhile)  ─►  'stale', nothing changes
 *   OFFSET_OUT_OF_RANGE  ─►  'out-of-range': positions forgotten, resolved anew (the commit, else the reset policy)
 *   another error code   ─►  'error' (the caller refreshes its metadata)
 *   only markers or aborted records  ─►  'markers': the position steps past them when nothing is pending before
 *   records              ─►  'records': the prefetched batch (a batch already waiting is topped up with them)
 */
export function takeFetched(state: PartitionState, from: bigint, part: FetchResponsePartition, leaderEpoch: number, readCommitted: boolean): Taken {
  if (state.fetchPosition !== from) return 'stale';
  if (part.errorCode !== 0) {
    if (part.errorCode !== 1) return 'error';
    // OFFSET_OUT_OF_RANGE: from the commit or the reset policy again, once the batch in flight is done.
    state.position = state.fetchPosition = state.prefetched = undefined;
    return 'out-of-range';
  }
  const { messages, next } = fetchedRecords(part, from);
  if (next > from) state.fetchPosition = next;
  state.atEnd = next >= (readCommitted ? part.lastStableOffset : part.highWatermark);
  state.lastFetched = messages.length;
  if (messages.length === 0) {
    if (!state.inFlight && state.position === from) state.position = next;
    return 'markers';
  }
  // A top-up: what arrived while the partition's batch was worked joins the batch waiting for it.
  const waiting = state.prefetched;
  state.prefetched = { messages: waiting ? waiting.messages.concat(messages) : messages, highWatermark: part.highWatermark, leaderEpoch };
  return 'records';
}
