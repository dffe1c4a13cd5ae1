/**
 * Blue/green single-view definitions from the CLI on the real services: customer-360 (definition
 * v1) runs in this process; `tributary refresh … --shadow` builds definition v2 beside the live
 * view while CDC keeps changing it; `--promote` switches; v1, still running, is fenced and its
 * pending trigger goes to v2 once v2 is deployed. The live view must end equal to the oracle of v2;
 * every view the switch changed must have had an sv-update. `--abandon` drops a second shadow.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { BuildReport, PromoteReport } from '../../src/fastdata/refresh/blue-green.js';
import type { FastDataTopology } from '../../src/fastdata/fast-data.js';
import { createLogger } from '../../src/ops/logger.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { MongoDocumentStore } from '../../src/store/mongo/mongo-store.js';
import { runTopology, type RunningTopology } from '../../src/stream/runtime/runner.js';
import { confluentRegistry } from '../../src/stream/serdes/registry.js';
import { kafkaTransport } from '../../src/stream/transport/kafka/kafka-transport.js';
import { computeViews, storedViews } from '../../src/testing/index.js';
import { customer360 } from '../../topologies/customer-360.js';
import { generateHistory, produceHistory } from '../../topologies/customer-360.generator.js';
import { caughtUp, kafkaIo } from './kafka-env.js';
import { runCli } from '../e2e/helpers.js';
import { services, topologySuite, uniqueName } from './services.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('tributary refresh --shadow / --promote / --abandon on Kafka and MongoDB', () => {
  const prefix = `${uniqueName('bluegreen')}.`;
  const name = prefix.slice(0, -1);
  const database = name.replace(/[^A-Za-z0-9_]/g, '_');
  process.env['C360_PREFIX'] = prefix;
  process.env['C360_NAME'] = name;
  const v1 = customer360({ topicPrefix: prefix, name });
  const store = new MongoDocumentStore({ url: services.mongoUrl, database, clientOptions: { serverSelectionTimeoutMS: 10_000 } });
  const registry = confluentRegistry({ url: services.registryUrl });
  const control = kafkaTransport({ brokers: services.kafkaBrokers, clientId: 'bluegreen-control' });
  const env = { ...process.env, LOG_LEVEL: 'warn', C360_PREFIX: prefix, C360_NAME: name, MONGODB_DATABASE: database, KAFKA_BROKERS: services.kafkaBrokers.join(','), SCHEMA_REGISTRY_URL: services.registryUrl, MONGODB_URL: services.mongoUrl };
  const parse = <T>(out: string): T => {
    try {
      return JSON.parse(out) as T;
    } catch (error) {
      throw new Error(`not one JSON document: ${(error as Error).message}\n${out}`, { cause: error });
    }
  };
  const refresh = (...flags: string[]) => runCli(['refresh', 'test/integration/fixtures/customer-360-v2.ts', 'sv_customers', '--rate', '0', ...flags], env);
  let running: RunningTopology | undefined;

  const start = (t: FastDataTopology) =>
    runTopology(t, {
      transport: kafkaTransport({ brokers: services.kafkaBrokers, clientId: name }),
      registry,
      store,
      logger: createLogger({ level: process.env.LOG_LEVEL ?? 'silent' }),
      metrics: createMetrics({ defaultMetrics: false }),
      consumer: { maxWaitMs: 100 },
    });
  const whenCaughtUp = (t: FastDataTopology) =>
    caughtUp(control, t.streams(), {
      deadlineMs: 90_000,
      check: () => assert.ok(running?.health().ok, `a stream failed: ${JSON.stringify(running?.health().checks)}`),
      describe: () => JSON.stringify(running?.status()),
    });
  const produce = async (seed: number, events: number) => {
    const producer = await control.producer();
    await produceHistory(producer, registry, generateHistory({ seed, customers: 60, events, topics: v1.sourceTopics }));
    await producer.disconnect();
  };

  topologySuite({ control, store, database, topics: v1.allTopics, running: () => running });

  it('builds v2 beside the live v1, promotes it without losing a change, fences v1, and abandons a second shadow', { timeout: 600_000 }, async () => {
    const { default: v2, customerViewV2 } = await import('./fixtures/customer-360-v2.js');
    running = await start(v1);
    await produce(101, 700);
    await whenCaughtUp(v1);
    assert.deepStrictEqual(Object.fromEntries(await storedViews(v1.customerView, store)), Object.fromEntries(await computeViews(v1.customerView, store)), 'precondition: v1 views right');

    // --shadow while the live view keeps changing: CDC events produced during the build.
    const changes = produce(202, 300);
    const shadow = await refresh('--shadow', '--format', 'json');
    await changes;
    assert.equal(shadow.status, 0, shadow.stdout + shadow.stderr);
    const built = parse<BuildReport>(shadow.stdout);
    assert.equal(built.complete, true);
    assert.equal(built.version, customerViewV2.version);
    assert.ok(built.diff.changed > 0, `the new map changes views: ${JSON.stringify(built.diff)}`);
    assert.ok((built.failures.counts['VALIDATION_ERROR'] ?? 0) > 0, 'customers without e-mail fail the new validate');
    await whenCaughtUp(v1);
    assert.deepStrictEqual(Object.fromEntries(await storedViews(v1.customerView, store)), Object.fromEntries(await computeViews(v1.customerView, store)), 'the live view kept v1 and kept updating');

    // The text report, once: what an operator reads.
    const text = await refresh('--shadow');
    assert.equal(text.status, 0, text.stdout + text.stderr);
    assert.match(text.stdout, /shadow of sv_customers: definition \w+ built into sv_customers__shadow/);
    assert.match(text.stdout, /against the live view: \d+ changed, \d+ added, \d+ removed, \d+ unchanged/);
    assert.match(text.stdout, /failures: \d+ \(VALIDATION_ERROR \d+\)/);

    // More live changes after the build, then --promote: they must reach the new view (catch-up).
    await produce(303, 200);
    await whenCaughtUp(v1);
    const promote = await refresh('--promote', '--grace-ms', '500', '--format', 'json');
    assert.equal(promote.status, 0, promote.stdout + promote.stderr);
    const promoted = parse<PromoteReport>(promote.stdout);
    assert.equal(promoted.version, customerViewV2.version);
    assert.deepStrictEqual(Object.fromEntries(await storedViews(customerViewV2, store)), Object.fromEntries(await computeViews(customerViewV2, store)), 'the live view is v2, caught up');

    // v1 is still running: a new change is not written in v1's shape, and not committed by it.
    await produce(404, 40);
    const deadline = Date.now() + 60_000;
    while (!running.status().some((s) => s.name === 'aggregate:sv_customers' && s.lastError?.code === 'TRB_FENCED')) {
      assert.ok(Date.now() < deadline, `v1 was never fenced: ${JSON.stringify(running.status())}`);
      await sleep(100);
    }
    await running.stop();
    running = await start(v2);
    await whenCaughtUp(v2);
    assert.deepStrictEqual(Object.fromEntries(await storedViews(customerViewV2, store)), Object.fromEntries(await computeViews(customerViewV2, store)), 'v2 took over where v1 was fenced');

    // Every view the switch changed had its sv-update.
    const io = await kafkaIo();
    try {
      const expected = promoted.diff.changed + promoted.diff.added + promoted.diff.removed;
      assert.equal(promoted.svUpdates, expected);
      const fromPromote = async () =>
        (await io.read(v1.fastData.topics.svUpdate(v1.customerView))).filter((r) => (JSON.parse(String(r.value)) as { __internal__kafkaInfo: { topic: string } }).__internal__kafkaInfo.topic === 'tributary-promote').length;
      const readDeadline = Date.now() + 60_000;
      while ((await fromPromote()) < expected) {
        assert.ok(Date.now() < readDeadline, `only ${await fromPromote()} of ${expected} promote sv-updates read`);
        await sleep(200);
      }
      assert.equal(await fromPromote(), expected);
    } finally {
      await io.close();
    }

    // A second shadow of the same (now live) definition, abandoned: nothing changes.
    assert.equal((await refresh('--shadow')).status, 0);
    const abandon = await refresh('--abandon');
    assert.equal(abandon.status, 0, abandon.stdout + abandon.stderr);
    assert.match(abandon.stdout, /dropped sv_customers__shadow/);
    assert.equal(await store.collection('sv_customers__shadow').count(), 0);
  });
});
