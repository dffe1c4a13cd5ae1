/** The native view compiler: the `$lookup` pipeline a MongoDB view is created with (its equivalence with the portable path runs where MONGODB_URL is MongoDB: test/integration/serve-views-native.test.ts). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileViewPipeline, createReadApi, MemoryDocumentStore, nativeEligible } from '../../src/index.js';
import { isTributaryError } from '../../src/errors.js';
import { INTERNAL_FIELDS } from '../../src/serve/model.js';
import { customersWithOrders, ordersWithCustomer } from '../fixtures/serve/views.js';

const hidden = Object.fromEntries(INTERNAL_FIELDS.map((f) => [f, 0]));

describe('compileViewPipeline', () => {
  it('hasOne: hide internals, one $lookup on the join with the relation states, sorted by _id, first element or null', () => {
    assert.deepStrictEqual(compileViewPipeline(ordersWithCustomer), [
      { $project: hidden },
      {
        $lookup: {
          from: 'pr_customers',
          let: { k0: '$customer_id' },
          pipeline: [{ $match: { $expr: { $and: [{ $eq: ['$customer_id', '$$k0'] }] }, __STATE__: 'PUBLIC' } }, { $project: hidden }, { $sort: { _id: 1 } }],
          as: 'customer',
        },
      },
      { $set: { customer: { $ifNull: [{ $arrayElemAt: ['$customer', 0] }, null] } } },
    ]);
  });

  it('a view with map is portable only; hasMany keeps the array', () => {
    assert.equal(nativeEligible(ordersWithCustomer), true);
    assert.equal(nativeEligible(customersWithOrders), false);
    assert.throws(() => compileViewPipeline(customersWithOrders), (e: unknown) => isTributaryError(e) && e.code === 'TRB_CONFIG');
  });

  it('the memory store serves views portably; viewMode "native" there is a configuration error', async () => {
    const store = new MemoryDocumentStore();
    const api = await createReadApi({ declarations: {}, views: [ordersWithCustomer, customersWithOrders], store });
    assert.deepEqual(api.viewModes, { orders_with_customer: 'portable', customers_with_orders: 'portable' });
    await api.close();
    await assert.rejects(createReadApi({ declarations: {}, views: [ordersWithCustomer], store, viewMode: 'native' }), (e: unknown) => isTributaryError(e) && e.code === 'TRB_CONFIG');
  });
});
