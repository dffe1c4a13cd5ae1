/**
 * Views built on views on the embedded engine: sv_orders (orders + lines + customer) is the
 * relation of sv_customer_stats and the base of sv_order_cards. Random histories, with the
 * middle of the chain failing right after its writes (a crash before the commit: the batch is
 * replayed) and the whole engine stopped and restarted half-way, end with every view equal to the
 * oracle — the upstream from the projections, the downstream from the stored upstream views.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TributaryError } from '../../src/errors.js';
import { basic, type Row } from '../../src/fastdata/cdc/index.js';
import { fastData } from '../../src/fastdata/fast-data.js';
import { field } from '../../src/fastdata/projection/fields.js';
import { projection } from '../../src/fastdata/projection/projection.js';
import { hasMany, hasOne } from '../../src/fastdata/singleview/relations.js';
import { singleView } from '../../src/fastdata/singleview/single-view.js';
import { viewSource } from '../../src/fastdata/singleview/view-source.js';
import { MemoryDocumentStore } from '../../src/store/memory/memory-store.js';
import type { Collection, WriteOperation } from '../../src/store/types.js';
import { json } from '../../src/stream/serdes/json.js';
import { MemoryBroker } from '../../src/stream/transport/memory/memory-transport.js';
import { computeViews, storedViews, TestDriver } from '../../src/testing/index.js';

const customers = projection({
  name: 'pr_customers',
  source: { topic: 'shop.customers', adapter: basic() },
  primaryKey: ['customer_id'],
  fields: { customer_id: field.string(), name: field.string() },
});
const orders = projection({
  name: 'pr_orders',
  source: { topic: 'shop.orders', adapter: basic() },
  primaryKey: ['order_id'],
  fields: { order_id: field.string(), customer_id: field.string(), status: field.string() },
});
const lines = projection({
  name: 'pr_lines',
  source: { topic: 'shop.lines', adapter: basic() },
  primaryKey: ['line_id'],
  fields: { line_id: field.string(), order_id: field.string(), amount: field.integer({ required: true }) },
});

const orderView = singleView({
  name: 'sv_orders',
  base: orders,
  include: { lines: hasMany(lines, { order_id: 'order_id' }), customer: hasOne(customers, { customer_id: 'customer_id' }) },
  map: ({ base, lines: list, customer }) => ({
    order_id: base.order_id,
    customer_id: base.customer_id,
    status: base.status,
    total: list.reduce((n, l) => n + l.amount, 0),
    customer_name: customer?.name ?? null,
  }),
  delete: 'virtualDelete',
  svUpdate: { version: 'v2.0.0' },
});
const orderViews = viewSource(orderView);

const statsView = singleView({
  name: 'sv_customer_stats',
  base: customers,
  include: { orders: hasMany(orderViews, { customer_id: 'customer_id' }) },
  map: ({ base, orders: list }) => ({
    customer_id: base.customer_id,
    name: base.name,
    // Typed by sv_orders' map: `total` is a number, `status` a string.
    revenue: list.filter((o) => o.status !== 'cancelled').reduce((n, o) => n + o.total, 0),
    orders: list.map((o) => o.order_id),
  }),
});
const cardView = singleView({
  name: 'sv_order_cards',
  base: orderViews,
  include: { owner: hasOne(customers, { customer_id: 'customer_id' }) },
  map: ({ base, owner }) => ({ order_id: base.order_id, label: `${owner?.name ?? '?'} · ${base.total} · ${base.customer_name ?? '-'}` }),
});

const t = fastData({ name: 'chain', projections: [customers, orders, lines], singleViews: [orderView, statsView, cardView] });
const serdes = { key: json<Row>(), value: json<Row | null>() };

/** Applies the n-th write of sv_orders, then fails the batch as a crash after the write would (retriable: replayed). */
class CrashAfterWrite extends MemoryDocumentStore {
  writes = 0;
  crashes = 0;
  constructor(private readonly every: number) {
    super();
  }
  override collection(name: string): Collection {
    const inner = super.collection(name);
    if (name !== 'sv_orders' || this.every === 0) return inner;
    return Object.assign(Object.create(inner) as Collection, {
      bulkWrite: async (operations: readonly WriteOperation[]) => {
        const result = await inner.bulkWrite(operations);
        if (++this.writes % this.every === 0) {
          this.crashes++;
          throw new TributaryError('TRB_STORE_WRITE', 'simulated crash after the write, before the commit', { retriable: true });
        }
        return result;
      },
    });
  }
}

async function oracleCheck(store: MemoryDocumentStore): Promise<void> {
  for (const view of [orderView, statsView, cardView]) {
    assert.deepStrictEqual(Object.fromEntries(await storedViews(view, store)), Object.fromEntries(await computeViews(view, store)), `${view.name} equals the oracle`);
  }
}

type ChainOp =
  | { readonly table: 'customers'; readonly id: string; readonly name: string; readonly drop: boolean }
  | { readonly table: 'orders'; readonly id: string; readonly customer: string; readonly status: string; readonly drop: boolean }
  | { readonly table: 'lines'; readonly id: string; readonly order: string; readonly amount: number; readonly drop: boolean };

/**
 * `events` through the chain, `chunk` at a time, every `every`-th write of sv_orders failing right
 * after it lands; the engine stopped after the first half and a new one started on the same store
 * and broker; every view of the chain asserted equal to the oracle. Returns the crashes injected.
 */
async function chainRun(events: readonly ChainOp[], every: number, chunk: number): Promise<number> {
  const partitions = Object.fromEntries(['shop.customers', 'shop.orders', 'shop.lines', 'sv_orders.sv-update', 'sv_orders.sv-trigger', 'sv_customer_stats.sv-trigger', 'sv_order_cards.sv-trigger'].map((topic) => [topic, 2]));
  const store = new CrashAfterWrite(every);
  const broker = new MemoryBroker();
  const pipe = async (driver: TestDriver, part: typeof events) => {
    for (let i = 0; i < part.length; i += chunk) {
      for (const e of part.slice(i, i + chunk)) {
        const [topic, key, value] =
          e.table === 'customers' ? ['shop.customers', { customer_id: e.id }, { customer_id: e.id, name: e.name }]
          : e.table === 'orders' ? ['shop.orders', { order_id: e.id }, { order_id: e.id, customer_id: e.customer, status: e.status }]
          : ['shop.lines', { line_id: e.id }, { line_id: e.id, order_id: e.order, amount: e.amount }];
        await driver.pipeInput(topic, [{ key, value: e.drop ? null : value }], serdes);
      }
    }
  };
  const half = Math.floor(events.length / 2);
  // First engine: stopped in the middle of the chain's work (records still flowing through it).
  const first = await TestDriver.start(t, { store, broker, partitions });
  await pipe(first, events.slice(0, half));
  await first.close();
  const second = await TestDriver.start(t, { store, broker, partitions });
  try {
    await pipe(second, events.slice(half));
    await second.idle(30_000);
    await oracleCheck(store);
  } finally {
    await second.close();
  }
  return store.crashes;
}

describe('views built on views', () => {
  it('an order moved to another customer updates both customers’ stats; a deleted order leaves them; a base view drives another view', async () => {
    const driver = await TestDriver.start(t);
    try {
      await driver.pipeInput('shop.customers', [{ key: { customer_id: 'c1' }, value: { customer_id: 'c1', name: 'Ann' } }, { key: { customer_id: 'c2' }, value: { customer_id: 'c2', name: 'Bo' } }], serdes);
      await driver.pipeInput('shop.orders', [{ key: { order_id: 'o1' }, value: { order_id: 'o1', customer_id: 'c1', status: 'paid' } }], serdes);
      await driver.pipeInput('shop.lines', [{ key: { line_id: 'l1' }, value: { line_id: 'l1', order_id: 'o1', amount: 30 } }], serdes);
      await driver.idle();
      const stats = async () => Object.fromEntries([...(await storedViews(statsView, driver.store)).values()].map((v) => [v['customer_id'], v['revenue']]));
      assert.deepEqual(await stats(), { c1: 30, c2: 0 });
      const card = async () => (await storedViews(cardView, driver.store)).get(JSON.stringify({ order_id: 'o1' }))?.['label'];
      assert.equal(await card(), 'Ann · 30 · Ann');

      await driver.pipeInput('shop.orders', [{ key: { order_id: 'o1' }, value: { order_id: 'o1', customer_id: 'c2', status: 'paid' } }], serdes);
      await driver.idle();
      assert.deepEqual(await stats(), { c1: 0, c2: 30 }, 'the customer the order left is re-aggregated too (sv-update v2 before image)');
      assert.equal(await card(), 'Bo · 30 · Bo');

      await driver.pipeInput('shop.orders', [{ key: { order_id: 'o1' }, value: null }], serdes);
      await driver.idle();
      assert.deepEqual(await stats(), { c1: 0, c2: 0 });
      assert.equal(await card(), undefined, 'the card of a deleted order is deleted');
      await oracleCheck(driver.store as MemoryDocumentStore);
    } finally {
      await driver.close();
    }
  });

  it('refuses an upstream view without sv-update v2.0.0 or virtual deletes, one missing from the topology, and cycles', () => {
    const plain = singleView({ name: 'sv_plain', base: orders, include: {}, map: ({ base }) => ({ order_id: base.order_id }) });
    assert.throws(() => viewSource(plain), /must emit sv-update v2\.0\.0/);
    const hard = singleView({ name: 'sv_hard', base: orders, include: {}, map: ({ base }) => ({ order_id: base.order_id }), svUpdate: { version: 'v2.0.0' } });
    assert.throws(() => viewSource(hard), /delete: 'virtualDelete'/);
    assert.throws(() => fastData({ name: 'x', projections: [customers, orders, lines], singleViews: [statsView] }), /built on 'sv_orders', which is not in this topology/);
  });

  it('an order moved to another customer, its write crashing before its sv-update, and its retry finding the order changed again (a line deleted): the customer it left is re-aggregated', async () => {
    // fast-check's shrunk counterexample (seed -1492536613, 300 runs): it failed every time before
    // the downstream trigger stage walked the before image's own __internal__previous.
    const events: ChainOp[] = [
      { table: 'lines', id: 'l3', order: 'o3', amount: 1, drop: false },
      { table: 'customers', id: 'c1', name: 'Ann', drop: true },
      { table: 'customers', id: 'c2', name: 'Ann', drop: false },
      { table: 'orders', id: 'o1', customer: 'c1', status: 'paid', drop: true },
      { table: 'orders', id: 'o3', customer: 'c2', status: 'paid', drop: false },
      { table: 'lines', id: 'l1', order: 'o1', amount: 1, drop: true },
      { table: 'orders', id: 'o3', customer: 'c1', status: 'paid', drop: false },
      { table: 'lines', id: 'l1', order: 'o1', amount: 1, drop: true },
      { table: 'lines', id: 'l1', order: 'o1', amount: 1, drop: true },
      { table: 'orders', id: 'o1', customer: 'c1', status: 'paid', drop: true },
      { table: 'customers', id: 'c1', name: 'Ann', drop: true },
      { table: 'orders', id: 'o1', customer: 'c1', status: 'paid', drop: true },
      { table: 'lines', id: 'l3', order: 'o1', amount: 1, drop: true },
    ];
    assert.ok((await chainRun(events, 2, 1)) > 0, 'crashes were injected');
  });

  it('random histories with crashes after the middle view’s writes and a restart half-way: every view of the chain equals the oracle', async () => {
    const op = fc.oneof(
      fc.record({ table: fc.constant('customers' as const), id: fc.constantFrom('c1', 'c2', 'c3'), name: fc.constantFrom('Ann', 'Bo', 'Cy'), drop: fc.integer({ min: 0, max: 9 }).map((n) => n < 2) }),
      fc.record({ table: fc.constant('orders' as const), id: fc.constantFrom('o1', 'o2', 'o3', 'o4'), customer: fc.constantFrom('c1', 'c2', 'c3'), status: fc.constantFrom('paid', 'cancelled'), drop: fc.integer({ min: 0, max: 9 }).map((n) => n < 2) }),
      fc.record({ table: fc.constant('lines' as const), id: fc.constantFrom('l1', 'l2', 'l3', 'l4', 'l5'), order: fc.constantFrom('o1', 'o2', 'o3', 'o4'), amount: fc.integer({ min: 1, max: 50 }), drop: fc.integer({ min: 0, max: 9 }).map((n) => n < 2) }),
    );
    let crashes = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 4, maxLength: 50 }), fc.constantFrom(0, 2, 3, 5), fc.integer({ min: 1, max: 6 }), async (events: ChainOp[], every, chunk) => {
        crashes += await chainRun(events, every, chunk);
      }),
      { numRuns: Number(process.env['CHAIN_RUNS'] ?? 25) },
    );
    // That the histories crashed at all: how often is chance (a quarter of the runs crash never,
    // short ones rarely; 9-29 crashes per 25 runs in 30 repetitions, 4 once in CI), so only zero
    // fails here. That a crash is injected where the chain needs it is the fixed history above.
    assert.ok(crashes > 0, `crashes were injected (${crashes})`);
  });
});
