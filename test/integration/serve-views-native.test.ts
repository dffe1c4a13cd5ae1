/**
 * Native (`$lookup` MongoDB view) vs portable on-demand views on the real store.
 *
 * On MongoDB: both modes answer the same requests with byte-identical bodies.
 * On FerretDB 1.24 (this project's CI store: no `$lookup`, no views) that comparison cannot run;
 * the test then proves that the API chose the portable path (and refuses viewMode "native"), that
 * the native path — driven against this server by a store that says it is MongoDB — installs
 * exactly `compileViewPipeline`'s output with its join index, that the portable path answers every
 * compared request here, and it prints a diagnostic that the equivalence was NOT exercised.
 * With TRIBUTARY_NATIVE_VIEWS=require a FerretDB store fails the test instead.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MongoDocumentStore } from '../../src/runtime.js';
import { compileViewPipeline, nativeViewDefinition, type PipelineStage } from '../../src/serve/views/native.js';
import { createReadApi } from '../../src/serve/index.js';
import { isTributaryError } from '../../src/errors.js';
import { createLogger } from '../../src/ops/logger.js';
import topology from '../../topologies/customer-360.js';
import { seed, seedOrders } from '../fixtures/serve/data.js';
import { ordersWithCustomer } from '../fixtures/serve/views.js';
import { services, uniqueName } from './services.js';

const logger = createLogger({ level: 'silent' });
const q = (filter: unknown) => encodeURIComponent(JSON.stringify(filter));
const requireNative = process.env['TRIBUTARY_NATIVE_VIEWS'] === 'require';

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

/** The real store, except that it says it is MongoDB and records the views it is asked to create. */
class SaysMongo extends MongoDocumentStore {
  readonly created: Array<{ name: string; viewOn: string; pipeline: readonly PipelineStage[] }> = [];
  override writeLimits(): ReturnType<MongoDocumentStore['writeLimits']> {
    return super.writeLimits().then((limits) => ({ ...limits, server: 'mongodb' as const }));
  }
  override async createView(name: string, viewOn: string, pipeline: readonly PipelineStage[]): Promise<void> {
    this.created.push({ name, viewOn, pipeline });
  }
}

describe('on-demand views: native $lookup vs portable', () => {
  const database = uniqueName('views_native').replace(/-/g, '_');
  const options = { url: services.mongoUrl, database, clientOptions: { serverSelectionTimeoutMS: 10_000 } };
  const store = new MongoDocumentStore(options);
  let server: 'mongodb' | 'ferretdb';
  before(async () => {
    await store.connect();
    await seed(store);
    await seedOrders(store);
    server = (await store.writeLimits()).server;
  });
  after(async () => {
    for (const name of ['orders_with_customer', 'pr_customers', 'sv_customers', 'pr_orders']) await store.collection(name).drop().catch(() => undefined);
    await store.close();
  });

  it('auto picks the mode this server allows; the native path installs the compiled pipeline and its join index', async () => {
    const auto = await createReadApi({ topology, views: [ordersWithCustomer], store, logger });
    assert.equal(auto.viewModes['orders_with_customer'], server === 'mongodb' ? 'native' : 'portable');
    await auto.close();
    if (server === 'ferretdb') {
      await assert.rejects(createReadApi({ topology, views: [ordersWithCustomer], store, logger, viewMode: 'native' }), (e: unknown) => isTributaryError(e) && e.code === 'TRB_CONFIG');
    }

    const lines: string[] = [];
    const recording = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } });
    const says = new SaysMongo(options);
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

  it('native and portable answer the same bodies (MongoDB only; on FerretDB: said so, not passed silently)', async (t) => {
    const portable = await createReadApi({ topology, views: [ordersWithCustomer], store, logger, viewMode: 'portable' });
    try {
      assert.equal(portable.viewModes['orders_with_customer'], 'portable');
      if (server === 'ferretdb') {
        const reason = 'MONGODB_URL is FerretDB 1.24, which has no $lookup and no views; point MONGODB_URL at MongoDB >= 5.0';
        if (requireNative) assert.fail(`TRIBUTARY_NATIVE_VIEWS=require: native-vs-portable equivalence cannot run: ${reason}`);
        for (const { url, headers } of comparable) {
          const r = await portable.app.inject({ url, headers: headers ?? {} });
          assert.equal(r.statusCode, 200, `${url}: ${r.body}`);
        }
        t.diagnostic(`native-vs-portable equivalence NOT exercised (${comparable.length} requests answered by the portable path only): ${reason}`);
        return;
      }
      const native = await createReadApi({ topology, views: [ordersWithCustomer], store, logger, viewMode: 'native' });
      try {
        assert.equal(native.viewModes['orders_with_customer'], 'native');
        for (const { url, headers } of comparable) {
          const [a, b] = await Promise.all([portable.app.inject({ url, headers: headers ?? {} }), native.app.inject({ url, headers: headers ?? {} })]);
          assert.equal(a.statusCode, 200, `${url}: ${a.body}`);
          assert.equal(b.statusCode, a.statusCode, url);
          assert.equal(b.body, a.body, `bodies differ for ${url}`);
        }
        t.diagnostic(`native-vs-portable equivalence exercised on MongoDB: ${comparable.length} requests, identical bodies`);
      } finally {
        await native.close();
      }
    } finally {
      await portable.close();
    }
  });
});
