/**
 * A chain of single views from the CLI on the real services: `tributary run` (a child process)
 * runs customer-360 with sv_orders feeding sv_customer_stats; it is killed with SIGKILL while CDC
 * events are still flowing through the chain (no drain, no commit of what was in flight), started
 * again, and given the rest of the history. Both views must end equal to the oracle: sv_orders from
 * the projections, sv_customer_stats from the stored sv_orders.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MongoDocumentStore } from '../../src/store/mongo/mongo-store.js';
import { confluentRegistry } from '../../src/stream/serdes/registry.js';
import { kafkaTransport } from '../../src/stream/transport/kafka/kafka-transport.js';
import { computeViews, storedViews } from '../../src/testing/index.js';
import { generateHistory, produceHistory } from '../../topologies/customer-360.generator.js';
import { startCli } from '../e2e/helpers.js';
import { caughtUp, pending } from './kafka-env.js';
import { services, uniqueName, dropDatabase } from './services.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a chain of single views killed mid-way (tributary run, SIGKILL) on Kafka and MongoDB', () => {
  const prefix = `${uniqueName('chain')}.`;
  const name = prefix.slice(0, -1);
  const database = name.replace(/[^A-Za-z0-9_]/g, '_');
  process.env['C360_PREFIX'] = prefix;
  process.env['C360_NAME'] = name;
  const store = new MongoDocumentStore({ url: services.mongoUrl, database, clientOptions: { serverSelectionTimeoutMS: 10_000 } });
  const registry = confluentRegistry({ url: services.registryUrl });
  const control = kafkaTransport({ brokers: services.kafkaBrokers, clientId: 'chain-control' });
  const env = { LOG_LEVEL: 'warn', KAFKAJS_NO_PARTITIONER_WARNING: '1', C360_PREFIX: prefix, C360_NAME: name, MONGODB_DATABASE: database, KAFKA_BROKERS: services.kafkaBrokers.join(','), SCHEMA_REGISTRY_URL: services.registryUrl, MONGODB_URL: services.mongoUrl, HTTP_PORT: '0' };
  const workers: Array<ReturnType<typeof startCli>> = [];

  before(async () => {
    await control.connect();
  });

  after(async () => {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGTERM');
    await Promise.all(workers.map((w) => w.exited));
    await control.disconnect();
    await store.close().catch(() => undefined);
    await dropDatabase(database);
  }, { timeout: 60_000 });

  it('ends with both views equal to the oracle after a SIGKILL in the middle of the chain', { timeout: 600_000 }, async () => {
    const fixture = await import('./fixtures/customer-360-chain.js');
    const t = fixture.default;
    await control.admin.createTopics(fixture.allTopics.map((topic) => ({ topic, partitions: 3 })));
    const topics = { customers: `${prefix}crm.public.customers`, orders: `${prefix}shop.public.orders`, orderLines: `${prefix}shop.public.order_lines`, preferences: `${prefix}mkt.preferences` };
    const history = generateHistory({ seed: 4242, customers: 100, events: 2400, topics });
    const producer = await control.producer();
    // Slices keep the history's topics (produceHistory picks each topic's serdes by them).
    const slice = (from: number, to?: number) => Object.assign(history.slice(from, to), { topics: history.topics });
    let sent = Math.floor(history.length * 0.6);

    const worker = startCli(['run', 'test/integration/fixtures/customer-360-chain.ts'], env);
    workers.push(worker);
    await produceHistory(producer, registry, slice(0, sent), { batch: 100 });
    // Kill once the end of the chain is being written and records are still in flight.
    const deadline = Date.now() + 120_000;
    for (let stats = 0, inFlight = 0, lagError = ''; ; ) {
      assert.ok(Date.now() < deadline, `the chain never got going (${stats} stats views, ${inFlight} records in flight${lagError}, ${sent} of ${history.length} events sent):\n${worker.output()}`);
      assert.equal(worker.child.exitCode, null, worker.output());
      stats = await store.collection('sv_customer_stats').count({});
      inFlight = await pending(control, t.streams()).catch((error: unknown) => {
        lagError = ` (last lag read failed: ${String(error)})`;
        return 0;
      });
      if (stats > 0 && inFlight > 0) break;
      if (stats > 0 && sent < history.length) {
        // The chain caught up before it was seen busy: more records, so the kill finds some in flight.
        const more = Math.min(history.length, sent + 100);
        await produceHistory(producer, registry, slice(sent, more), { batch: 100 });
        sent = more;
        continue;
      }
      await sleep(50);
    }
    worker.child.kill('SIGKILL');
    await worker.exited;
    const stillPending = await pending(control, t.streams());
    assert.ok(stillPending > 0, 'killed with records not yet committed');

    const restarted = startCli(['run', 'test/integration/fixtures/customer-360-chain.ts'], env);
    workers.push(restarted);
    await produceHistory(producer, registry, slice(sent), { batch: 200 });
    await producer.disconnect();
    await caughtUp(control, t.streams(), { deadlineMs: 300_000, check: () => assert.equal(restarted.child.exitCode, null, restarted.output()), describe: () => restarted.output() });

    for (const view of [fixture.orderView, fixture.statsView]) {
      assert.deepStrictEqual(Object.fromEntries(await storedViews(view, store)), Object.fromEntries(await computeViews(view, store)), `${view.name} equals the oracle`);
    }
    const stats = await storedViews(fixture.statsView, store);
    assert.ok([...stats.values()].some((s) => Number(s['orders']) > 0), 'customers with orders in their stats');
  });
});
