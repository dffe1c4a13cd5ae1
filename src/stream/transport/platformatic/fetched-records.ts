/**
 * One partition of a Fetch answer (@platformatic/kafka's decoded record batches) → the runtime's
 * raw messages, from the offset asked for:
 *
 *   record batches [40..49] [50 marker] [51..60], from 45  ─►  messages 45..49, 51..60; next 61
 *
 * Records before `from` (a batch starts earlier than asked) and transaction markers (control
 * batches) are left out; `next` is past everything the answer held, markers included.
 */
import type { Consumer } from '@platformatic/kafka';
import { NO_HEADERS } from '../headers.js';
import type { RawMessage } from '../types.js';

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
