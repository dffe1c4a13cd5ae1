import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NO_HEADERS } from '../../src/stream/transport/headers.js';
import { fetchedRecords, type FetchResponsePartition } from '../../src/stream/transport/platformatic/fetched-records.js';

/** A record batch as the library decodes it: offsets firstOffset..firstOffset+count-1. */
function batch(firstOffset: number, count: number, marker = false) {
  return {
    firstOffset: BigInt(firstOffset),
    lastOffsetDelta: count - 1,
    attributes: marker ? 0x20 : 0,
    firstTimestamp: 1_000n,
    records: Array.from({ length: count }, (_, i) => ({ offsetDelta: i, timestampDelta: BigInt(i), key: Buffer.from(`k${firstOffset + i}`), value: Buffer.from(`v${firstOffset + i}`), headers: [[Buffer.from('h'), Buffer.from('x')], [null, null]] as [Buffer | null, Buffer | null][] })),
  };
}
const partOf = (...batches: ReturnType<typeof batch>[]) => ({ partitionIndex: 0, errorCode: 0, highWatermark: 100n, records: batches }) as unknown as FetchResponsePartition;

describe('platformatic: fetched record batches → raw messages', () => {
  it("'[40..49] [50 marker] [51..60]' from 45 → messages 45..49 and 51..60, next 61", () => {
    const { messages, next } = fetchedRecords(partOf(batch(40, 10), batch(50, 1, true), batch(51, 10)), 45n);
    assert.deepEqual(messages.map((m) => m.offset), ['45', '46', '47', '48', '49', ...Array.from({ length: 10 }, (_, i) => String(51 + i))]);
    assert.equal(next, 61n);
  });

  it('keeps key, value, named headers and the timestamp of each record', () => {
    const [first] = fetchedRecords(partOf(batch(7, 2)), 7n).messages;
    assert.equal(first?.key?.toString(), 'k7');
    assert.equal(first?.value?.toString(), 'v7');
    assert.deepEqual(Object.keys(first?.headers ?? {}), ['h']);
    assert.equal(first?.timestamp, 1000);
  });

  it('a record without headers shares the frozen NO_HEADERS; one with headers gets its own object', () => {
    const bare = batch(3, 2);
    for (const r of bare.records) r.headers = [];
    const [a, b] = fetchedRecords(partOf(bare), 3n).messages;
    assert.equal(a?.headers, NO_HEADERS);
    assert.equal(b?.headers, NO_HEADERS);
    const [c, d] = fetchedRecords(partOf(batch(3, 2)), 3n).messages;
    assert.notEqual(c?.headers, d?.headers);
    assert.ok(Object.isFrozen(c?.headers), 'read-only like every record\'s headers');
  });

  it('only a marker: no message, next past it (the position may move over it)', () => {
    assert.deepEqual(fetchedRecords(partOf(batch(50, 1, true)), 50n), { messages: [], next: 51n });
  });

  it('no records at all: next stays where it was asked from', () => {
    assert.deepEqual(fetchedRecords(partOf(), 12n), { messages: [], next: 12n });
  });
});
