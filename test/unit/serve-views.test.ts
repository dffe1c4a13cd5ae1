import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MemoryDocumentStore } from '../../src/testing/index.js';
import { createReadApi, view, type ReadApi } from '../../src/serve/index.js';
import { hasMany } from '../../src/index.js';
import type { DocumentStore } from '../../src/runtime.js';
import { createLogger } from '../../src/ops/logger.js';
import topology from '../../topologies/customer-360.js';
import { seed, seedOrders } from '../fixtures/serve/data.js';
import { allViews, viewRequests } from '../fixtures/serve/views.js';

const logger = createLogger({ level: 'silent' });

/** Counts store queries, to pin the cost of a view page. */
function counting(store: DocumentStore): { store: DocumentStore; finds: () => number } {
  let finds = 0;
  return {
    finds: () => finds,
    store: {
      kind: store.kind,
      connect: () => store.connect(),
      close: () => store.close(),
      collection: (name) => {
        const inner = store.collection(name);
        return Object.assign(Object.create(inner) as typeof inner, { find: (...args: Parameters<typeof inner.find>) => ((finds += 1), inner.find(...args)) });
      },
    },
  };
}

describe('on-demand views, portable path, memory store', () => {
  let api: ReadApi;
  const memory = new MemoryDocumentStore();
  const counted = counting(memory);
  before(async () => {
    await memory.connect();
    await seed(memory);
    await seedOrders(memory);
    api = await createReadApi({ topology, views: allViews, store: counted.store, logger, watermarkTtlMs: 60_000 });
  });
  after(() => api.close());

  for (const golden of viewRequests) {
    it(golden.name, async () => {
      const r = await api.app.inject({ method: golden.method ?? 'GET', url: golden.url, headers: golden.headers ?? {} });
      assert.equal(r.statusCode, golden.status, r.body);
      golden.check?.({ status: r.statusCode, headers: r.headers, body: r.body });
    });
  }

  it('a page costs 1 base query + 1 per relation (+1 per filtered relation), whatever its size', async () => {
    await api.app.inject('/orders-with-customer/'); // warms the watermark cache
    let before = counted.finds();
    await api.app.inject('/orders-with-customer/?_l=200');
    assert.equal(counted.finds() - before, 2);
    before = counted.finds();
    await api.app.inject(`/orders-with-customer/?_q=${encodeURIComponent('{"customer.tier":"gold"}')}`);
    assert.equal(counted.finds() - before, 3);
  });

  it('declarations are checked', () => {
    assert.throws(() => view({ name: 'bad name', base: topology.orders, include: {} }), /may only use/);
    assert.throws(() => view({ name: 'v', base: topology.customers, include: { name: hasMany(topology.orders, { customer_id: 'customer_id' }) } }), /clashes with a base field/);
    assert.throws(
      () => view({ name: 'v', base: topology.customers, include: { o: hasMany(topology.orders, { customer_id: 'customer_id' }, { include: { l: hasMany(topology.orderLines, { order_id: 'order_id' }) } }) } }),
      /nested includes/,
    );
  });

  it('views appear in /-/schemas and the OpenAPI document', async () => {
    const schemas = JSON.parse((await api.app.inject('/-/schemas')).body) as Array<{ name: string; schema: { properties: Record<string, unknown> } }>;
    const v = schemas.find((s) => s.name === 'orders_with_customer');
    assert.deepEqual(v?.schema.properties['customer'], { type: ['object', 'null'], additionalProperties: true });
    const openapi = JSON.parse((await api.app.inject('/documentation/json')).body) as { paths: Record<string, unknown> };
    assert.ok(openapi.paths['/customers-with-orders/']);
  });
});
