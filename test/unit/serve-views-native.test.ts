/**
 * The native view compiler: the `$lookup` pipeline a MongoDB view is created with, what the read
 * API installs for it, and — through an in-process model of those stages — that the pipeline means
 * what the portable path answers. The byte-for-byte equivalence against a MongoDB server runs in
 * test/integration/serve-views-native.test.ts where MONGODB_URL is MongoDB.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileViewPipeline, nativeEligible, nativeViewDefinition, type PipelineStage } from '../../src/serve/views/native.js';
import { createReadApi, view, type View } from '../../src/serve/index.js';
import { hasMany, hasOne } from '../../src/index.js';
import { MemoryDocumentStore } from '../../src/testing/index.js';
import { MongoDocumentStore } from '../../src/runtime.js';
import { isTributaryError, TributaryError } from '../../src/errors.js';
import { createLogger } from '../../src/ops/logger.js';
import { executorFor } from '../../src/serve/executor.js';
import { INTERNAL_FIELDS } from '../../src/serve/model.js';
import { portableViewExecutor } from '../../src/serve/views/portable.js';
import type { Collection, IndexSpec } from '../../src/store/types.js';
import topology from '../../topologies/customer-360.js';
import { customers, orders } from '../fixtures/serve/data.js';
import { runPipeline } from '../fixtures/serve/pipeline-model.js';
import { customersWithOrders, ordersWithCustomer } from '../fixtures/serve/views.js';

const hidden = Object.fromEntries(INTERNAL_FIELDS.map((f) => [f, 0]));
const logger = createLogger({ level: 'silent' });

const customersWithOrderRows = view({ name: 'customers_with_order_rows', base: topology.customers, include: { orders: hasMany(topology.orders, { customer_id: 'customer_id' }, { onStates: ['PUBLIC', 'DRAFT'] }) } });
const compositeJoin = view({ name: 'orders_with_namesake', base: topology.orders, include: { namesake: hasOne(topology.customers, { customer_id: 'customer_id', name: 'status' }) } });

describe('compileViewPipeline', () => {
  it('hasOne: internals hidden, concise $lookup on the join with the relation states, sorted by _id, first element or null', () => {
    assert.deepStrictEqual(compileViewPipeline(ordersWithCustomer), [
      { $project: hidden },
      {
        $lookup: {
          from: 'pr_customers',
          localField: 'customer_id',
          foreignField: 'customer_id',
          pipeline: [{ $match: { __STATE__: 'PUBLIC' } }, { $project: hidden }, { $sort: { _id: 1 } }],
          as: 'customer',
        },
      },
      { $set: { customer: { $ifNull: [{ $arrayElemAt: ['$customer', 0] }, null] } } },
    ]);
  });

  it('hasMany keeps the array; several states become $in', () => {
    assert.deepStrictEqual(compileViewPipeline(customersWithOrderRows), [
      { $project: hidden },
      {
        $lookup: {
          from: 'pr_orders',
          localField: 'customer_id',
          foreignField: 'customer_id',
          pipeline: [{ $match: { __STATE__: { $in: ['PUBLIC', 'DRAFT'] } } }, { $project: hidden }, { $sort: { _id: 1 } }],
          as: 'orders',
        },
      },
    ]);
  });

  it('a composite join: the first pair in localField/foreignField, the others in $expr with missing read as null on both sides', () => {
    const lookup = (compileViewPipeline(compositeJoin)[1] as { $lookup: Record<string, unknown> }).$lookup;
    assert.deepStrictEqual(lookup, {
      from: 'pr_customers',
      localField: 'customer_id',
      foreignField: 'customer_id',
      let: { k1: { $ifNull: ['$status', null] } },
      pipeline: [{ $match: { __STATE__: 'PUBLIC', $expr: { $and: [{ $eq: [{ $ifNull: ['$name', null] }, '$$k1'] }] } } }, { $project: hidden }, { $sort: { _id: 1 } }],
      as: 'namesake',
    });
  });

  it('the definition: the view on its base collection, and one join index per relation (Fast Data foreign-key names)', () => {
    const definition = nativeViewDefinition(ordersWithCustomer);
    assert.equal(definition.name, 'orders_with_customer');
    assert.equal(definition.viewOn, 'pr_orders');
    assert.deepStrictEqual(definition.pipeline, compileViewPipeline(ordersWithCustomer));
    assert.deepStrictEqual(definition.indexes, [{ collection: 'pr_customers', index: { name: 'fk_customer_id', fields: { customer_id: 1, __STATE__: 1 } } }]);
  });

  it('a view with map is portable only', () => {
    assert.equal(nativeEligible(ordersWithCustomer), true);
    assert.equal(nativeEligible(customersWithOrders), false);
    assert.throws(() => compileViewPipeline(customersWithOrders), (e: unknown) => isTributaryError(e) && e.code === 'TRB_CONFIG');
  });
});

describe('the compiled pipeline means what the portable path answers (in-process model of the stages)', () => {
  // Edge rows beside the golden data: a join value missing or null on either side, a related row
  // that is DRAFT (visible to the hasMany above), one whose parent is DELETED.
  const extraOrders = [
    { order_id: 'o6', status: 'paid', total: 1, __STATE__: 'PUBLIC', createdAt: new Date(0), updatedAt: new Date(0) },
    { order_id: 'o7', customer_id: 'c5', status: 'Eve Gone', total: 2, __STATE__: 'PUBLIC', createdAt: new Date(0), updatedAt: new Date(0) },
    { order_id: 'o8', customer_id: 'c2', status: 'Bob Bland', total: 3, __STATE__: 'DRAFT', createdAt: new Date(0), updatedAt: new Date(0) },
    { order_id: 'o9', customer_id: null, status: 'paid', total: 4, __STATE__: 'PUBLIC', createdAt: new Date(0), updatedAt: new Date(0) },
  ];
  const extraCustomers = [{ name: 'No Id', tier: 'gold', __STATE__: 'PUBLIC', createdAt: new Date(0), updatedAt: new Date(0), __internal__counter: 9 }];

  for (const v of [ordersWithCustomer, customersWithOrderRows, compositeJoin]) {
    it(v.name, async () => {
      const store = new MemoryDocumentStore();
      await store.connect();
      const write = (name: string, docs: ReadonlyArray<Record<string, unknown>>) => store.collection(name).bulkWrite(docs.map((d, i) => ({ kind: 'upsert' as const, filter: { _id: `${name}-${i}` }, set: { ...d } })));
      await write('pr_customers', [...customers, ...extraCustomers]);
      await write('pr_orders', [...orders, ...extraOrders]);
      const all = async (name: string) => store.collection(name).find({});
      const collections = { pr_customers: await all('pr_customers'), pr_orders: await all('pr_orders') };
      const portable = await portableViewExecutor(v, executorFor(store, { maxTimeMS: 0 })).find(v.name, { filter: {}, sort: [['_id', 1]] });
      const modelled = runPipeline(collections[v.base.name as 'pr_orders'], compileViewPipeline(v), collections).sort((a, b) => String(a['_id']).localeCompare(String(b['_id'])));
      assert.ok(portable.length >= 5);
      assert.equal(JSON.stringify(modelled), JSON.stringify(portable));
    });
  }
});

/** A MongoDocumentStore that records what the read API installs (no server). */
class RecordingMongo extends MongoDocumentStore {
  readonly views: Array<{ name: string; viewOn: string; pipeline: readonly PipelineStage[] }> = [];
  readonly indexes: Array<{ collection: string; index: IndexSpec }> = [];
  constructor(readonly refuse = false) {
    super({ url: 'mongodb://127.0.0.1:1/', database: 'unused' });
  }
  override async createView(name: string, viewOn: string, pipeline: readonly PipelineStage[]): Promise<void> {
    if (this.refuse) throw new TributaryError('TRB_STORE_WRITE', `could not create view '${name}'`);
    this.views.push({ name, viewOn, pipeline });
  }
  override collection(name: string): Collection {
    return { createIndexes: async (specs: readonly IndexSpec[]) => void this.indexes.push(...specs.map((index) => ({ collection: name, index }))) } as unknown as Collection;
  }
}

describe('view modes', () => {
  it('the memory store serves views portably; viewMode "native" there is a configuration error', async () => {
    const store = new MemoryDocumentStore();
    const api = await createReadApi({ declarations: {}, views: [ordersWithCustomer, customersWithOrders], store, logger });
    assert.deepEqual(api.viewModes, { orders_with_customer: 'portable', customers_with_orders: 'portable' });
    await api.close();
    await assert.rejects(createReadApi({ declarations: {}, views: [ordersWithCustomer], store, viewMode: 'native' }), (e: unknown) => isTributaryError(e) && e.code === 'TRB_CONFIG');
  });

  const views: View[] = [ordersWithCustomer, customersWithOrders];

  it('on MongoDB, auto installs each view without map: join index first, then the view with the compiled pipeline', async () => {
    const store = new RecordingMongo();
    const api = await createReadApi({ topology, views, store, logger });
    try {
      assert.deepEqual(api.viewModes, { orders_with_customer: 'native', customers_with_orders: 'portable' });
      const definition = nativeViewDefinition(ordersWithCustomer);
      assert.deepStrictEqual(store.views, [{ name: definition.name, viewOn: definition.viewOn, pipeline: definition.pipeline }]);
      assert.deepStrictEqual(store.indexes, definition.indexes);
    } finally {
      await api.close();
      await store.close();
    }
  });

  it('a view MongoDB refuses: auto serves it portably, native fails the start', async () => {
    const store = new RecordingMongo(true);
    const api = await createReadApi({ topology, views, store, logger });
    assert.deepEqual(api.viewModes, { orders_with_customer: 'portable', customers_with_orders: 'portable' });
    await api.close();
    await assert.rejects(createReadApi({ topology, views, store, logger, viewMode: 'native' }), (e: unknown) => isTributaryError(e) && e.code === 'TRB_STORE_WRITE');
    await store.close();
  });

  it('viewMode "portable" installs nothing', async () => {
    const store = new RecordingMongo();
    const api = await createReadApi({ topology, views, store, logger, viewMode: 'portable' });
    assert.deepEqual(api.viewModes, { orders_with_customer: 'portable', customers_with_orders: 'portable' });
    assert.deepEqual([store.views, store.indexes], [[], []]);
    await api.close();
    await store.close();
  });
});
