/**
 * customer-360 end to end on the real services: one long generated history produced to Kafka (Avro
 * customers through the schema registry), all three stages running on their own consumer groups,
 * projections and views in the document store (DocumentDB in CI). Once every group has committed everything, the views
 * must equal the oracle and every projection its source table.
 *
 * Topics, groups and the database are unique per run (a fresh `customer360({ topicPrefix })`), so
 * runs never mix; the database is dropped afterwards.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../src/ops/logger.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { MongoDocumentStore } from '../../src/store/mongo/mongo-store.js';
import { runTopology, type RunningTopology } from '../../src/stream/runtime/runner.js';
import { confluentRegistry } from '../../src/stream/serdes/registry.js';
import { kafkaTransport } from '../../src/stream/transport/kafka/kafka-transport.js';
import { computeViews, storedViews } from '../../src/testing/index.js';
import { customer360 } from '../../topologies/customer-360.js';
import { expectedProjections, generateHistory, liveProjections, produceHistory } from '../../topologies/customer-360.generator.js';
import { caughtUp } from './kafka-env.js';
import { services, topologySuite, uniqueName } from './services.js';

const EVENTS = 3_000;
const CUSTOMERS = 100;
const DEADLINE_MS = 240_000;

describe('customer-360 on Kafka, the schema registry and MongoDB', () => {
  const prefix = `${uniqueName('c360')}.`;
  const t = customer360({ topicPrefix: prefix, name: prefix.slice(0, -1) });
  const database = uniqueName('c360').replace(/[^A-Za-z0-9_]/g, '_');
  const store = new MongoDocumentStore({ url: services.mongoUrl, database, clientOptions: { serverSelectionTimeoutMS: 10_000 } });
  const registry = confluentRegistry({ url: services.registryUrl });
  const control = kafkaTransport({ brokers: services.kafkaBrokers, clientId: 'c360-control' });
  // The history includes primary-key changes sent as one update: two partitions then write the old
  // key, and the version-guarded writes must settle it (the store applies them atomically).
  const history = generateHistory({ seed: 360, customers: CUSTOMERS, events: EVENTS, topics: t.sourceTopics });
  let running: RunningTopology | undefined;

  topologySuite({ control, store, database, topics: t.allTopics, running: () => running });

  it(`builds projections and views of ${EVENTS} CDC records that match the sources and the oracle`, { timeout: DEADLINE_MS + 60_000 }, async () => {
    running = await runTopology(t, {
      transport: kafkaTransport({ brokers: services.kafkaBrokers, clientId: 'c360' }),
      registry,
      store,
      logger: createLogger({ level: process.env.LOG_LEVEL ?? 'warn' }),
      metrics: createMetrics({ defaultMetrics: false }),
      consumer: { maxWaitMs: 100 },
    });
    const producer = await control.producer();
    const started = Date.now();
    await produceHistory(producer, registry, history);

    await caughtUp(control, t.streams(), {
      deadlineMs: DEADLINE_MS - (Date.now() - started),
      check: () => assert.ok(running?.health().ok === true, `a stream failed: ${JSON.stringify(running?.health().checks)}`),
      describe: () => JSON.stringify(running?.status()),
    });

    const views = Object.fromEntries(await storedViews(t.customerView, store));
    assert.deepStrictEqual(views, Object.fromEntries(await computeViews(t.customerView, store)));
    assert.ok(Object.keys(views).length > CUSTOMERS / 2, `${Object.keys(views).length} views`);
    assert.deepStrictEqual(await liveProjections(t, store), expectedProjections(history.truth));
    const deadLetters = await running.metrics.registry.getSingleMetric('tributary_dead_letters_total')?.get();
    assert.deepStrictEqual(deadLetters?.values.filter((v) => v.value > 0) ?? [], [], 'dead letters');
  });
});
