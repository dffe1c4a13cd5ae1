/**
 * `tributary refresh` against the real services: customer-360 runs (all stages, in this process),
 * the views are damaged behind its back, then the CLI refresh is interrupted with SIGINT part-way
 * (exit 130, checkpoint kept) and run again (it resumes). Every customer view must end equal to the
 * oracle, the view of a deleted customer must be gone, and the checkpoint removed.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('tributary refresh on Kafka and MongoDB', () => {
  const prefix = `${uniqueName('refresh')}.`;
  const name = prefix.slice(0, -1);
  const t = customer360({ topicPrefix: prefix, name });
  const database = name.replace(/[^A-Za-z0-9_]/g, '_');
  const store = new MongoDocumentStore({ url: services.mongoUrl, database, clientOptions: { serverSelectionTimeoutMS: 10_000 } });
  const registry = confluentRegistry({ url: services.registryUrl });
  const control = kafkaTransport({ brokers: services.kafkaBrokers, clientId: 'refresh-control' });
  const checkpoint = join(mkdtempSync(join(tmpdir(), 'trb-refresh-')), 'checkpoint.json');
  const env = { ...process.env, LOG_LEVEL: 'warn', C360_PREFIX: prefix, C360_NAME: name, MONGODB_DATABASE: database, KAFKA_BROKERS: services.kafkaBrokers.join(','), SCHEMA_REGISTRY_URL: services.registryUrl, MONGODB_URL: services.mongoUrl };
  const args = ['bin/tributary.js', 'refresh', 'test/integration/fixtures/customer-360-scaled.ts', 'sv_customers', '--checkpoint', checkpoint, '--batch-size', '10'];
  let running: RunningTopology | undefined;

  topologySuite({ control, store, database, topics: t.allTopics, running: () => running });

  const whenCaughtUp = (deadlineMs: number) =>
    caughtUp(control, t.streams(), {
      deadlineMs,
      check: () => assert.ok(running?.health().ok, `a stream failed: ${JSON.stringify(running?.health().checks)}`),
      describe: () => JSON.stringify(running?.status()),
    });

  it('rebuilds every damaged customer view, resuming after an interruption', { timeout: 300_000 }, async () => {
    running = await runTopology(t, {
      transport: kafkaTransport({ brokers: services.kafkaBrokers, clientId: name }),
      registry,
      store,
      logger: createLogger({ level: process.env.LOG_LEVEL ?? 'warn' }),
      metrics: createMetrics({ defaultMetrics: false }),
      consumer: { maxWaitMs: 100 },
    });
    const producer = await control.producer();
    await produceHistory(producer, registry, generateHistory({ seed: 77, customers: 80, events: 900, topics: t.sourceTopics }));
    await producer.disconnect();
    await whenCaughtUp(180_000);
    const oracle = Object.fromEntries(await computeViews(t.customerView, store));
    assert.deepStrictEqual(Object.fromEntries(await storedViews(t.customerView, store)), oracle, 'precondition: views were right');

    // Damage behind the pipeline's back: a third of the views deleted, one overwritten, one added for a deleted customer.
    const client = new MongoClient(services.mongoUrl, { serverSelectionTimeoutMS: 10_000 });
    try {
      const views = client.db(database).collection(t.customerView.name);
      const ids = (await views.find({}, { projection: { _id: 1 } }).toArray()).map((d) => d._id);
      assert.ok(ids.length > 30, `${ids.length} views`);
      await views.deleteMany({ _id: { $in: ids.filter((_, i) => i % 3 === 0) } });
      await views.updateOne({ _id: ids[1] }, { $set: { name: 'stale', orders: [] } });
      const gone = await client.db(database).collection(t.customers.name).findOne({ __STATE__: 'DELETED' });
      assert.ok(gone, 'the history has a deleted customer');
      await views.insertOne({ customer_id: gone['customer_id'], name: 'should not exist' });
    } finally {
      await client.close();
    }
    assert.notDeepStrictEqual(Object.fromEntries(await storedViews(t.customerView, store)), oracle);
    const total = await store.collection(t.customers.name).count({});

    // First run: slow (40 triggers/s), interrupted once the checkpoint shows two batches.
    const first = spawn(process.execPath, [...args, '--rate', '40'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let firstOutput = '';
    first.stdout.on('data', (c: Buffer) => (firstOutput += c.toString()));
    first.stderr.on('data', (c: Buffer) => (firstOutput += c.toString()));
    const firstExit = new Promise<number | null>((resolve) => first.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 60_000;
    while (!(existsSync(checkpoint) && (JSON.parse(readFileSync(checkpoint, 'utf8')) as { sent: number }).sent >= 20)) {
      assert.ok(Date.now() < deadline, `no checkpoint with 20 triggers sent:\n${firstOutput}`);
      await sleep(100);
    }
    first.kill('SIGINT');
    assert.equal(await firstExit, 130, firstOutput);
    assert.match(firstOutput, /interrupted: \d+ of \d+ sent; checkpoint kept/);
    const kept = JSON.parse(readFileSync(checkpoint, 'utf8')) as { sent: number; total: number; view: string };
    assert.equal(kept.view, 'sv_customers');
    assert.ok(kept.sent >= 20 && kept.sent < total, `checkpoint says ${kept.sent} of ${total}`);

    // Second run: resumes, finishes, removes the checkpoint.
    const second = await runCli([...args.slice(1), '--rate', '0'], env);
    assert.equal(second.status, 0, second.stdout + second.stderr);
    assert.match(second.stdout, new RegExp(`resuming from .*checkpoint\\.json: ${kept.sent} of ${total} already sent`));
    assert.match(second.stdout, new RegExp(`done: ${total - kept.sent} triggers sent in [\\d.]+ s \\(${total} in total for this refresh\\)`));
    assert.ok(!existsSync(checkpoint), 'a finished refresh removes its checkpoint');

    await whenCaughtUp(120_000);
    assert.deepStrictEqual(Object.fromEntries(await storedViews(t.customerView, store)), oracle);
  });
});
