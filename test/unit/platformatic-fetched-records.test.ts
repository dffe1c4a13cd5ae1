import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NO_HEADERS } from '../../src/stream/transport/headers.js';
import { fetchedRecords, takeFetched, type FetchResponsePartition } from '../../src/stream/transport/platformatic/fetched-records.js';
import { newPartitionState, type PartitionState } from '../../src/stream/transport/platformatic/partition-state.js';

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

describe('platformatic: a fetch answer applied to its partition (takeFetched)', () => {
  const fetchingFrom = (offset: bigint, position = offset): PartitionState => Object.assign(newPartitionState('t', 0, false), { position, fetchPosition: offset });
  const withError = (errorCode: number) => ({ ...partOf(batch(10, 2)), errorCode }) as FetchResponsePartition;

  it('records become the prefetched batch; the fetch position moves past them and the end of the log is seen', () => {
    const state = fetchingFrom(10n);
    assert.equal(takeFetched(state, 10n, { ...partOf(batch(10, 3)), highWatermark: 13n, lastStableOffset: 12n } as FetchResponsePartition, 4, false), 'records');
    assert.deepEqual(state.prefetched?.messages.map((m) => m.offset), ['10', '11', '12']);
    assert.equal(state.prefetched?.leaderEpoch, 4);
    assert.equal(state.fetchPosition, 13n);
    assert.equal(state.lastFetched, 3);
    assert.equal(state.atEnd, true, 'next 13 = high watermark');
    assert.equal(state.position, 10n, 'the position moves only when a batch is accepted');
  });

  it('reading committed, the end is the last stable offset, not the high watermark', () => {
    const state = fetchingFrom(10n);
    takeFetched(state, 10n, { ...partOf(batch(10, 3)), highWatermark: 20n, lastStableOffset: 13n } as FetchResponsePartition, 0, true);
    assert.equal(state.atEnd, true);
    const uncommitted = fetchingFrom(10n);
    takeFetched(uncommitted, 10n, { ...partOf(batch(10, 3)), highWatermark: 20n, lastStableOffset: 13n } as FetchResponsePartition, 0, false);
    assert.equal(uncommitted.atEnd, false);
  });

  it('a batch already waiting is topped up with what arrived meanwhile', () => {
    const state = fetchingFrom(10n);
    takeFetched(state, 10n, partOf(batch(10, 2)), 0, false);
    assert.equal(takeFetched(state, 12n, partOf(batch(12, 2)), 1, false), 'records');
    assert.deepEqual(state.prefetched?.messages.map((m) => m.offset), ['10', '11', '12', '13']);
    assert.equal(state.prefetched?.leaderEpoch, 1);
  });

  it('an answer from an old position (the state was reset meanwhile) changes nothing', () => {
    const state = fetchingFrom(30n);
    assert.equal(takeFetched(state, 10n, partOf(batch(10, 2)), 0, false), 'stale');
    assert.equal(state.prefetched, undefined);
    assert.equal(state.fetchPosition, 30n);
  });

  it('OFFSET_OUT_OF_RANGE forgets the positions and what was prefetched (resolved anew); another error asks for fresh metadata', () => {
    const state = fetchingFrom(12n, 10n);
    takeFetched(state, 12n, partOf(batch(12, 1)), 0, false);
    const moved = state.fetchPosition as bigint;
    assert.equal(takeFetched(state, moved, withError(1), 0, false), 'out-of-range');
    assert.deepEqual([state.position, state.fetchPosition, state.prefetched], [undefined, undefined, undefined]);
    const other = fetchingFrom(10n);
    assert.equal(takeFetched(other, 10n, withError(6), 0, false), 'error');
    assert.deepEqual([other.position, other.fetchPosition], [10n, 10n]);
  });

  it('only markers: the position steps past them when nothing is pending before, and stays while a batch is in flight', () => {
    const idle = fetchingFrom(50n);
    assert.equal(takeFetched(idle, 50n, partOf(batch(50, 1, true)), 0, false), 'markers');
    assert.deepEqual([idle.position, idle.fetchPosition, idle.prefetched], [51n, 51n, undefined]);
    const busy = Object.assign(fetchingFrom(50n, 40n), { inFlight: true });
    takeFetched(busy, 50n, partOf(batch(50, 1, true)), 0, false);
    assert.deepEqual([busy.position, busy.fetchPosition], [40n, 51n]);
  });
});
