/**
 * Native (`$lookup` view installed on the server) vs portable on-demand views on the real store
 * (DocumentDB in CI, MongoDB where MONGODB_URL points at one): `viewMode: 'auto'` picks native; the
 * installed view is exactly `compileViewPipeline`'s output with its join index; and both modes
 * answer the same requests with byte-identical bodies. There is no "did not compare" outcome: a
 * server without views fails this test.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MongoDocumentStore } from '../../src/runtime.js';
import { compileViewPipeline, nativeViewDefinition, type PipelineStage } from '../../src/serve/views/native.js';
import { createReadApi } from '../../src/serve/index.js';
import { createLogger } from '../../src/ops/logger.js';
import topology from '../../topologies/customer-360.js';
import { seed, seedOrders } from '../fixtures/serve/data.js';
import { ordersWithCustomer } from '../fixtures/serve/views.js';
import { dropDatabase, services, uniqueName } from './services.js';

const logger = createLogger({ level: 'silent' });
const q = (filter: unknown) => encodeURIComponent(JSON.stringify(filter));

/** Requests both modes answer (the portable path refuses joined sorts, negative joined filters and $or over joins). */
const comparable: ReadonlyArray<{ url: string; headers?: Record<string, string> }> = [
  { url: '/orders-with-customer/?_s=order_id' },
  { url: '/orders-with-customer/?_s=-order_id&_l=2' },
  { url: `/orders-with-customer/?_s=order_id&_q=${q({ 'customer.tier': 'gold' })}` },
  { url: `/orders-with-customer/?_s=order_id&status=paid&_q=${q({ 'customer.name': { $regex: '^Ada' } })}` },
  { url: '/orders-with-customer/?_s=order_id&_st=PUBLIC,DELETED' },
  { url: `/orders-with-customer/count?_q=${q({ 'customer.tier': 'gold' })}` },
  { url: '/orders-with-customer/count' },
  { url: '/orders-with-customer/?_s=order_id&_p=order_id,customer.name' },
  { url: '/orders-with-customer/export?_s=order_id' },
  { url: '/orders-with-customer/?_s=order_id', headers: { acl_rows: JSON.stringify({ 'customer.tier': 'gold' }) } },
  { url: '/orders-with-customer/count', headers: { acl_rows: JSON.stringify([{ status: 'paid' }]) } },
  { url: '/orders-with-customer/?_s=order_id', headers: { acl_read_columns: 'order_id,customer' } },
  { url: '/orders-with-customer/export?_s=order_id&_p=order_id,total,customer.tier', headers: { acl_read_columns: 'order_id,customer', accept: 'text/csv' } },
];

/** The real store, recording the views it is asked to create (and creating them). */
class Recording extends MongoDocumentStore {
  readonly created: Array<{ name: string; viewOn: string; pipeline: readonly PipelineStage[] }> = [];
  override async createView(name: string, viewOn: string, pipeline: readonly PipelineStage[]): Promise<void> {
    this.created.push({ name, viewOn, pipeline });
    await super.createView(name, viewOn, pipeline);
  }
}

describe('on-demand views: native $lookup vs portable', () => {
  const database = uniqueName('views_native').replace(/-/g, '_');
  const options = { url: services.mongoUrl, database, clientOptions: { serverSelectionTimeoutMS: 10_000 } };
  const store = new MongoDocumentStore(options);
  before(async () => {
    await store.connect();
    await seed(store);
    await seedOrders(store);
  });
  after(async () => {
    await store.close();
    await dropDatabase(database);
  });

  it('auto picks native on this server; the native path installs the compiled pipeline and its join index', async () => {
    const auto = await createReadApi({ topology, views: [ordersWithCustomer], store, logger });
    assert.equal(auto.viewModes['orders_with_customer'], 'native');
    await auto.close();

    const lines: string[] = [];
    const recording = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } });
    const says = new Recording(options);
    await says.connect();
    try {
      const api = await createReadApi({ topology, views: [ordersWithCustomer], store: says, logger: recording, viewMode: 'native' });
      await api.close();
      assert.equal(api.viewModes['orders_with_customer'], 'native');
      assert.deepStrictEqual(says.created, [{ name: 'orders_with_customer', viewOn: 'pr_orders', pipeline: compileViewPipeline(ordersWithCustomer) }]);
      const ensured = lines.map((l) => JSON.parse(l) as { msg: string; collection?: string; index?: string }).filter((l) => l.msg === 'view join index ensured');
      assert.deepEqual(ensured.map((l) => [l.collection, l.index]), nativeViewDefinition(ordersWithCustomer).indexes.map((i) => [i.collection, i.index.name]));
    } finally {
      await says.close();
    }
  });

  it('native and portable answer the same bodies', async (t) => {
    const portable = await createReadApi({ topology, views: [ordersWithCustomer], store, logger, viewMode: 'portable' });
    try {
      assert.equal(portable.viewModes['orders_with_customer'], 'portable');
      const native = await createReadApi({ topology, views: [ordersWithCustomer], store, logger, viewMode: 'native' });
      try {
        assert.equal(native.viewModes['orders_with_customer'], 'native');
        for (const { url, headers } of comparable) {
          const [a, b] = await Promise.all([portable.app.inject({ url, headers: headers ?? {} }), native.app.inject({ url, headers: headers ?? {} })]);
          assert.equal(a.statusCode, 200, `${url}: ${a.body}`);
          assert.equal(b.statusCode, a.statusCode, url);
          assert.equal(b.body, a.body, `bodies differ for ${url}`);
        }
        t.diagnostic(`native-vs-portable equivalence exercised: ${comparable.length} requests, identical bodies`);
      } finally {
        await native.close();
      }
    } finally {
      await portable.close();
    }
  });
});
