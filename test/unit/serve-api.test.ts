import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MemoryDocumentStore } from '../../src/testing/index.js';
import { createReadApi, type ReadApi } from '../../src/serve/index.js';
import { createLogger } from '../../src/ops/logger.js';
import topology from '../../topologies/customer-360.js';
import { seed } from '../fixtures/serve/data.js';
import { goldenRequests } from '../fixtures/serve/golden.js';

const logger = createLogger({ level: 'silent' });

describe('read API on the memory store: golden requests (CRUD Service examples)', () => {
  let api: ReadApi;
  const store = new MemoryDocumentStore();
  before(async () => {
    await store.connect();
    await seed(store);
    api = await createReadApi({ topology, store, logger });
  });
  after(() => api.close());

  for (const golden of goldenRequests) {
    it(golden.name, async () => {
      const r = await api.app.inject({ method: golden.method ?? 'GET', url: golden.url, headers: golden.headers ?? {} });
      assert.equal(r.statusCode, golden.status, r.body);
      golden.check?.({ status: r.statusCode, headers: r.headers, body: r.body });
    });
  }

  it('GET /:id finds a document by its ObjectId and honours _st and _p', async () => {
    const [c1] = JSON.parse((await api.app.inject('/pr-customers/?customer_id=c1')).body) as Array<{ _id: string }>;
    const one = await api.app.inject(`/pr-customers/${c1?._id}?_p=name`);
    assert.equal(one.statusCode, 200);
    assert.deepEqual(JSON.parse(one.body), { _id: c1?._id, name: 'Ada Lovelace' });
    const [c5] = JSON.parse((await api.app.inject('/pr-customers/?_st=DELETED')).body) as Array<{ _id: string }>;
    assert.equal((await api.app.inject(`/pr-customers/${c5?._id}`)).statusCode, 404);
    assert.equal((await api.app.inject(`/pr-customers/${c5?._id}?_st=DELETED`)).statusCode, 200);
  });

  it('/documentation/json is an OpenAPI 3 document generated from the declarations', async () => {
    const r = await api.app.inject('/documentation/json');
    assert.equal(r.statusCode, 200);
    const doc = JSON.parse(r.body) as { openapi: string; paths: Record<string, Record<string, { responses: object; parameters?: Array<{ name: string; in: string }> }>>; components: { schemas: Record<string, { properties: object }> } };
    assert.match(doc.openapi, /^3\.\d+\.\d+$/);
    for (const path of ['/pr-customers/', '/pr-customers/{id}', '/pr-customers/count', '/pr-customers/export', '/pr-customers/schema', '/sv-customers/', '/-/schemas', '/-/metrics']) assert.ok(doc.paths[path]?.['get'], path);
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const op of Object.values(item)) {
        assert.ok(Object.keys(op.responses).length > 0, path);
        // Every path template variable is declared as a path parameter.
        for (const variable of path.match(/\{(\w+)\}/g) ?? []) assert.ok(op.parameters?.some((p) => p.in === 'path' && `{${p.name}}` === variable), path);
      }
    }
    const list = doc.paths['/pr-customers/']?.['get']?.parameters?.map((p) => p.name) ?? [];
    for (const p of ['_q', '_p', '_s', '_l', '_sk', '_st', '_after', 'customer_id', 'tier']) assert.ok(list.includes(p), p);
    assert.ok('signup' in (doc.components.schemas['pr_customers']?.properties ?? {}));
  });

  it('/-/metrics counts requests by collection, route and status', async () => {
    await api.app.inject('/pr-customers/count');
    const r = await api.app.inject('/-/metrics');
    assert.equal(r.statusCode, 200);
    assert.match(r.body, /tributary_serve_requests_total\{collection="pr_customers",route="count",code="200"\} \d+/);
    assert.match(r.body, /tributary_serve_request_duration_seconds_bucket/);
  });

  it('/-/schemas answers NDJSON by Accept', async () => {
    const r = await api.app.inject({ url: '/-/schemas', headers: { accept: 'application/x-ndjson' } });
    assert.equal(r.body.trim().split('\n').length, 5);
  });

  it('/-/ready answers 503 when the store does not', async () => {
    const closed = new MemoryDocumentStore();
    const broken = await createReadApi({ topology, store: { ...closed, kind: 'memory', connect: async () => {}, close: async () => {}, collection: () => { throw new Error('store down'); } }, logger });
    const r = await broken.app.inject('/-/ready');
    assert.equal(r.statusCode, 503);
    assert.match(r.body, /store down/);
    await broken.close();
  });
});
