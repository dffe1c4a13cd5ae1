/**
 * The read API against the real MongoDB-wire store (whatever MONGODB_URL points at: DocumentDB,
 * DocumentDB or MongoDB): the golden requests, hidden columns and signed cursors, the time budget
 * enforced by the server, and keyset paging while writes run concurrently.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MongoClient } from 'mongodb';
import { MongoDocumentStore } from '../../src/runtime.js';
import { createReadApi, type ReadApi } from '../../src/serve/index.js';
import { createLogger } from '../../src/ops/logger.js';
import topology from '../../topologies/customer-360.js';
import { seed, seedOrders } from '../fixtures/serve/data.js';
import { goldenRequests } from '../fixtures/serve/golden.js';
import { checkCursors, hiddenColumnRequests, type Inject } from '../fixtures/serve/hidden-columns.js';
import { allViews, viewRequests } from '../fixtures/serve/views.js';
import { dropDatabase, services, uniqueName } from './services.js';

const logger = createLogger({ level: 'silent' });
const KEY = 'an-integration-cursor-key-of-32-characters';
const injector = (api: ReadApi): Inject => async (url, headers = {}) => {
  const r = await api.app.inject({ url, headers });
  return { status: r.statusCode, headers: r.headers, body: r.body };
};

function storeFor(database: string): MongoDocumentStore {
  return new MongoDocumentStore({ url: services.mongoUrl, database, clientOptions: { serverSelectionTimeoutMS: 10_000 } });
}

describe('read API on the MongoDB-wire store', () => {
  const database = uniqueName('serve').replace(/-/g, '_');
  const store = storeFor(database);
  // The fixtures' view requests pin the portable path (its refusals included), on any store; `auto`
  // serves views natively where the store runs $lookup views (MongoDB, DocumentDB): the hidden-column
  // requests run there too (native vs portable bodies: serve-views-native.test.ts).
  let api: ReadApi;
  let auto: ReadApi;
  before(async () => {
    await store.connect();
    await seed(store);
    await seedOrders(store);
    api = await createReadApi({ topology, views: allViews, store, logger, cursorKey: KEY, viewMode: 'portable' });
    auto = await createReadApi({ topology, views: allViews, store, logger, cursorKey: KEY, viewMode: 'auto' });
  });
  after(async () => {
    await api.close();
    await auto.close();
    await store.close();
    // The whole database: the native views `auto` installed too.
    await dropDatabase(database);
  });

  const cases = [...[...goldenRequests, ...viewRequests, ...hiddenColumnRequests].map((golden) => ({ golden, served: () => api, label: '' })), ...hiddenColumnRequests.map((golden) => ({ golden, served: () => auto, label: ' (viewMode auto)' }))];
  for (const { golden, served, label } of cases) {
    it(`${golden.name}${label}`, async () => {
      const expected = golden;
      const r = await served().app.inject({ method: golden.method ?? 'GET', url: golden.url, headers: golden.headers ?? {} });
      assert.equal(r.statusCode, expected.status, r.body);
      expected.check?.({ status: r.statusCode, headers: r.headers, body: r.body });
    });
  }

  it('viewMode auto served what the store allows', async () => {
    const native = (await store.capabilities()).views;
    assert.equal(auto.viewModes['orders_with_customer'], native ? 'native' : 'portable');
    assert.equal(auto.viewModes['customers_with_orders'], 'portable', 'a view with map is always portable');
  });

  it('cursors on the real store: signed, bound, refused when altered; a replica with the same key continues, another key refuses', async () => {
    const replica = await createReadApi({ topology, views: allViews, store, logger, env: { SERVE_CURSOR_KEY: KEY }, viewMode: 'portable' });
    const restarted = await createReadApi({ topology, views: allViews, store, logger, env: {}, viewMode: 'portable' });
    try {
      await checkCursors(injector(api), { inject: injector(replica), sameKey: true });
      await checkCursors(injector(api), { inject: injector(restarted), sameKey: false });
    } finally {
      await replica.close();
      await restarted.close();
    }
  });

  it('ACL headers on the real store: GET /:id of a collection and a view, configured header names', async () => {
    const custom = await createReadApi({ topology, views: allViews, store, logger, aclHeaders: { rows: 'x-acl-rows', readColumns: 'x-acl-read-columns' } });
    try {
      const list = async (url: string, headers: Record<string, string> = {}) => JSON.parse((await api.app.inject({ url, headers })).body) as Array<Record<string, unknown>>;
      const [c1] = await list('/pr-customers/?customer_id=c1');
      const [c2] = await list('/pr-customers/?customer_id=c2');
      const gold = { acl_rows: JSON.stringify({ tier: 'gold' }) };
      assert.equal((await api.app.inject({ url: `/pr-customers/${String(c1?.['_id'])}`, headers: gold })).statusCode, 200);
      assert.equal((await api.app.inject({ url: `/pr-customers/${String(c2?.['_id'])}`, headers: gold })).statusCode, 404);
      const one = await api.app.inject({ url: `/pr-customers/${String(c1?.['_id'])}?_p=name,email`, headers: { acl_read_columns: 'name,tier' } });
      assert.deepEqual(JSON.parse(one.body), { _id: c1?.['_id'], name: 'Ada Lovelace' });
      const orders = await list('/orders-with-customer/?_s=order_id');
      const byId = (id: string) => String(orders.find((o) => o['order_id'] === id)?.['_id']);
      const joinedGold = { acl_rows: JSON.stringify({ 'customer.tier': 'gold' }) };
      assert.equal((await api.app.inject({ url: `/orders-with-customer/${byId('o3')}`, headers: joinedGold })).statusCode, 200);
      assert.equal((await api.app.inject({ url: `/orders-with-customer/${byId('o4')}`, headers: joinedGold })).statusCode, 404);
      assert.equal((await custom.app.inject({ url: '/orders-with-customer/count', headers: { 'x-acl-rows': JSON.stringify({ 'customer.tier': 'gold' }) } })).body, '3');
      assert.equal((await custom.app.inject({ url: '/orders-with-customer/count', headers: { acl_rows: JSON.stringify({ 'customer.tier': 'gold' }) } })).body, '4', 'the default name is an ordinary header once renamed');
      const exported = await custom.app.inject({ url: '/pr-customers/export?_s=customer_id', headers: { 'x-acl-read-columns': 'customer_id', 'x-acl-rows': JSON.stringify({ tier: { $in: ['gold', 'silver'] } }) } });
      assert.deepEqual(exported.body.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).map((d) => [Object.keys(d).sort().join(','), d['customer_id']]), [
        ['_id,customer_id', 'c1'],
        ['_id,customer_id', 'c2'],
        ['_id,customer_id', 'c3'],
      ]);
    } finally {
      await custom.close();
    }
  });

  it('keyset paging over HTTP returns every document exactly once while writes run concurrently', async () => {
    const n = 300;
    const collection = store.collection('pr_customers');
    const now = new Date();
    await collection.bulkWrite(
      Array.from({ length: n }, (_, i) => ({ kind: 'upsert' as const, filter: { customer_id: `m${String(i).padStart(4, '0')}` }, set: { name: `M ${i}`, tier: 'silver', __STATE__: 'PUBLIC', createdAt: now, updatedAt: now } })),
    );
    const url = await api.listen({ port: 0 });
    let writing = true;
    let writes = 0;
    const writer = (async () => {
      for (let round = 0; writing; round += 1) {
        await collection.bulkWrite(
          Array.from({ length: 10 }, (_, k) => ({ kind: 'upsert' as const, filter: { customer_id: `m${String((round * 31 + k * 17) % n).padStart(4, '0')}` }, set: { tier: `t${round}`, updatedAt: new Date() } })),
        );
        await collection.bulkWrite([{ kind: 'upsert', filter: { customer_id: `a${round}` }, set: { name: 'new', __STATE__: 'PUBLIC', createdAt: new Date(), updatedAt: new Date() } }]);
        writes += 1;
      }
    })();
    const seen: string[] = [];
    let next: string | undefined = '';
    let pages = 0;
    try {
      while (next !== undefined) {
        const response: Response = await fetch(`${url}/pr-customers/?_s=customer_id&_l=40&_q=${encodeURIComponent(JSON.stringify({ customer_id: { $regex: '^m' } }))}&_after=${next}`);
        assert.equal(response.status, 200);
        seen.push(...((await response.json()) as Array<{ customer_id: string }>).map((d) => d.customer_id));
        next = response.headers.get('x-next-cursor') ?? undefined;
        pages += 1;
      }
    } finally {
      writing = false;
      await writer;
    }
    assert.equal(seen.length, n, `pages ${pages}, concurrent write rounds ${writes}`);
    assert.equal(new Set(seen).size, n);
    assert.ok(writes > 0, 'writes ran during the walk');
  });
});

describe('read API time budget (maxTimeMS) enforced by the real store', () => {
  const database = uniqueName('serve_budget').replace(/-/g, '_');
  const store = storeFor(database);
  const client = new MongoClient(services.mongoUrl, { serverSelectionTimeoutMS: 10_000 });
  before(async () => {
    await store.connect();
    await client.connect();
    // 20 000 customers: a scan of them all (the regex below matches none) takes the server well over
    // the 1 ms budget given below (about 18 ms on DocumentDB here); a backtracking engine works
    // harder still on these names.
    const now = new Date();
    const docs = Array.from({ length: 20_000 }, (_, i) => ({ customer_id: `b${i}`, name: 'a'.repeat(20), tier: 'gold', __STATE__: 'PUBLIC', createdAt: now, updatedAt: now }));
    for (let i = 0; i < docs.length; i += 5_000) await client.db(database).collection('pr_customers').insertMany(docs.slice(i, i + 5_000));
  });
  after(async () => {
    await client.db(database).dropDatabase();
    await client.close();
    await store.close();
  });

  it('a query past its budget is stopped by the server and answers 503 TRB_QUERY_TIMEOUT (list, count, export); the store reports TRB_QUERY_TIMEOUT', async () => {
    const expensive = encodeURIComponent(JSON.stringify({ name: { $regex: '^(a|a)*b$' } }));
    const api = await createReadApi({ topology, store, logger, cursorKey: KEY, maxTimeMS: 1 });
    try {
      for (const url of [`/pr-customers/?_q=${expensive}`, `/pr-customers/count?_q=${expensive}`, `/pr-customers/export?_q=${expensive}`]) {
        const r = await api.app.inject(url);
        assert.equal(r.statusCode, 503, `${url}: ${r.body}`);
        assert.equal((JSON.parse(r.body) as { code: string }).code, 'TRB_QUERY_TIMEOUT', url);
      }
    } finally {
      await api.close();
    }
    const failure = await store.collection('pr_customers').count({ name: { $regex: '^(a|a)*b$' } }, { maxTimeMS: 1 }).then(() => undefined, (e: unknown) => e);
    assert.ok(failure instanceof Error && 'code' in failure && failure.code === 'TRB_QUERY_TIMEOUT', String(failure));
    assert.equal(await store.collection('pr_customers').count({ customer_id: 'b7' }, { maxTimeMS: 60_000 }), 1, 'a budget that suffices changes nothing');
  });
});

describe('tributary serve (the command, as a process)', () => {
  it('serves the topology from the store until SIGTERM', async () => {
    const { spawn } = await import('node:child_process');
    const database = uniqueName('serve_cli').replace(/-/g, '_');
    const store = storeFor(database);
    await store.connect();
    await seed(store);
    const child = spawn(process.execPath, ['bin/tributary.js', 'serve', 'topologies/customer-360.ts', '--port', '0'], { env: { ...process.env, MONGODB_URL: services.mongoUrl, MONGODB_DATABASE: database, LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let buffer = '';
        const timer = setTimeout(() => reject(new Error(`no "read API listening" line: ${buffer}`)), 20_000);
        child.stdout.on('data', (chunk: Buffer) => {
          buffer += chunk.toString();
          const match = /"url":"(http:\/\/[^"]+)"[^\n]*read API listening/.exec(buffer);
          if (match?.[1]) {
            clearTimeout(timer);
            resolve(match[1]);
          }
        });
        child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${buffer}`)));
      });
      const count = await fetch(`${url}/pr-customers/count`);
      assert.equal(await count.text(), '4');
      const views = (await (await fetch(`${url}/sv-customers/?_s=customer_id`)).json()) as Array<{ customer_id: string }>;
      assert.deepEqual(views.map((v) => v.customer_id), ['c1', 'c2', 'c3']);
      const openapi = (await (await fetch(`${url}/documentation/json`)).json()) as { openapi: string };
      assert.match(openapi.openapi, /^3\./);
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await store.close();
      await dropDatabase(database);
    }
  });
});
