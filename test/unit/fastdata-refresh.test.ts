/**
 * Full refresh on the embedded engine: the views are damaged behind the pipeline's back (deleted,
 * overwritten, one left for a deleted customer), refreshSingleView sends one trigger per base
 * document, interrupted half-way and resumed from its checkpoint, and the running aggregate stage
 * brings every view back to what the oracle computes from the projections.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ObjectId } from 'mongodb';
import { progressLine } from '../../src/cli/commands/refresh.js';
import { isTributaryError } from '../../src/errors.js';
import { fileCheckpoint, memoryCheckpoint } from '../../src/fastdata/refresh/checkpoint.js';
import { pacer } from '../../src/fastdata/refresh/pacer.js';
import { findView, refreshSingleView } from '../../src/fastdata/refresh/refresh-view.js';
import { memoryTransport } from '../../src/stream/transport/memory/memory-transport.js';
import { TestDriver, computeViews, storedViews } from '../../src/testing/index.js';
import { customer360 } from '../../topologies/customer-360.js';
import { generateHistory, pipeHistory } from '../../topologies/customer-360.generator.js';

const t = customer360();
const partitions = Object.fromEntries(t.allTopics.map((topic) => [topic, 3]));

describe('refreshSingleView', () => {
  it('rebuilds damaged views, removes a view whose base is deleted, and resumes from its checkpoint', async () => {
    const driver = await TestDriver.start(t, { partitions });
    try {
      await pipeHistory(driver, generateHistory({ seed: 7, customers: 40, events: 600 }), { batch: 16 });
      await driver.idle(30_000);
      const views = driver.store.collection(t.customerView.name);
      const oracle = Object.fromEntries(await computeViews(t.customerView, driver.store));
      assert.deepStrictEqual(Object.fromEntries(await storedViews(t.customerView, driver.store)), oracle, 'precondition: views were right');

      // Damage: a third deleted, one overwritten, one added for a customer whose base document is DELETED.
      const stored = await views.find({});
      assert.ok(stored.length >= 20, `only ${stored.length} views`);
      await views.bulkWrite(stored.filter((_, i) => i % 3 === 0).map((d) => ({ kind: 'delete' as const, filter: { _id: d['_id'] } })));
      const victim = stored[1]!;
      await views.bulkWrite([{ kind: 'replace', filter: { _id: victim['_id'] }, document: { customer_id: victim['customer_id'], name: 'stale' } }]);
      const deletedCustomer = await driver.store.collection(t.customers.name).findOne({ __STATE__: 'DELETED' });
      assert.ok(deletedCustomer, 'the history has a deleted customer');
      await views.bulkWrite([{ kind: 'upsert', filter: { customer_id: deletedCustomer['customer_id'] }, set: { name: 'should not exist' } }]);
      assert.notDeepStrictEqual(Object.fromEntries(await storedViews(t.customerView, driver.store)), oracle);

      const producer = await memoryTransport(driver.broker).producer();
      const checkpoint = memoryCheckpoint();
      const total = await driver.store.collection(t.customers.name).count({});
      const abort = new AbortController();
      const first = await refreshSingleView({
        topology: t, view: t.customerView.name, store: driver.store, producer, batchSize: 7, ratePerSecond: 0, checkpoint, signal: abort.signal,
        onProgress: (p) => void (p.sent >= 14 && abort.abort()),
      });
      assert.equal(first.completed, false);
      assert.equal(first.sent, 14);
      assert.equal(checkpoint.load()?.sent, 14, 'the checkpoint holds the acknowledged batches');

      const second = await refreshSingleView({ topology: t, view: t.customerView.name, store: driver.store, producer, batchSize: 7, ratePerSecond: 0, checkpoint });
      assert.equal(second.completed, true);
      assert.equal(second.resumedFrom, 14);
      assert.equal(second.sent, total, 'one trigger per base document over both runs');
      assert.equal(first.sentThisRun + second.sentThisRun, total, 'nothing sent twice across the resume');
      assert.equal(checkpoint.load(), undefined, 'a finished refresh clears its checkpoint');
      assert.equal(second.topic, t.fastData.topics.svTrigger(t.customerView));

      await driver.idle(30_000);
      assert.deepStrictEqual(Object.fromEntries(await storedViews(t.customerView, driver.store)), oracle);
      await producer.disconnect();
    } finally {
      await driver.close();
    }
  });

  it('names the known views when asked for an unknown one, and refuses a checkpoint of another view', async () => {
    assert.throws(() => findView(t, 'sv_nope'), (e: unknown) => isTributaryError(e) && e.code === 'TRB_CONFIG' && /views: sv_customers/.test(e.message));
    const checkpoint = memoryCheckpoint();
    checkpoint.save({ topology: 'other', view: 'sv_customers', afterId: 'x', sent: 1, total: 2, startedAt: '' });
    const driver = await TestDriver.start(t, { partitions });
    try {
      const producer = await memoryTransport(driver.broker).producer();
      await assert.rejects(refreshSingleView({ topology: t, view: 'sv_customers', store: driver.store, producer, checkpoint }), /belongs to other\/sv_customers/);
      const restarted = await refreshSingleView({ topology: t, view: 'sv_customers', store: driver.store, producer, checkpoint, restart: true });
      assert.deepEqual([restarted.completed, restarted.sent], [true, 0]);
      await producer.disconnect();
    } finally {
      await driver.close();
    }
  });
});

describe('refresh checkpoint file', () => {
  it('round-trips ObjectId and string positions and survives as the last complete write', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'trb-refresh-')), 'sub', 'cp.json');
    const checkpoint = fileCheckpoint(file);
    assert.equal(checkpoint.load(), undefined);
    const id = new ObjectId();
    checkpoint.save({ topology: 't', view: 'v', afterId: id, sent: 500, total: 900, startedAt: '2026-01-01T00:00:00.000Z' });
    const loaded = checkpoint.load();
    assert.ok(loaded?.afterId instanceof ObjectId && loaded.afterId.equals(id));
    assert.equal(loaded.sent, 500);
    checkpoint.save({ ...loaded, afterId: 'c0042' });
    assert.equal(checkpoint.load()?.afterId, 'c0042');
    checkpoint.clear();
    assert.equal(checkpoint.load(), undefined);
  });
});

describe('pacer', () => {
  it('spaces units to the rate from the first take, without a burst after a slow spell', async () => {
    let now = 0;
    const slept: number[] = [];
    const clock = { now: () => now, sleep: async (ms: number) => void (slept.push(ms), (now += ms)) };
    const pace = pacer(100, clock);
    await pace.take(50); // starts now
    await pace.take(50); // 50 units at 100/s = 500 ms after the first
    assert.deepEqual(slept, [500]);
    now += 5_000; // idle: the allowance does not accumulate
    await pace.take(50);
    await pace.take(50);
    assert.deepEqual(slept, [500, 500]);
    const unlimited = pacer(0, clock);
    await unlimited.take(1_000_000);
    assert.deepEqual(slept, [500, 500]);
  });
});

describe('progressLine', () => {
  it('shows the bar, counts, percentage, rate and ETA', () => {
    assert.equal(progressLine({ view: 'v', sent: 250, total: 1000, sentThisRun: 250, elapsedMs: 500 }, 10), '[###.......] 250/1000 25.0% 500/s ETA 2s');
    assert.equal(progressLine({ view: 'v', sent: 0, total: 0, sentThisRun: 0, elapsedMs: 0 }, 4), '[####] 0/0 100.0% 0/s');
  });
});
