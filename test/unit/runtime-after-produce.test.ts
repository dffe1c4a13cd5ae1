/**
 * Work a batch operator leaves for after the produce (`io.afterProduce`, used by the aggregate
 * stage for its lineage write): it runs once the batch's records are acknowledged and before the
 * lane hands back the offset to commit; when it fails transiently only it is retried (the batch's
 * work and produce are not redone); standalone (no runtime) it runs at the end of the batch.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { from, lastValueFrom, toArray } from 'rxjs';
import { TributaryError } from '../../src/errors.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { defineBatchOperator } from '../../src/stream/operators/batch.js';
import { systemClock } from '../../src/stream/runtime/clock.js';
import { processLane, type LaneDeps } from '../../src/stream/runtime/lane.js';
import type { AnyRecord } from '../../src/stream/record.js';
import { json, string } from '../../src/stream/serdes/index.js';
import { topology } from '../../src/stream/topology.js';
import type { RawBatch } from '../../src/stream/transport/types.js';

const batch: RawBatch = {
  topic: 'in',
  partition: 0,
  highWatermark: '2',
  messages: [0, 1].map((i) => ({ offset: String(i), timestamp: 0, key: Buffer.from(`k${i}`), value: Buffer.from(JSON.stringify({ n: i })), headers: {} })),
};

/** An operator that emits one record per item and leaves a step for after the produce, failing `afterFailures` times first. */
function recording(log: string[], afterFailures: number, emits = true) {
  let failures = afterFailures;
  return defineBatchOperator<AnyRecord, unknown, AnyRecord>({
    name: 'recording',
    needs: {},
    writes: emits ? [{ kind: 'topic', name: 'out' }] : [],
    decode: (record) => record.value,
    async work({ kept, items }, io) {
      log.push(`work ${items.length}`);
      if (emits) for (const record of kept) io.emit({ topic: 'out', key: null, value: Buffer.from(JSON.stringify(record.value)) });
      io.afterProduce(async () => {
        log.push('after');
        if (failures-- > 0) throw new TributaryError('TRB_STORE_WRITE', 'store busy');
      });
      return kept;
    },
  });
}

function deps(log: string[], afterFailures: number): LaneDeps {
  const t = topology('after-produce');
  t.stream('in', { name: 'in', key: string(), value: json<{ n: number }>(), retry: { initialMs: 1, maxMs: 2 } }).pipe(recording(log, afterFailures));
  return {
    definition: t.streams()[0]!,
    clock: systemClock,
    metrics: createMetrics({ defaultMetrics: false }),
    maxMessageBytes: 1_000_000,
    producer: {
      async send(messages) {
        log.push(`send ${messages.length}`);
      },
      disconnect: async () => undefined,
    },
    onDecision: () => undefined,
    onRetry: (error) => void log.push(`retry ${error.code}`),
    onFatal: () => assert.fail('nothing is fatal here'),
    onPaused: () => undefined,
  };
}

const control = { heartbeat: async () => undefined, isRunning: () => true, pause: () => undefined, resume: () => undefined };

describe('runtime: work left for after the produce', () => {
  it('runs after the records are produced and before the offset is handed back', async () => {
    const log: string[] = [];
    const result = await processLane(batch, control, deps(log, 0));
    assert.deepEqual(log, ['work 2', 'send 2', 'after']);
    assert.deepEqual(result.commit, { topic: 'in', partition: 0, offset: '2' });
  });

  it('a transient failure of it is retried alone: the work and the produce are not redone', async () => {
    const log: string[] = [];
    const result = await processLane(batch, control, deps(log, 2));
    assert.deepEqual(log, ['work 2', 'send 2', 'after', 'retry TRB_STORE_WRITE', 'after', 'retry TRB_STORE_WRITE', 'after']);
    assert.deepEqual(result.commit, { topic: 'in', partition: 0, offset: '2' });
  });

  it('standalone (no runtime, no produce: a transform) it runs at the end of the batch, before the records go on', async () => {
    const log: string[] = [];
    const op = recording(log, 0, false);
    const records = [0, 1].map((n) => ({ topic: 'in', partition: 0, offset: String(n), timestamp: 0, key: `k${n}`, value: { n }, headers: {} }) as unknown as AnyRecord);
    const out = await lastValueFrom(from(records).pipe(op, toArray()));
    assert.equal(out.length, 2);
    assert.deepEqual(log, ['work 2', 'after']);
  });
});
