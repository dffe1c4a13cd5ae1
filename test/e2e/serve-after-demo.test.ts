/**
 * Issue #7's acceptance as an operator runs it: `tributary demo --real` builds customer-360 on the
 * real services, then `tributary serve` (a separate process that connects only to the store) answers
 * for pr_customers and sv_customers — counts, filters, a document by id, export and keyset paging
 * — with bodies equal to what the document store holds, and a valid OpenAPI 3 document.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { services } from '../integration/services.js';
import { cli, freePort, startCli, until } from './helpers.js';

type Doc = Record<string, unknown>;

describe('tributary serve after the customer-360 demo on the real services', () => {
  let database: string | undefined;
  let prefix: string | undefined;
  after(async () => {
    const client = new MongoClient(services.mongoUrl, { serverSelectionTimeoutMS: 10_000 });
    if (database) await client.db(database).dropDatabase().catch(() => undefined);
    await client.close();
    if (prefix) {
      const admin = new Kafka({ brokers: services.kafkaBrokers, logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${prefix}.`));
      await admin.deleteTopics({ topics }).catch(() => undefined);
      await admin.disconnect();
    }
  });

  it('answers with what the store holds, pages every view exactly once and documents itself', { timeout: 300_000 }, async () => {
    const demo = cli(['demo', '--real', '--events', '1500', '--customers', '60'], { KAFKA_BROKERS: services.kafkaBrokers.join(','), SCHEMA_REGISTRY_URL: services.registryUrl, MONGODB_URL: services.mongoUrl });
    const demoOutput = demo.stdout + demo.stderr;
    database = /database (\S+)/.exec(demoOutput)?.[1];
    prefix = /topics (demo[a-z0-9]+)\.\*/.exec(demoOutput)?.[1];
    assert.equal(demo.status, 0, demoOutput);
    assert.match(demoOutput, /Check: views match the oracle/);
    assert.ok(database, `no database in the demo's output:\n${demoOutput}`);

    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const serve = startCli(['serve', 'topologies/customer-360.ts', '--port', String(port)], { LOG_LEVEL: 'warn', MONGODB_URL: services.mongoUrl, MONGODB_DATABASE: database });
    const client = new MongoClient(services.mongoUrl, { serverSelectionTimeoutMS: 10_000 });
    try {
      await until('serve to be ready', async () => ((await fetch(`${base}/-/ready`)).ok ? true : undefined), 60_000);
      const db = client.db(database);
      const get = async (path: string, headers: Record<string, string> = {}) => {
        const response = await fetch(`${base}${path}`, { headers });
        return { status: response.status, headers: response.headers, text: await response.text() };
      };

      const openapi = JSON.parse((await get('/documentation/json')).text) as { openapi: string; paths: Record<string, unknown> };
      assert.match(openapi.openapi, /^3\.\d+\.\d+$/);
      for (const path of ['/pr-customers/', '/pr-customers/count', '/pr-customers/{id}', '/sv-customers/', '/sv-customers/export']) assert.ok(openapi.paths[path], `OpenAPI has no ${path}`);

      for (const [route, collection] of [['pr-customers', 'pr_customers'], ['sv-customers', 'sv_customers']] as const) {
        const expected = await db.collection(collection).countDocuments({ __STATE__: 'PUBLIC' });
        assert.ok(expected > 10, `${collection} holds ${expected} public documents`);
        assert.equal((await get(`/${route}/count`)).text, String(expected), `${route}/count`);
        const exported = (await get(`/${route}/export`)).text.trim().split('\n');
        assert.equal(exported.length, expected, `${route}/export lines`);
        // Keyset paging through the whole collection: every document once.
        const seen: string[] = [];
        let cursor = ''; // an empty _after starts a keyset walk in _id order (docs/serve.md)
        for (let page = 0; page < 100; page++) {
          const response = await get(`/${route}/?_l=7&_after=${encodeURIComponent(cursor)}`);
          assert.equal(response.status, 200, response.text);
          const docs = JSON.parse(response.text) as Doc[];
          seen.push(...docs.map((d) => String(d['customer_id'])));
          const next = response.headers.get('x-next-cursor');
          if (!next || docs.length < 7) break;
          cursor = next;
        }
        assert.equal(seen.length, expected, `${route}: paged ${seen.length} of ${expected}`);
        assert.equal(new Set(seen).size, expected, `${route}: a document came twice`);
      }

      // A view by id equals the stored document; a filter inside the orders array matches what the store finds.
      const stored = (await db.collection('sv_customers').findOne({ __STATE__: 'PUBLIC', 'orders.0': { $exists: true } })) as Doc;
      const byId = JSON.parse((await get(`/sv-customers/${String(stored['_id'])}`)).text) as Doc;
      assert.equal(byId['customer_id'], stored['customer_id']);
      assert.deepEqual(JSON.parse(JSON.stringify(byId['orders'])), JSON.parse(JSON.stringify(stored['orders'])));
      const cancelled = (await db.collection('sv_customers').find({ __STATE__: 'PUBLIC', 'orders.status': 'cancelled' }).toArray()).map((d) => d['customer_id']).sort();
      const q = encodeURIComponent(JSON.stringify({ 'orders.status': 'cancelled' }));
      const found = (JSON.parse((await get(`/sv-customers/?_l=200&_q=${q}`)).text) as Doc[]).map((d) => d['customer_id']).sort();
      assert.deepEqual(found, cancelled);

      const write = await fetch(`${base}/sv-customers/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      assert.equal(write.status, 405);
    } finally {
      await client.close();
      serve.child.kill('SIGTERM');
      assert.equal(await serve.exited, 0, serve.output());
    }
  });
});
