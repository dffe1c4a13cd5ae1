/**
 * Patch fan-out from the CLI on the real services: `tributary run` (a child process) runs
 * customer-360 with a product catalogue and a patch rule; renaming a product held by many customer
 * views updates them all in place — not one sv-trigger — and every view still equals the oracle.
 * A product deleted afterwards is re-aggregated the usual way.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { OutgoingMessage } from '../../src/stream/transport/types.js';
import { MongoDocumentStore } from '../../src/store/mongo/mongo-store.js';
import { confluentRegistry } from '../../src/stream/serdes/registry.js';
import { kafkaTransport } from '../../src/stream/transport/kafka/kafka-transport.js';
import { computeViews, storedViews } from '../../src/testing/index.js';
import { generateHistory, produceHistory } from '../../topologies/customer-360.generator.js';
import { startCli } from '../e2e/helpers.js';
import { caughtUp } from './kafka-env.js';
import { services, uniqueName, dropDatabase } from './services.js';

describe('patch fan-out from tributary run on Kafka and MongoDB', () => {
  const prefix = `${uniqueName('patch')}.`;
  const name = prefix.slice(0, -1);
  const database = name.replace(/[^A-Za-z0-9_]/g, '_');
  process.env['C360_PREFIX'] = prefix;
  process.env['C360_NAME'] = name;
  const store = new MongoDocumentStore({ url: services.mongoUrl, database, clientOptions: { serverSelectionTimeoutMS: 10_000 } });
  const registry = confluentRegistry({ url: services.registryUrl });
  const control = kafkaTransport({ brokers: services.kafkaBrokers, clientId: 'patch-control' });
  const env = { LOG_LEVEL: 'warn', KAFKAJS_NO_PARTITIONER_WARNING: '1', C360_PREFIX: prefix, C360_NAME: name, MONGODB_DATABASE: database, KAFKA_BROKERS: services.kafkaBrokers.join(','), SCHEMA_REGISTRY_URL: services.registryUrl, MONGODB_URL: services.mongoUrl, HTTP_PORT: '0' };
  let worker: ReturnType<typeof startCli> | undefined;

  after(async () => {
    worker?.child.kill('SIGTERM');
    await worker?.exited;
    await control.disconnect();
    await store.close().catch(() => undefined);
    await dropDatabase(database);
  }, { timeout: 60_000 });

  before(async () => {
    await control.connect();
  });

  it('renames a product held by many views with one positional update, no re-aggregation, views equal the oracle', { timeout: 600_000 }, async () => {
    const fixture = await import('./fixtures/customer-360-products.js');
    const t = fixture.default;
    await control.admin.createTopics(fixture.allTopics.map((topic) => ({ topic, partitions: 3 })));
    const product = (op: 'c' | 'u' | 'd', sku: string, name: string | null, lsn: number): OutgoingMessage => {
      const row = name === null ? null : { sku, name, price: 2.5 };
      const value = { before: op === 'c' ? null : { sku, name: 'previous', price: 2.5 }, after: op === 'd' ? null : row, source: { lsn, ts_ms: Date.now() }, op };
      return { topic: fixture.productTopic, key: Buffer.from(JSON.stringify({ sku })), value: Buffer.from(JSON.stringify(value)) };
    };
    const producer = await control.producer();
    await producer.send(Array.from({ length: 40 }, (_, i) => product('c', `SKU-${100 + i}`, `Product ${100 + i}`, 1000 + i)));
    await produceHistory(producer, registry, generateHistory({ seed: 909, customers: 80, events: 900, topics: { customers: `${prefix}crm.public.customers`, orders: `${prefix}shop.public.orders`, orderLines: `${prefix}shop.public.order_lines`, preferences: `${prefix}mkt.preferences` } }));

    worker = startCli(['run', 'test/integration/fixtures/customer-360-products.ts'], env);
    const whenCaughtUp = () =>
      caughtUp(control, t.streams(), { deadlineMs: 240_000, check: () => assert.equal(worker?.child.exitCode, null, `tributary run exited:\n${worker?.output()}`), describe: () => worker?.output() ?? '' });
    await whenCaughtUp();
    const oracle = async () => assert.deepStrictEqual(Object.fromEntries(await storedViews(fixture.customerView, store)), Object.fromEntries(await computeViews(fixture.customerView, store)));
    await oracle();

    // The most held product.
    const views = await store.collection('sv_customers').find({});
    const holders = (sku: string) => views.filter((v) => (v['orders'] as Array<{ lines: Array<{ sku: string }> }>).some((o) => o.lines.some((l) => l.sku === sku))).length;
    const sku = Array.from({ length: 40 }, (_, i) => `SKU-${100 + i}`).sort((a, b) => holders(b) - holders(a))[0] as string;
    assert.ok(holders(sku) >= 5, `${sku} is held by ${holders(sku)} views`);
    const triggerTopic = t.fastData.topics.svTrigger(fixture.customerView);
    const triggers = async () => (await control.admin.topicOffsets(triggerTopic)).reduce((n, p) => n + Number(p.high), 0);
    const triggersBefore = await triggers();

    await producer.send([product('u', sku, 'Renamed product', 5000)]);
    await whenCaughtUp();
    await oracle();
    const patched = await store.collection('sv_customers').find({ '__internal__patch.key.sku': sku });
    assert.equal(patched.length, holders(sku), 'every view holding the product was patched');
    for (const v of patched) {
      for (const line of (v['orders'] as Array<{ lines: Array<{ sku: string; productName: string }> }>).flatMap((o) => o.lines)) {
        if (line.sku === sku) assert.equal(line.productName, 'Renamed product');
      }
    }
    assert.equal(await triggers(), triggersBefore, 'no view was re-aggregated for the rename');

    // A delete is not a patch: the views are re-aggregated (productName null).
    await producer.send([product('d', sku, null, 6000)]);
    await producer.disconnect();
    await whenCaughtUp();
    await oracle();
    assert.ok((await triggers()) > triggersBefore, 'the deleted product re-aggregated its views');
  });
});
