/**
 * Fault injection on the real services (`npm run test:faults`; CI runs it reduced). Each scenario
 * runs customer-360 as a real `tributary run` process on its own topics and database while a
 * generated CDC history is produced, injects its fault, and must end with: views equal to the
 * oracle, projections equal to the source tables (none older than its newest event), the DLQ
 * holding exactly the injected poison records with their origin, and a healthy worker.
 *
 *   FAULTS_EVENTS (50 000)  records of the kill scenario (the others use a fifth)
 *   FAULTS_KILLS  (10)      SIGKILLs at random moments (FAULTS_SEED, default 20261124)
 *
 * Key changes sent as one update are left out of the histories: on FerretDB 1.x they are not safe
 * (docs/fastdata.md, "two writers of one key"); the oracle property tests cover them elsewhere.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { avro } from '../../src/stream/serdes/avro.js';
import type { OutgoingMessage } from '../../src/stream/transport/types.js';
import { customerSchemas } from '../../topologies/customer-360.js';
import { generateHistory, produceHistory, type History } from '../../topologies/customer-360.generator.js';
import { prng } from '../../topologies/customer-360.generator.js';
import { restartService, Scenario, sleep } from './harness.js';

const EVENTS = Number(process.env['FAULTS_EVENTS'] ?? 50_000);
const KILLS = Number(process.env['FAULTS_KILLS'] ?? 10);
const SEED = Number(process.env['FAULTS_SEED'] ?? 20261124);
const SMALL = Math.max(1_500, Math.round(EVENTS / 5));
// Per scenario: producing and processing on FerretDB (~100-200 events/s end to end on two cores,
// measured), plus a 30 s session timeout per SIGKILL before the dead member's partitions move.
const deadline = (events: number, kills = 0) => 120_000 + events * 20 + kills * 45_000;

/**
 * At most 150 customers (≈ 1 500 rows over four tables): FerretDB 1.24 pushes no `$in` down, so
 * every lookup scans its collection and the run's speed falls with the tables' size, not with the
 * number of events (docs/infra.md). More events then means more changes per row, which is what a
 * fault run needs.
 */
function historyOf(t: Scenario['t'], events: number, seed: number): History {
  return generateHistory({ seed, customers: Math.min(150, Math.max(20, Math.round(events / 40))), events, topics: t.sourceTopics, keyUpdates: false });
}

/** Produces `history` in slices of `slice` records, calling `between(i)` after each. */
async function produceInSlices(s: Scenario, history: History, slice: number, between: (index: number) => Promise<void>): Promise<void> {
  const producer = await s.control.producer();
  try {
    for (let i = 0, n = 0; i < history.length; i += slice, n++) {
      const part = Object.assign(history.slice(i, i + slice), { topics: history.topics });
      await produceHistory(producer, s.registry, part);
      await between(n);
    }
  } finally {
    await producer.disconnect();
  }
}

describe('fault injection (real Kafka, registry and FerretDB)', { concurrency: 1 }, () => {
  const scenarios: Scenario[] = [];
  after(async () => {
    for (const s of scenarios) await s.tearDown().catch(() => undefined);
  }, { timeout: 120_000 });

  it(`SIGKILL of the worker at ${KILLS} random moments during ${EVENTS} events: nothing lost, nothing doubled`, { timeout: deadline(EVENTS, KILLS) }, async () => {
    const s = new Scenario('kill');
    scenarios.push(s);
    await s.setUp();
    const history = historyOf(s.t, EVENTS, SEED);
    const random = prng(SEED);
    await s.startWorker();
    const slices = Math.max(KILLS * 2, 20);
    const slice = Math.ceil(history.length / slices);
    // Kill moments: KILLS distinct slice indexes, plus a random delay inside the slice's processing.
    const killAfter = new Set<number>();
    while (killAfter.size < Math.min(KILLS, slices - 1)) killAfter.add(Math.floor(random() * (slices - 1)));
    let kills = 0;
    await produceInSlices(s, history, slice, async (index) => {
      if (!killAfter.has(index)) return void (await sleep(200));
      await sleep(Math.floor(random() * 1_500)); // mid-batch, mid-write or mid-commit: wherever it lands
      await s.killWorker('SIGKILL');
      kills++;
      await s.startWorker();
    });
    assert.equal(kills, Math.min(KILLS, slices - 1));
    await s.caughtUp(deadline(EVENTS, KILLS) - 60_000);
    await s.assertConverged(history);
    await s.killWorker('SIGTERM'); // one worker at a time: the next scenario runs alone
  });

  /** A service restarts a quarter into the run; the worker must ride it out (retries, reconnects) and converge. */
  async function serviceRestartMidRun(label: string, service: 'kafka' | 'mongo', seed: number): Promise<void> {
    const s = new Scenario(label);
    scenarios.push(s);
    await s.setUp();
    const history = historyOf(s.t, SMALL, seed);
    await s.startWorker();
    await s.ready(); // mid-run, not mid-start
    await produceInSlices(s, history, Math.ceil(history.length / 4), async (index) => {
      if (index === 1) await restartService(service);
    });
    await s.caughtUp(deadline(SMALL));
    await s.assertConverged(history);
    assert.equal(s.worker?.child.exitCode, null, `the worker kept running through the ${service} restart`);
    await s.killWorker('SIGTERM');
  }

  it('the Kafka broker restarts mid-run: the worker reconnects and converges', { timeout: deadline(SMALL) + 120_000 }, () => serviceRestartMidRun('broker', 'kafka', SEED + 1));

  it('the database restarts mid-run: writes are retried and the worker converges', { timeout: deadline(SMALL) + 120_000 }, () => serviceRestartMidRun('db', 'mongo', SEED + 2));

  it('poison records (malformed JSON, bad Avro, unknown schema id, missing key, unknown operation, oversized) land in the DLQ, exactly, with their origin', { timeout: deadline(SMALL) }, async () => {
    const s = new Scenario('poison');
    scenarios.push(s);
    await s.setUp();
    const history = historyOf(s.t, SMALL, SEED + 3);
    await s.startWorker();
    const { customers, orders } = s.t.sourceTopics;
    const poison: Array<OutgoingMessage & { readonly code: string }> = [];
    await produceInSlices(s, history, Math.ceil(history.length / 3), async (index) => {
      if (index !== 0) return;
      // After the first slice the customers schemas are registered: a valid id exists to misuse.
      const keyBytes = (await avro<unknown>({ schema: customerSchemas.key }).serialize({ id: 'poison-c' }, { topic: customers, part: 'key', registry: s.registry })) as Buffer;
      const valueId = await s.registry.latestId(`${customers}-value`);
      const framed = (id: number, body: Buffer) => Buffer.concat([Buffer.from([0, (id >>> 24) & 255, (id >>> 16) & 255, (id >>> 8) & 255, id & 255]), body]);
      const order = (value: unknown, key: unknown = { order_id: 'poison-o' }) => ({ topic: orders, key: Buffer.from(JSON.stringify(key)), value: Buffer.from(JSON.stringify(value)) });
      const debezium = (op: string, after: Record<string, unknown> | null) => ({ before: null, after, source: { connector: 'postgresql', db: 'shop', table: 'orders', ts_ms: Date.now(), lsn: 1 }, op, ts_ms: Date.now() });
      poison.push(
        { ...order(null), value: Buffer.from('{"op": "c", "after": {not json'), code: 'TRB_DECODE' },
        { topic: customers, key: keyBytes, value: framed(valueId, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff])), code: 'TRB_DECODE' },
        { topic: customers, key: keyBytes, value: framed(2_000_000_000, Buffer.from([2, 4, 6])), code: 'TRB_SCHEMA' },
        { ...order(debezium('c', { customer_id: 'c0001', status: 'paid', total: 1 })), code: 'TRB_MISSING_KEY' },
        { ...order(debezium('x', { order_id: 'poison-o', customer_id: 'c0001', status: 'paid', total: 1 })), code: 'TRB_UNKNOWN_OPERATION' },
        { ...order(debezium('c', { order_id: 'poison-big', customer_id: 'c0001', status: 'x'.repeat(1_010_000), total: 1 })), code: 'TRB_TOO_LARGE' },
      );
      const producer = await s.control.producer();
      await producer.send(poison.map(({ code: _code, ...message }) => message));
      await producer.disconnect();
    });
    await s.caughtUp(deadline(SMALL));
    const letters = await s.assertConverged(history, poison.length);
    assert.deepEqual(letters.map((l) => l.headers['tributary.error.code']).sort(), poison.map((p) => p.code).sort(), 'each poison record dead-lettered once, with its own code');
    for (const letter of letters) {
      assert.equal(letter.topic, `${letter.headers['tributary.source.topic']}.dlq`);
      for (const header of ['tributary.source.partition', 'tributary.source.offset', 'tributary.stream', 'tributary.error.message']) assert.ok(letter.headers[header], `${header} missing on a dead letter`);
      const original = poison.find((p) => p.code === letter.headers['tributary.error.code'] && p.topic === letter.headers['tributary.source.topic'] && p.value?.equals(letter.value ?? Buffer.alloc(0)));
      assert.ok(original, `a ${letter.headers['tributary.error.code']} dead letter does not carry the original bytes of an injected record`);
    }
  });
});
