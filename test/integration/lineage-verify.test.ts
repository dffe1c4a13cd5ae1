/**
 * `tributary explain` and `tributary verify` from the CLI on the real services: customer-360 runs
 * in this process; explain names a customer's view, every projection row in it with its Debezium
 * position (topic, partition, offset, LSN) and the last trigger; verify finds views damaged behind
 * the pipeline's back, `--retrigger` has the running aggregate stage repair them, and a second
 * verify is clean (exit 0) and equal to the oracle.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MongoClient } from 'mongodb';
import type { VerifyReport } from '../../src/fastdata/refresh/verify-views.js';
import { lineageWrite, writeLineage, type Explanation } from '../../src/fastdata/singleview/lineage.js';
import type { SvTrigger } from '../../src/fastdata/singleview/events.js';
import { isTributaryError } from '../../src/errors.js';
import type { WriteOperation } from '../../src/store/types.js';
import { createLogger } from '../../src/ops/logger.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { MongoDocumentStore } from '../../src/store/mongo/mongo-store.js';
import { runTopology, type RunningTopology } from '../../src/stream/runtime/runner.js';
import { confluentRegistry } from '../../src/stream/serdes/registry.js';
import { kafkaTransport } from '../../src/stream/transport/kafka/kafka-transport.js';
import { computeViews, storedViews } from '../../src/testing/index.js';
import { customer360 } from '../../topologies/customer-360.js';
import { generateHistory, produceHistory } from '../../topologies/customer-360.generator.js';
import { caughtUp } from './kafka-env.js';
import { runCli } from '../e2e/helpers.js';
import { services, topologySuite, uniqueName } from './services.js';

describe('tributary explain / verify on Kafka and MongoDB', () => {
  const prefix = `${uniqueName('lineage')}.`;
  const name = prefix.slice(0, -1);
  const database = name.replace(/[^A-Za-z0-9_]/g, '_');
  const t = customer360({ topicPrefix: prefix, name });
  const store = new MongoDocumentStore({ url: services.mongoUrl, database, clientOptions: { serverSelectionTimeoutMS: 10_000 } });
  const registry = confluentRegistry({ url: services.registryUrl });
  const control = kafkaTransport({ brokers: services.kafkaBrokers, clientId: 'lineage-control' });
  const env = { ...process.env, LOG_LEVEL: 'warn', C360_PREFIX: prefix, C360_NAME: name, MONGODB_DATABASE: database, KAFKA_BROKERS: services.kafkaBrokers.join(','), SCHEMA_REGISTRY_URL: services.registryUrl, MONGODB_URL: services.mongoUrl };
  const tributary = (...args: string[]) => runCli(args, env);
  const fixture = 'test/integration/fixtures/customer-360-scaled.ts';
  let running: RunningTopology | undefined;

  topologySuite({ control, store, database, topics: t.allTopics, running: () => running });

  const whenCaughtUp = () =>
    caughtUp(control, t.streams(), { deadlineMs: 180_000, check: () => assert.ok(running?.health().ok, JSON.stringify(running?.health().checks)), describe: () => JSON.stringify(running?.status()) });

  it('explains a view down to Debezium positions, finds drift and repairs it', { timeout: 600_000 }, async () => {
    // A lineage collection of the earlier layout (ObjectId _id, a unique key index) is dropped at start:
    // its old record of a customer the history writes would otherwise refuse the new one.
    await store.connect();
    const legacy = store.collection('sv_customers-lineage');
    await legacy.createIndexes([{ name: 'sv_key_index', fields: { customer_id: 1 }, unique: true }]);
    await legacy.bulkWrite([{ kind: 'insert', document: { customer_id: 'legacy', outcome: 'upsert' } }]);
    running = await runTopology(t, {
      transport: kafkaTransport({ brokers: services.kafkaBrokers, clientId: name }),
      registry,
      store,
      logger: createLogger({ level: process.env.LOG_LEVEL ?? 'silent' }),
      metrics: createMetrics({ defaultMetrics: false }),
      consumer: { maxWaitMs: 100 },
    });
    const producer = await control.producer();
    await produceHistory(producer, registry, generateHistory({ seed: 515, customers: 50, events: 600, topics: t.sourceTopics }));
    await producer.disconnect();
    await whenCaughtUp();
    const records = await store.collection('sv_customers-lineage').find({});
    assert.ok(records.length > 0 && records.every((r) => r['_id'] === r['customer_id']), 'every lineage record keyed by its customer_id, the earlier one gone');

    // explain: a customer with orders.
    const withOrders = (await store.collection('sv_customers').find({})).find((v) => Array.isArray(v['orders']) && (v['orders'] as Array<{ lines: unknown[] }>).some((o) => o.lines.length > 0));
    assert.ok(withOrders, 'a customer with orders that have lines');
    const id = String(withOrders['customer_id']);
    const json = await tributary('explain', fixture, 'sv_customers', id, '--format', 'json');
    assert.equal(json.status, 0, json.stdout + json.stderr);
    const e = JSON.parse(json.stdout) as Explanation;
    assert.equal((e.document as Record<string, unknown>)['customer_id'], id);
    const base = e.sources.find((s) => s.path === '$base');
    assert.deepEqual([base?.projection, base?.position.topic, base?.position.counterType], ['pr_customers', t.sourceTopics.customers, 'lsn']);
    assert.ok(typeof base?.position.counter === 'number' && Number(base.position.offset) >= 0);
    const orders = e.sources.filter((s) => s.path === 'orders');
    assert.equal(orders.length, (withOrders['orders'] as unknown[]).length, 'one source row per order in the view');
    assert.ok(orders.every((o) => o.position.topic === t.sourceTopics.orders && o.position.counterType === 'lsn'));
    assert.ok(e.sources.some((s) => s.path === 'orders.lines'), 'the lines of the orders too');
    const trigger = (e.lineage as Record<string, Record<string, unknown>>)['trigger'];
    assert.ok(trigger && Object.values(t.sourceTopics).includes(String((trigger['kafkaInfo'] as Record<string, unknown>)['topic'])), `the last trigger names its ingestion record: ${JSON.stringify(trigger)}`);
    const text = await tributary('explain', fixture, 'sv_customers', id);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /last rebuilt .* by a change of pr_\w+ /);
    assert.match(text.stdout, new RegExp(`\\$base\\s+pr_customers \\{"customer_id":"${id}"\\}\\s+${t.sourceTopics.customers.replace(/\./g, '\\.')}\\[\\d\\]@\\d+\\s+lsn \\d+`));

    // verify: clean, then damaged, then repaired through --retrigger.
    const clean = await tributary('verify', fixture, 'sv_customers', '--rate', '0');
    assert.equal(clean.status, 0, clean.stdout + clean.stderr);
    assert.match(clean.stdout, /drifted: 0/);
    const client = new MongoClient(services.mongoUrl, { serverSelectionTimeoutMS: 10_000 });
    try {
      const views = client.db(database).collection('sv_customers');
      const ids = (await views.find({}, { projection: { customer_id: 1 } }).toArray()).map((d) => d['customer_id'] as string);
      await views.updateOne({ customer_id: ids[0] }, { $set: { name: 'stale' } });
      await views.deleteOne({ customer_id: ids[1] });
      await views.insertOne({ customer_id: 'nobody', name: 'ghost', __STATE__: 'PUBLIC' });
    } finally {
      await client.close();
    }
    const damaged = await tributary('verify', fixture, 'sv_customers', '--rate', '0', '--format', 'json', '--retrigger');
    assert.equal(damaged.status, 3, damaged.stdout + damaged.stderr);
    const report = JSON.parse(damaged.stdout) as VerifyReport & { retriggered: number };
    assert.deepEqual(report.drifts.map((d) => d.kind).sort(), ['changed', 'extra', 'missing']);
    assert.deepEqual(report.drifts.find((d) => d.kind === 'changed')?.fields, ['name']);
    assert.equal(report.retriggered, 3);
    await whenCaughtUp();
    const repaired = await tributary('verify', fixture, 'sv_customers', '--rate', '0');
    assert.equal(repaired.status, 0, repaired.stdout + repaired.stderr);
    assert.deepStrictEqual(Object.fromEntries(await storedViews(t.customerView, store)), Object.fromEntries(await computeViews(t.customerView, store)));
  });

  it('a lineage write that meets the earlier layout again (a rolling update) removes its record and lands on the retry: DocumentDB reports the duplicate key as code 11000', async () => {
    const view = t.customerView;
    const collection = store.collection('sv_customers-rolling-lineage');
    await collection.createIndexes([{ name: 'sv_key_index', fields: { customer_id: 1 }, unique: true }]);
    await collection.bulkWrite([{ kind: 'insert', document: { customer_id: 'c-rolling', outcome: 'upsert' } }]);
    const record = lineageWrite(view, { customer_id: 'c-rolling' }, { singleViewIdentifier: { customer_id: 'c-rolling' } } as unknown as SvTrigger, 'upsert', new Date());
    const write = (_name: string, operations: readonly WriteOperation[]) => collection.bulkWrite(operations);
    const first = await writeLineage(view, [record], write).then(() => undefined, (e: unknown) => e);
    assert.ok(isTributaryError(first) && first.retriable, `the duplicate key is retried: ${String(first)}`);
    await writeLineage(view, [record], write);
    assert.deepEqual((await collection.find({})).map((r) => [r['_id'], r['customer_id']]), [['c-rolling', 'c-rolling']]);
  });
});
