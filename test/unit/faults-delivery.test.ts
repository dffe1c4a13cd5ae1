/**
 * The fault suite's "nothing doubled" check (test/faults/delivery.ts) and its producer-state
 * rollback plan (test/faults/producer-state.ts), on made-up records: what counts as one change,
 * and the at-least-once bound docs/guarantees.md states.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { atLeastOnceBound, checkDelivery, deadLetterChange, prUpdateChange, svUpdateChange, type FaultWindow, type Published } from '../faults/delivery.js';
import { rollBackPlan } from '../faults/producer-state.js';

const src = { topic: 'src', partition: 1 };
const prUpdate = (offset: number, key = 'k1', applied = offset): Published =>
  prUpdateChange({
    topic: 'pr',
    key: Buffer.from(JSON.stringify({ id: key })),
    value: Buffer.from(JSON.stringify({ after: { id: key, __internal__kafkaInfo: { ...src, offset: String(applied) } } })),
    headers: { context: JSON.stringify({ ingestion: { topic: 'src', partitionID: 1, offset } }) },
  });
const svUpdate = (offset: number, key = 'v1'): Published =>
  svUpdateChange({ topic: 'sv', key: Buffer.from(JSON.stringify({ id: key })), value: Buffer.from(JSON.stringify({ __internal__kafkaInfo: { ...src, offset: String(offset) } })), headers: {} });
const window = (from: number, to: number, fault = 'f'): FaultWindow => ({ fault, ...src, from: BigInt(from), to: BigInt(to) });

describe('faults: what consumers see of each change', () => {
  it('names a pr-update by topic, key and its context source record, and the version by after.__internal__kafkaInfo', () => {
    const p = prUpdate(7, 'k1', 5);
    assert.equal(p.change, 'pr {"id":"k1"} src/1@7');
    assert.equal(p.announces, 'src/1@5');
    assert.deepEqual(p.source, { topic: 'src', partition: 1, offset: 7n });
  });

  it('names an sv-update by key and __internal__kafkaInfo, a dead letter by its tributary.source headers', () => {
    assert.equal(svUpdate(5).change, 'sv {"id":"v1"} src/1@5');
    const letter = deadLetterChange({ topic: 'src.dlq', key: null, value: null, headers: { 'tributary.source.topic': 'src', 'tributary.source.partition': '1', 'tributary.source.offset': '9' } });
    assert.equal(letter.change, 'src.dlq src/1@9');
  });

  it('refuses a record that does not name its source', () => {
    assert.throws(() => prUpdateChange({ topic: 'pr', key: null, value: null, headers: {} }), /without its context header/);
    assert.throws(() => svUpdateChange({ topic: 'sv', key: null, value: Buffer.from('{}'), headers: {} }), /no source record/);
  });
});

describe('faults: the at-least-once bound', () => {
  it('no fault: each pr-update and dead letter once; an sv-update as often as its version was announced', () => {
    assert.deepEqual(checkDelivery([prUpdate(1), prUpdate(2), svUpdate(2)], [], 0).violations, []);
    const twice = checkDelivery([prUpdate(1), prUpdate(1)], [], 0);
    assert.equal(twice.violations.length, 1);
    assert.match(twice.violations[0] ?? '', /published 2 times, at most 1 allowed \(0 fault windows/);
    // A source that delivered an event again: the stale event's pr-update announces the stored version (5) again.
    assert.deepEqual(checkDelivery([prUpdate(5), prUpdate(9, 'k1', 5), svUpdate(5), svUpdate(5)], [], 0).violations, []);
    assert.equal(checkDelivery([prUpdate(5), svUpdate(5), svUpdate(5)], [], 0).violations.length, 1);
    assert.equal(checkDelivery([svUpdate(4)], [], 0).violations.length, 1, 'an sv-update of a version no pr-update announced');
  });

  it('a fault: a change repeats once per window holding its source record, never outside one', () => {
    const windows = [window(10, 20, 'kill 1'), window(15, 30, 'kill 2')];
    assert.equal(atLeastOnceBound('pr-update', { ...src, offset: 12n }, windows, 2, new Map()), 2);
    assert.equal(atLeastOnceBound('pr-update', { ...src, offset: 16n }, windows, 2, new Map()), 3);
    assert.equal(atLeastOnceBound('pr-update', { ...src, offset: 30n }, windows, 2, new Map()), 1, 'a window is [from, to)');
    assert.equal(atLeastOnceBound('dead letter', { topic: 'other', partition: 1, offset: 12n }, windows, 2, new Map()), 1, 'windows are per partition');
    assert.deepEqual(checkDelivery([prUpdate(12), prUpdate(12)], windows, 2).violations, []);
    assert.equal(checkDelivery([prUpdate(5), prUpdate(5)], windows, 2).violations.length, 1);
  });

  it('an sv-update: announcements × (1 + faults)², the trigger and aggregate stages repeating once per fault each', () => {
    assert.equal(atLeastOnceBound('sv-update', { ...src, offset: 3n }, [], 1, new Map([['src/1@3', 2]])), 8);
    const report = checkDelivery([prUpdate(3), ...Array.from({ length: 4 }, () => svUpdate(3))], [], 1);
    assert.deepEqual(report.violations, []);
    assert.deepEqual(report.counts['sv-update'], { changes: 1, records: 4, repeated: 1, most: 4 });
    assert.equal(checkDelivery([prUpdate(3), ...Array.from({ length: 5 }, () => svUpdate(3))], [], 1).violations.length, 1);
  });
});

describe('faults: rolling back a partition\'s producer state', () => {
  it('copies the snapshot before the newest over the newest; nothing with fewer than two', () => {
    const files = ['00000000000000000000.log', '00000000000000000000.snapshot', '00000000000000000742.snapshot', '00000000000000000311.snapshot', 'leader-epoch-checkpoint'];
    assert.deepEqual(rollBackPlan(files), { from: '00000000000000000311.snapshot', over: '00000000000000000742.snapshot' });
    assert.equal(rollBackPlan(['00000000000000000742.snapshot', '00000000000000000000.log']), null);
  });
});
