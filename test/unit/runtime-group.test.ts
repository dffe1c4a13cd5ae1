/**
 * Batches of several partitions worked as one (src/stream/runtime/lane.ts `processGroup`, reached
 * through `consumer.combinePartitions`): a transient produce failure retries the group with every
 * member paused and hands back each member's own offset once; a record whose policy says 'fail'
 * answers 'split' before anything is produced or counted, so the caller can work each partition alone.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TributaryError } from '../../src/errors.js';
import { ERRORS_TOTAL } from '../../src/ops/metric-names.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { map } from '../../src/stream/operators/index.js';
import { systemClock } from '../../src/stream/runtime/clock.js';
import { processGroup, type LaneDeps, type LaneMember } from '../../src/stream/runtime/lane.js';
import { json, string } from '../../src/stream/serdes/index.js';
import { toTopic } from '../../src/stream/operators/index.js';
import { topology } from '../../src/stream/topology.js';
import type { OutgoingMessage, RawBatch } from '../../src/stream/transport/types.js';

const batch = (partition: number, values: readonly unknown[], first = 0): RawBatch => ({
  topic: 'in',
  partition,
  highWatermark: String(first + values.length),
  messages: values.map((v, i) => ({ offset: String(first + i), timestamp: 0, key: Buffer.from(`k${partition}-${i}`), value: Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)), headers: {} })),
});

function member(b: RawBatch, log: string[]): LaneMember {
  return {
    batch: b,
    control: {
      heartbeat: async () => undefined,
      isRunning: () => true,
      pause: () => void log.push(`pause ${b.partition}`),
      resume: () => void log.push(`resume ${b.partition}`),
    },
  };
}

function setUp(produceFailures: number, errors: 'fail' | 'dead-letter' = 'fail') {
  const t = topology('group');
  let worked = 0;
  t.stream('in', { key: string(), value: json<{ n: number }>(), name: 'in', errors, retry: { initialMs: 1, maxMs: 2 } }).pipe(
    map((r) => {
      worked++;
      return r;
    }),
    toTopic('out', { key: string(), value: json<{ n: number }>() }),
  );
  const sends: OutgoingMessage[][] = [];
  let failing = produceFailures;
  const metrics = createMetrics({ defaultMetrics: false });
  const paused: string[] = [];
  const deps: LaneDeps = {
    definition: t.streams()[0]!,
    clock: systemClock,
    metrics,
    maxMessageBytes: 1_000_000,
    producer: {
      async send(messages) {
        sends.push([...messages]);
        if (failing-- > 0) throw new TributaryError('TRB_PRODUCE', 'leader not available');
      },
      disconnect: async () => undefined,
    },
    onDecision: () => undefined,
    onRetry: () => undefined,
    onFatal: () => assert.fail('nothing is fatal here'),
    onPaused: (value, b) => void paused.push(`${value ? 'paused' : 'running'} ${b.partition}`),
  };
  return { deps, sends, metrics, paused, worked: () => worked };
}

describe('runtime: a group of partition batches', () => {
  it('one run and one produce for three partitions; a failed produce is retried with every member paused; each member gets its own offset', async () => {
    const { deps, sends, paused, worked } = setUp(1);
    const log: string[] = [];
    const members = [member(batch(0, [{ n: 1 }, { n: 2 }], 10), log), member(batch(3, [{ n: 3 }], 40), log), member(batch(5, [{ n: 4 }, { n: 5 }, { n: 6 }], 7), log)];
    const results = await processGroup(members, deps);
    assert.notEqual(results, 'split');
    assert.deepEqual(
      (results as Array<{ commit: { partition: number; offset: string } | null }>).map((r) => r.commit && [r.commit.partition, r.commit.offset]),
      [[0, '12'], [3, '41'], [5, '10']],
    );
    assert.equal(worked(), 6, 'the operators ran once over the six records');
    assert.equal(sends.length, 2, 'one failed produce, one retry');
    assert.deepEqual(sends[1]?.map((m) => JSON.parse(m.value!.toString()).n), [1, 2, 3, 4, 5, 6], 'partitions one after the other, each in order');
    assert.deepEqual(log, ['pause 0', 'pause 3', 'pause 5', 'resume 0', 'resume 3', 'resume 5']);
    assert.deepEqual(paused, ['paused 0', 'paused 3', 'paused 5', 'running 0', 'running 3', 'running 5']);
  });

  it("a record whose policy says 'fail' in one member: 'split', nothing produced, the decision not counted yet", async () => {
    const { deps, sends, metrics } = setUp(0, 'fail');
    const log: string[] = [];
    const results = await processGroup([member(batch(0, [{ n: 1 }]), log), member(batch(1, ['{"n":']), log)], deps);
    assert.equal(results, 'split');
    assert.equal(sends.length, 0);
    assert.equal(await metrics.value(ERRORS_TOTAL, { stream: deps.definition.name, decision: 'fail' }), 0, 'counted by the partition-by-partition run that follows');
  });

  it("'dead-letter' decisions of a group that completes are counted once, with its dead letters produced", async () => {
    const { deps, sends, metrics } = setUp(0, 'dead-letter');
    const log: string[] = [];
    const results = await processGroup([member(batch(0, [{ n: 1 }]), log), member(batch(1, ['{"n":']), log)], deps);
    assert.notEqual(results, 'split');
    assert.equal(sends.length, 1, 'one produce');
    assert.deepEqual(sends[0]?.map((m) => m.topic).sort(), ['in.dlq', 'out'], "partition 0's record and partition 1's dead letter");
    assert.equal(await metrics.value(ERRORS_TOTAL, { stream: deps.definition.name, decision: 'dead-letter' }), 1);
  });
});
