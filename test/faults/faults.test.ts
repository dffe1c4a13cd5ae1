/**
 * Fault injection on the real services (`npm run test:faults`; CI runs it reduced). Each scenario
 * runs customer-360 as a real `tributary run` process on its own topics and database while a
 * generated CDC history (key changes sent as one update included) is produced, injects its
 * faults — crashes are SIGKILLs, through `scripts/infra kill` — with poison records in flight, and
 * must end with: views equal to the oracle, projections equal to the source tables, the DLQ holding
 * exactly the injected poison, every pr-update, sv-update and dead letter published within the
 * at-least-once bound of docs/guarantees.md (delivery.ts), and a healthy worker.
 * Sizes: scenario-run.ts. The three-broker scenario: three-brokers.test.ts.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs, { Kafka, logLevel } from 'kafkajs';
import { prng } from '../../topologies/customer-360.generator.js';
import { retrying, Scenario, sleep } from './harness.js';
import { assertOwnServices, crash, serviceDir, start, stop } from './infra.js';
import { injectPoison, type Poison } from './poison.js';
import { rollBackProducerState } from './producer-state.js';
import { assertEnd, CLIENTS, deadline, EVENTS, historyOf, KILLS, OUTAGE_MS, produceInSlices, produceSlice, SEED, SMALL } from './scenario-run.js';

for (const client of CLIENTS) describe(`fault injection, the worker on ${client} (real Kafka, registry and DocumentDB)`, { concurrency: 1 }, () => {
  before(() => assertOwnServices());

  /** Runs a scenario and always tears it down (one worker at a time: the next scenario runs alone). */
  async function scenario(label: string, body: (s: Scenario) => Promise<void>): Promise<void> {
    const s = new Scenario(label, { client });
    try {
      await s.setUp();
      await body(s);
    } finally {
      await s.tearDown().catch(() => undefined);
    }
  }

  it(`SIGKILL of the worker at ${KILLS} random moments during ${EVENTS} events, poison among them: nothing lost, nothing doubled beyond the at-least-once bound`, { timeout: deadline(EVENTS, KILLS) }, (t) =>
    scenario('kill', async (s) => {
      const history = historyOf(s.t, EVENTS, SEED);
      const random = prng(SEED);
      await s.startWorker();
      const slices = Math.max(KILLS * 2, 20);
      // Kill moments: KILLS distinct slice indexes, plus a random delay inside the slice's processing.
      const killAfter = new Set<number>();
      while (killAfter.size < Math.min(KILLS, slices - 1)) killAfter.add(Math.floor(random() * (slices - 1)));
      const poisonAt = Math.min(...killAfter);
      let poison: Poison[] = [];
      await produceInSlices(s, history, Math.ceil(history.length / slices), async (index) => {
        if (!killAfter.has(index)) return void (await sleep(200));
        // The first kill lands while the poison records are being handled (or just after).
        if (index === poisonAt) poison = await injectPoison(s, 'kill');
        await sleep(Math.floor(random() * 1_500)); // mid-batch, mid-write or mid-commit: wherever it lands
        await s.crashWorker(`worker SIGKILL after slice ${index}`);
        await s.startWorker();
      });
      assert.equal(s.faults, killAfter.size);
      await s.caughtUp(deadline(EVENTS, KILLS) - 60_000);
      await assertEnd(t, s, history, poison);
    }));

  it('the Kafka broker is SIGKILLed mid-run with poison in flight, then again while a new worker starts: the worker rides out the crash, the new one comes up by itself when the broker does', { timeout: deadline(SMALL, 0, 2) + 120_000 }, (t) =>
    scenario('broker', async (s) => {
      const history = historyOf(s.t, SMALL, SEED + 1);
      await s.startWorker();
      await s.ready(); // mid-run, not mid-start
      const poison: Poison[] = [];
      await produceInSlices(s, history, Math.ceil(history.length / 4), async (index) => {
        if (index === 0) {
          poison.push(...(await injectPoison(s, 'broker')));
          await s.fault('broker SIGKILL mid-run', async () => {
            await crash('kafka');
            await sleep(OUTAGE_MS);
            await start('kafka');
          }, deadline(SMALL));
          assert.equal(s.worker?.child.exitCode, null, 'the worker kept running through the broker crash');
        }
        if (index === 2) {
          await s.fault('broker SIGKILL, a worker started during the outage', async () => {
            await s.killWorker('SIGTERM');
            await crash('kafka');
            const failedStarts = s.logged(/^start failed, retrying/);
            await s.startWorker();
            // It tries, fails on the missing broker, and keeps trying (TRB_CONNECT is retriable).
            for (const until = Date.now() + 90_000; s.logged(/^start failed, retrying/) === failedStarts; await sleep(250)) {
              assert.ok(Date.now() < until, `the worker started during the outage never tried to connect\n${s.worker?.output().slice(-3000) ?? ''}`);
              assert.equal(s.worker?.child.exitCode, null, `the worker exited during the outage\n${s.worker?.output().slice(-3000) ?? ''}`);
            }
            assert.equal((await fetch(`http://127.0.0.1:${s.worker?.port}/-/ready`)).status, 503, 'not ready while the broker is down');
            await start('kafka');
            await s.ready(120_000); // by itself: nothing but the broker's return
          }, deadline(SMALL));
        }
      });
      await s.caughtUp(deadline(SMALL));
      await assertEnd(t, s, history, poison);
    }));

  it('a producer whose state the broker forgot is replaced: the broker answers OUT_OF_ORDER_SEQUENCE_NUMBER for ever to a kafkajs producer, the worker replaces its own and converges', { timeout: deadline(SMALL, 0, 1) + 120_000 }, (t) =>
    scenario('producer', async (s) => {
      const history = historyOf(s.t, SMALL, SEED + 4);
      const kafka = new Kafka({ brokers: [...s.brokers], logLevel: logLevel.NOTHING });
      const admin = kafka.admin();
      await admin.connect();
      // Segments roll on the first write a second after the last roll: every roll leaves a producer-state snapshot to roll back to.
      const canary = `${s.prefix}canary`;
      await retrying(() => admin.createTopics({ topics: [{ topic: canary, numPartitions: 1 }], waitForLeaders: true }));
      await retrying(() => admin.alterConfigs({ validateOnly: false, resources: [...s.outputTopics, canary].map((name) => ({ type: kafkajs.ConfigResourceTypes.TOPIC, name, configEntries: [{ name: 'segment.ms', value: '1000' }] })) }));
      const plain = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await plain.connect();
      const sendCanary = (value: string) => plain.send({ topic: canary, acks: -1, messages: [{ key: 'canary', value }] });
      try {
        await s.startWorker();
        await s.ready();
        const slice = Math.ceil(history.length / 8);
        // The worker's producers write over several seconds (several segment rolls), as does the canary.
        for (let i = 0; i < 3; i++) {
          await produceSlice(s, Object.assign(history.slice(i * slice, (i + 1) * slice), { topics: history.topics }));
          await sendCanary(`before ${i}`);
          await sleep(1_500);
        }
        await s.caughtUp(deadline(SMALL));
        const replacedBefore = s.logged(/^Kafka producer replaced/);
        let next = 3; // the next of the 8 slices to produce
        await s.fault('broker restart with its producer state rolled back', async () => {
          await stop('kafka');
          const rolled = await rollBackProducerState(`${await serviceDir('kafka')}/data`, [...s.outputTopics, canary]);
          assert.ok(rolled.includes(`${canary}-0`) && rolled.length > 1, `producer state rolled back for: ${rolled.join(', ')}`);
          await start('kafka');
          // The plain kafkajs producer is stuck: the same answer to every send.
          for (let i = 0; i < 3; i++) await assert.rejects(sendCanary(`after ${i}`), (e: { type?: string }) => e.type === 'OUT_OF_ORDER_SEQUENCE_NUMBER');
          // A worker producer meets the forgotten state at its next send to a partition it wrote last,
          // which slice that is depends on which of its producers takes which send (the platformatic
          // transport keeps several): slices are produced, one at a time, until the replacement is
          // logged, all inside the fault's window (a send refused half-way is published again).
          while (next < 8 && s.logged(/^Kafka producer replaced/) === replacedBefore) {
            await produceSlice(s, Object.assign(history.slice(next * slice, (next + 1) * slice), { topics: history.topics }));
            next++;
            await s.caughtUp(deadline(SMALL));
          }
        }, deadline(SMALL));
        // The path fired: the worker logged the replacement (src/stream/transport/*/…-transport.ts).
        assert.ok(s.logged(/^Kafka producer replaced/) > replacedBefore, `the worker replaced a producer after the broker forgot its state (slices 3 to ${next - 1} produced after the restart)`);
        t.diagnostic(`a worker producer was replaced after slice ${next - 1} (slices 3 to ${next - 1} produced after the restart)`);
        if (next < 8) await produceSlice(s, Object.assign(history.slice(next * slice), { topics: history.topics }));
        await s.caughtUp(deadline(SMALL));
        await assertEnd(t, s, history, []);
      } finally {
        await plain.disconnect().catch(() => undefined);
        await admin.disconnect().catch(() => undefined);
      }
    }));

  it('the database crashes mid-run with poison in flight: PostgreSQL (postmaster and backends) SIGKILLed and recovering by itself, later the DocumentDB gateway SIGKILLed: writes are retried and the worker converges', { timeout: deadline(SMALL, 0, 2) + 120_000 }, (t) =>
    scenario('db', async (s) => {
      const history = historyOf(s.t, SMALL, SEED + 2);
      await s.startWorker();
      await s.ready();
      const poison: Poison[] = [];
      await produceInSlices(s, history, Math.ceil(history.length / 4), async (index) => {
        if (index === 0) {
          poison.push(...(await injectPoison(s, 'db')));
          await s.fault('PostgreSQL SIGKILL mid-run', async () => {
            await crash('documentdb');
            await sleep(OUTAGE_MS);
            await start('documentdb');
          }, deadline(SMALL));
        }
        if (index === 2) {
          await s.fault('gateway SIGKILL mid-run', async () => {
            await crash('mongo');
            await sleep(OUTAGE_MS);
            await start('mongo');
          }, deadline(SMALL));
        }
      });
      await s.caughtUp(deadline(SMALL));
      await assertEnd(t, s, history, poison);
      assert.equal(s.worker?.child.exitCode, null, 'the worker kept running through both crashes');
    }));

  it('poison records (malformed JSON, bad Avro, unknown schema id, missing key, unknown operation, oversized) with no fault: the DLQ holds exactly them, once each; each pr-update is published once, each sv-update once per announcement of its version', { timeout: deadline(SMALL) }, (t) =>
    scenario('poison', async (s) => {
      const history = historyOf(s.t, SMALL, SEED + 3);
      await s.startWorker();
      let poison: Poison[] = [];
      await produceInSlices(s, history, Math.ceil(history.length / 3), async (index) => {
        // After the first slice the customers schemas are registered: a valid id exists to misuse.
        if (index === 0) poison = await injectPoison(s, 'alone');
      });
      await s.caughtUp(deadline(SMALL));
      await assertEnd(t, s, history, poison);
      assert.equal(s.faults, 0);
      const letters = await s.deadLetters();
      assert.equal(letters.length, poison.length, 'no fault: each poison record dead-lettered once');
    }));
});
