/**
 * The single-view layer: the automatic strategy (changed document → view keys) and manual
 * strategies, sv-trigger events, batched aggregation, upsert/delete strategies, validation, error
 * records, retries, sv-update events, and the types `map` receives.
 * Formats: fastdata.md §3.5–§3.7, §4.3–§4.8.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TributaryError } from '../../src/errors.js';
import { basic, type Row } from '../../src/fastdata/cdc/index.js';
import { fastData } from '../../src/fastdata/fast-data.js';
import { field } from '../../src/fastdata/projection/fields.js';
import { projection } from '../../src/fastdata/projection/projection.js';
import { aggregateViews } from '../../src/fastdata/singleview/aggregate-views.js';
import type { SvTrigger } from '../../src/fastdata/singleview/events.js';
import { hasMany, hasOne } from '../../src/fastdata/singleview/relations.js';
import { singleView, type MapInput, type SingleView, type SingleViewOptions } from '../../src/fastdata/singleview/single-view.js';
import { affectedKeys } from '../../src/fastdata/singleview/strategy.js';
import { triggerViews } from '../../src/fastdata/singleview/trigger-views.js';
import { MemoryDocumentStore } from '../../src/store/memory/memory-store.js';
import type { DocumentStore, Filter, FindOptions, IndexSpec } from '../../src/store/types.js';
import { toTopic } from '../../src/stream/operators/to-topic.js';
import { DEAD_LETTER_HEADERS } from '../../src/stream/runtime/dead-letter.js';
import { json } from '../../src/stream/serdes/json.js';
import { topology } from '../../src/stream/topology.js';
import { TestDriver } from '../../src/testing/test-driver.js';
import { CountingStore } from '../contract/counting-store.js';

const NOW = new Date('2026-03-04T05:06:07.000Z');
const EARLIER = new Date('2026-01-01T00:00:00.000Z');
const TRIGGERS = 'sv_customers.sv-trigger';
const UPDATES = 'sv_customers.sv-update';
const ERRORS = 'sv_customers-errors';
const SV_TRIGGER_SCHEMA = JSON.stringify({ type: 'sv-trigger', version: 'v1.0.0' });

// --- the model: customers ← orders ← order lines, customer preferences, a referrer ----------

const customers = projection({
  name: 'pr_customers',
  source: { topic: 'crm.customers', adapter: basic() },
  primaryKey: ['customer_id'],
  fields: { customer_id: field.string(), name: field.string(), referred_by: field.string({ nullable: true }) },
});
const orders = projection({
  name: 'pr_orders',
  source: { topic: 'crm.orders', adapter: basic() },
  primaryKey: ['order_id'],
  fields: { order_id: field.string(), customer_id: field.string({ nullable: true }), total: field.number() },
});
const lines = projection({
  name: 'pr_order_lines',
  source: { topic: 'crm.order_lines', adapter: basic() },
  primaryKey: ['order_id', 'line_no'],
  fields: { order_id: field.string({ nullable: true }), line_no: field.integer(), sku: field.string() },
});
const prefs = projection({
  name: 'pr_prefs',
  source: { topic: 'crm.prefs', adapter: basic() },
  primaryKey: ['customer_id'],
  fields: { customer_id: field.string(), channel: field.string() },
});

type CustomerDoc = NonNullable<(typeof customers)['__doc']>;

const include = {
  orders: hasMany(orders, { customer_id: 'customer_id' }, { include: { lines: hasMany(lines, { order_id: 'order_id' }) } }),
  prefs: hasOne(prefs, { customer_id: 'customer_id' }),
  referrer: hasOne(customers, { customer_id: 'referred_by' }),
};

function mapCustomer({ base, orders: list, prefs: pref, referrer }: MapInput<CustomerDoc, typeof include>) {
  return {
    customer_id: base.customer_id,
    name: base.name,
    channel: pref?.channel ?? null,
    referrer: referrer?.name ?? null,
    orders: list.map((o) => ({ order_id: o.order_id, total: o.total, skus: o.lines.map((l) => l.sku) })),
  };
}
type CustomerView = ReturnType<typeof mapCustomer>;
type Extra = Partial<Omit<SingleViewOptions<CustomerDoc, typeof include, CustomerView>, 'name' | 'base' | 'include'>>;

function customerView(extra: Extra = {}): SingleView<CustomerView> {
  return singleView({ name: 'sv_customers', base: customers, include, map: mapCustomer, ...extra });
}

// --- helpers ---------------------------------------------------------------------------------


/** Writes projection documents as the ingest stage would (PUBLIC unless told). */
async function seed(store: DocumentStore, name: string, primaryKey: readonly string[], docs: readonly Row[]): Promise<void> {
  await store.collection(name).bulkWrite(
    docs.map((d) => ({ kind: 'replace', filter: Object.fromEntries(primaryKey.map((k) => [k, d[k]])), document: { __STATE__: 'PUBLIC', ...d } })),
  );
}

/** c1 (orders o1, o2; prefs; referred by c2), c2 (order o3), c3 (nothing). */
async function seedModel(store: DocumentStore): Promise<void> {
  await seed(store, 'pr_customers', ['customer_id'], [
    { customer_id: 'c1', name: 'Ann', referred_by: 'c2' },
    { customer_id: 'c2', name: 'Bo', referred_by: null },
    { customer_id: 'c3', name: 'Cy', referred_by: null },
  ]);
  // Stored out of primary-key order on purpose.
  await seed(store, 'pr_orders', ['order_id'], [
    { order_id: 'o2', customer_id: 'c1', total: 20 },
    { order_id: 'o3', customer_id: 'c2', total: 30 },
    { order_id: 'o1', customer_id: 'c1', total: 10 },
  ]);
  await seed(store, 'pr_order_lines', ['order_id', 'line_no'], [
    { order_id: 'o1', line_no: 2, sku: 'B' },
    { order_id: 'o1', line_no: 1, sku: 'A' },
    { order_id: 'o2', line_no: 1, sku: 'C' },
    { order_id: 'o3', line_no: 1, sku: 'D' },
  ]);
  await seed(store, 'pr_prefs', ['customer_id'], [{ customer_id: 'c1', channel: 'email' }]);
}

const KAFKA_INFO = { topic: 'crm.order_lines', partition: 0, offset: '41', timestamp: '2026-03-04T05:00:00.000Z', key: { order_id: 'o1', line_no: 1 } };

function trigger(customerId: string, extra: Partial<SvTrigger> = {}): { key: Row; value: SvTrigger } {
  const key = { customer_id: customerId };
  return {
    key,
    value: {
      type: 'aggregation',
      singleViewName: 'sv_customers',
      singleViewIdentifier: key,
      change: { projectionName: 'pr_order_lines', projectionIdentifier: { order_id: 'o1', line_no: 1 }, data: { order_id: 'o1', line_no: 1, sku: 'A' } },
      __internal__kafkaInfo: KAFKA_INFO,
      ...extra,
    },
  };
}

/** The aggregate stage alone, reading `sv_customers.sv-trigger`. */
async function aggregator(view: SingleView<object>, store: DocumentStore = new MemoryDocumentStore()): Promise<TestDriver> {
  const t = topology('aggregate-test');
  t.stream(TRIGGERS, { key: json<unknown>(), value: json<unknown>(), name: 'aggregate' }).pipe(
    aggregateViews(view, { triggerTopic: TRIGGERS, svUpdateTopic: UPDATES, errorsCollection: ERRORS, source: 'crm', now: () => NOW }),
  );
  return TestDriver.start(t, { store });
}

async function aggregate(driver: TestDriver, ...customerIds: string[]): Promise<void> {
  await driver.pipeInput(TRIGGERS, customerIds.map((id) => trigger(id)), { key: json<Row>(), value: json<SvTrigger>() });
  await driver.idle();
}

async function views(store: DocumentStore): Promise<Map<string, Row>> {
  const docs = await store.collection('sv_customers').find({}, { sort: { customer_id: 1 } });
  return new Map(docs.map((d) => [String(d['customer_id']), d]));
}

async function readJson(driver: TestDriver, topic: string) {
  return driver.readOutput(topic, { key: json<Row>(), value: json<Row>() });
}

// --- strategy ------------------------------------------------------------------------------

describe('automatic strategy', () => {
  it('walks a change of a nested included projection up to the base key (order line → order → customer)', async () => {
    const store = new MemoryDocumentStore();
    await seedModel(store);
    const keys = await affectedKeys(customerView(), [{ projection: 'pr_order_lines', before: null, after: { order_id: 'o3', line_no: 7, sku: 'Z' } }], store);
    assert.deepEqual(keys, [{ customer_id: 'c2' }]);
  });

  it('an order moving from customer A to B triggers both (before AND after)', async () => {
    const store = new MemoryDocumentStore();
    await seedModel(store);
    const keys = await affectedKeys(
      customerView(),
      [{ projection: 'pr_orders', before: { order_id: 'o1', customer_id: 'c1', total: 10 }, after: { order_id: 'o1', customer_id: 'c3', total: 10 } }],
      store,
    );
    assert.deepEqual(keys, [{ customer_id: 'c1' }, { customer_id: 'c3' }]);
  });

  it('a change of the base gives its own key; of a doubly used projection, every key that reads it', async () => {
    const store = new MemoryDocumentStore();
    await seedModel(store);
    // c2 is the base of its own view and the referrer of c1.
    const keys = await affectedKeys(customerView(), [{ projection: 'pr_customers', before: null, after: { customer_id: 'c2', name: 'Bob', referred_by: null } }], store);
    assert.deepEqual(keys, [{ customer_id: 'c2' }, { customer_id: 'c1' }]);
  });

  it('a condition whose field is missing matches nothing', async () => {
    const store = new MemoryDocumentStore();
    await seedModel(store);
    // An orphan order (no customer) and an orphan line (no order): no view to re-aggregate.
    await seed(store, 'pr_orders', ['order_id'], [{ order_id: 'o9', customer_id: null, total: 1 }]);
    const keys = await affectedKeys(
      customerView(),
      [
        { projection: 'pr_orders', before: null, after: { order_id: 'o9', customer_id: null, total: 1 } },
        { projection: 'pr_order_lines', before: null, after: { order_id: null, line_no: 1, sku: 'X' } },
        { projection: 'pr_order_lines', before: null, after: { order_id: 'o9', line_no: 1, sku: 'X' } },
      ],
      store,
    );
    assert.deepEqual(keys, []);
    // A customer without a referrer is no customer's referrer (referred_by: null does not match every customer).
    const c3 = await affectedKeys(customerView(), [{ projection: 'pr_customers', before: null, after: { customer_id: 'c3', name: 'Cy', referred_by: null } }], store);
    assert.deepEqual(c3, [{ customer_id: 'c3' }]);
  });

  it('a manual strategy replaces the automatic one for its projection only', async () => {
    const store = new MemoryDocumentStore();
    await seedModel(store);
    const seen: Row[] = [];
    const view = customerView({
      strategies: {
        pr_orders: async (change, tools) => {
          seen.push({ projection: change.projection, after: change.after });
          const prefsOfC1 = await tools.find('pr_prefs', { customer_id: 'c1' });
          return [{ customer_id: `manual-${prefsOfC1.length}` }];
        },
      },
    });
    const keys = await affectedKeys(
      view,
      [
        { projection: 'pr_orders', before: null, after: { order_id: 'o3', customer_id: 'c2', total: 31 } },
        { projection: 'pr_order_lines', before: null, after: { order_id: 'o1', line_no: 1, sku: 'A' } },
      ],
      store,
    );
    assert.deepEqual(keys, [{ customer_id: 'manual-1' }, { customer_id: 'c1' }], 'no automatic key c2 for the order; lines still walk up automatically');
    assert.deepEqual(seen, [{ projection: 'pr_orders', after: { order_id: 'o3', customer_id: 'c2', total: 31 } }]);
  });
});

// --- sv-trigger ------------------------------------------------------------------------------

describe('triggerViews', () => {
  it('emits sv-trigger v1.0.0 keyed by the view key, one per key and batch, naming the change that caused it', async () => {
    const view = customerView();
    const t = topology('trigger-test');
    t.stream(['pr_orders.pr-update', 'pr_order_lines.pr-update'], { key: json<unknown>(), value: json<unknown>(), name: 'trigger' }).pipe(
      triggerViews(view),
      toTopic(TRIGGERS, { key: json(), value: json() }),
    );
    const store = new MemoryDocumentStore();
    await seedModel(store);
    const driver = await TestDriver.start(t, { store });
    try {
      const info = (offset: number) => ({ topic: 'crm.order_lines', partition: 3, offset: String(offset), timestamp: '2026-03-04T05:00:00.000Z', key: { LINE: offset } });
      const lineV1 = (orderId: string, lineNo: number, offset: number) => ({
        key: { order_id: orderId, line_no: lineNo },
        value: {
          operationType: 'UPDATE',
          operationTimestamp: '2026-03-04T05:00:01.000Z',
          projectionName: 'pr_order_lines',
          source: 'crm',
          primaryKeys: ['order_id', 'line_no'],
          before: { order_id: orderId, line_no: lineNo, sku: 'old' },
          after: { order_id: orderId, line_no: lineNo, sku: `new-${offset}`, __STATE__: 'PUBLIC' },
          __internal__kafkaInfo: info(offset),
        },
      });
      // One batch, interleaved: lines of c1's order o1 (offsets 100, 102) and of c2's order o3 (101, 103).
      await driver.pipeInput('pr_order_lines.pr-update', [lineV1('o1', 1, 100), lineV1('o3', 1, 101), lineV1('o1', 2, 102), lineV1('o3', 1, 103)], { key: json(), value: json() });
      await driver.idle();
      const out = await readJson(driver, TRIGGERS);
      assert.deepEqual(out.map((r) => r.key), [{ customer_id: 'c1' }, { customer_id: 'c2' }], 'de-duplicated per batch, keyed by the view key');
      for (const r of out) assert.equal(r.headers['messageSchema'], SV_TRIGGER_SCHEMA);
      assert.deepEqual(out[0]?.value, {
        type: 'aggregation',
        singleViewName: 'sv_customers',
        singleViewIdentifier: { customer_id: 'c1' },
        change: {
          projectionName: 'pr_order_lines',
          projectionIdentifier: { order_id: 'o1', line_no: 2 },
          data: { order_id: 'o1', line_no: 2, sku: 'new-102', __STATE__: 'PUBLIC' },
        },
        __internal__kafkaInfo: info(102),
      });
      assert.deepEqual((out[1]?.value?.['change'] as Row)['data'], { order_id: 'o3', line_no: 1, sku: 'new-103', __STATE__: 'PUBLIC' }, 'c2 names its own cause');
      assert.deepEqual(out[1]?.value?.['__internal__kafkaInfo'], info(103));

      // pr-update v2.0.0: the ingestion kafkaInfo comes from the projection document.
      await driver.pipeInput(
        'pr_orders.pr-update',
        [
          {
            key: { order_id: 'o1' },
            value: {
              operation: { type: 'UPDATE', timestamp: '2026-03-04T05:00:01.000Z' },
              source: 'crm',
              storageNamespace: 'pr_orders',
              primaryKeys: ['order_id'],
              before: { order_id: 'o1', customer_id: 'c1', total: 10 },
              after: { order_id: 'o1', customer_id: 'c3', total: 10, __internal__kafkaInfo: info(7) },
            },
          },
        ],
        { key: json(), value: json() },
      );
      await driver.idle();
      const moved = (await readJson(driver, TRIGGERS)).slice(2);
      assert.deepEqual(moved.map((r) => r.key), [{ customer_id: 'c1' }, { customer_id: 'c3' }], 'a moved order triggers its old and its new customer');
      assert.deepEqual(moved[0]?.value?.['__internal__kafkaInfo'], info(7));
      assert.deepEqual((moved[0]?.value['change'] as Row)['projectionIdentifier'], { order_id: 'o1' });
    } finally {
      await driver.close();
    }
  });

  it('end to end: CDC → projections → triggers → views, an order moving from one customer to another updates both', async () => {
    const view = customerView();
    const store = new MemoryDocumentStore();
    const driver = await TestDriver.start(fastData({ name: 'e2e', projections: [customers, orders, lines, prefs], singleViews: [view], source: 'crm' }), { store });
    const serdes = { key: json<Row>(), value: json<Row>() };
    try {
      await driver.pipeInput('crm.customers', [{ key: { customer_id: 'a' }, value: { customer_id: 'a', name: 'A' } }, { key: { customer_id: 'b' }, value: { customer_id: 'b', name: 'B' } }], serdes);
      await driver.pipeInput('crm.orders', [{ key: { order_id: 'o1' }, value: { order_id: 'o1', customer_id: 'a', total: 5 } }], serdes);
      await driver.pipeInput('crm.order_lines', [{ key: { order_id: 'o1', line_no: 1 }, value: { order_id: 'o1', line_no: 1, sku: 'S' } }], serdes);
      await driver.idle();
      let stored = await views(store);
      assert.deepEqual(stored.get('a')?.['orders'], [{ order_id: 'o1', total: 5, skus: ['S'] }]);
      assert.deepEqual(stored.get('b')?.['orders'], []);

      await driver.pipeInput('crm.orders', [{ key: { order_id: 'o1' }, value: { order_id: 'o1', customer_id: 'b', total: 5 } }], serdes);
      await driver.idle();
      stored = await views(store);
      assert.deepEqual(stored.get('a')?.['orders'], []);
      assert.deepEqual(stored.get('b')?.['orders'], [{ order_id: 'o1', total: 5, skus: ['S'] }]);
      const svUpdates = await readJson(driver, 'sv_customers.sv-update');
      assert.ok(svUpdates.length >= 4);
      // Fast Data copies the ingestion record's __internal__kafkaInfo into sv-trigger and sv-update v1.0.0.
      const triggers = await readJson(driver, TRIGGERS);
      const moved = triggers.slice(-2);
      assert.deepEqual(moved.map((r) => r.key), [{ customer_id: 'a' }, { customer_id: 'b' }]);
      for (const r of moved) assert.deepEqual(r.value?.['__internal__kafkaInfo'], { topic: 'crm.orders', partition: 0, offset: '1', timestamp: (r.value?.['__internal__kafkaInfo'] as Row)['timestamp'], key: { order_id: 'o1' } });
      assert.deepEqual(svUpdates.at(-1)?.value?.['__internal__kafkaInfo'], moved.at(-1)?.value?.['__internal__kafkaInfo']);
    } finally {
      await driver.close();
    }
  });
});

describe('fastData indexes', () => {
  it('never asks for two indexes with the same key pattern (MongoDB refuses them), and indexes the view key', async () => {
    const store = new CountingStore();
    const driver = await TestDriver.start(fastData({ name: 'indexes', projections: [customers, orders, lines, prefs], singleViews: [customerView()] }), { store });
    try {
      const byCollection = new Map<string, IndexSpec[]>();
      for (const c of store.calls) if (c.method === 'createIndexes') byCollection.set(c.collection, [...(byCollection.get(c.collection) ?? []), ...(c.arg as IndexSpec[])]);
      for (const [collection, specs] of byCollection) {
        const patterns = specs.map((i) => JSON.stringify(Object.entries(i.fields)));
        assert.equal(new Set(patterns).size, patterns.length, `${collection}: ${patterns.join(' ')}`);
      }
      // pr_customers.customer_id is both its primary key and the parent side of orders and prefs.
      assert.deepEqual(byCollection.get('pr_customers')?.find((i) => i.name === 'mia_primary_key_index'), { name: 'mia_primary_key_index', fields: { customer_id: 1 }, unique: true });
      assert.ok(byCollection.get('pr_orders')?.some((i) => JSON.stringify(i.fields) === JSON.stringify({ customer_id: 1, __STATE__: 1 })), 'foreign key of orders, with __STATE__ as Fast Data indexes it');
      assert.deepEqual(byCollection.get('sv_customers'), [{ name: 'sv_key_index', fields: { customer_id: 1 }, unique: true }]);
    } finally {
      await driver.close();
    }
  });
});

// --- aggregation -----------------------------------------------------------------------------

describe('aggregateViews: batched lookups', () => {
  it('makes one find on the base and one per relation of the include tree, whatever the number of keys', async () => {
    const store = new CountingStore();
    await seedModel(store.inner);
    const more = Array.from({ length: 20 }, (_, i) => `m${String(i).padStart(2, '0')}`);
    await seed(store.inner, 'pr_customers', ['customer_id'], more.map((id) => ({ customer_id: id, name: id, referred_by: 'c1' })));
    await seed(store.inner, 'pr_orders', ['order_id'], more.map((id) => ({ order_id: `o-${id}`, customer_id: id, total: 1 })));
    await seed(store.inner, 'pr_order_lines', ['order_id', 'line_no'], more.map((id) => ({ order_id: `o-${id}`, line_no: 1, sku: id })));
    await seed(store.inner, 'pr_prefs', ['customer_id'], more.map((id) => ({ customer_id: id, channel: 'sms' })));
    const driver = await aggregator(customerView(), store);
    try {
      const counts = () => ({
        base: store.count('pr_customers', 'find'),
        orders: store.count('pr_orders', 'find'),
        lines: store.count('pr_order_lines', 'find'),
        prefs: store.count('pr_prefs', 'find'),
        views: store.count('sv_customers', 'find'),
        writes: store.count('sv_customers', 'bulkWrite'),
        findOne: store.calls.filter((c) => c.method === 'findOne' && c.collection !== 'tributary_view_definitions').length,
        // The blue/green fence: one read of the view's definitions per batch, whatever the number of keys.
        fence: store.count('tributary_view_definitions', 'findOne'),
      });
      await aggregate(driver, 'c1');
      const one = counts();
      // pr_customers is read twice: as the base and as the `referrer` relation.
      assert.deepEqual(one, { base: 2, orders: 1, lines: 1, prefs: 1, views: 1, writes: 1, findOne: 0, fence: 1 });
      await aggregate(driver, 'c1', 'c2', 'c3', ...more);
      const many = counts();
      assert.deepEqual(
        Object.fromEntries(Object.entries(many).map(([k, v]) => [k, v - one[k as keyof typeof one]])),
        one,
        '23 keys cost the same queries as one: 1 (base) + 4 relations (+ 1 read of the stored views, + 1 of the definitions)',
      );
      assert.equal((await views(store.inner)).size, 23);
    } finally {
      await driver.close();
    }
  });
});

describe('aggregateViews: assembling', () => {
  it('hasOne gives a document or null, hasMany an array ordered by primary key (nested too)', async () => {
    const store = new MemoryDocumentStore();
    await seedModel(store);
    const driver = await aggregator(customerView(), store);
    try {
      await aggregate(driver, 'c1', 'c2', 'c3');
      const stored = await views(store);
      const strip = (d: Row | undefined) => d && Object.fromEntries(Object.entries(d).filter(([k]) => !['_id', 'createdAt', 'updatedAt', '__STATE__'].includes(k)));
      assert.deepEqual(strip(stored.get('c1')), {
        customer_id: 'c1',
        name: 'Ann',
        channel: 'email',
        referrer: 'Bo',
        orders: [
          { order_id: 'o1', total: 10, skus: ['A', 'B'] },
          { order_id: 'o2', total: 20, skus: ['C'] },
        ],
      });
      assert.deepEqual(strip(stored.get('c2')), { customer_id: 'c2', name: 'Bo', channel: null, referrer: null, orders: [{ order_id: 'o3', total: 30, skus: ['D'] }] });
      assert.deepEqual(strip(stored.get('c3')), { customer_id: 'c3', name: 'Cy', channel: null, referrer: null, orders: [] });
      assert.equal(stored.get('c1')?.['__STATE__'], 'PUBLIC');
      assert.deepEqual(stored.get('c1')?.['createdAt'], NOW);
    } finally {
      await driver.close();
    }
  });

  it('includes only PUBLIC documents; onStates widens a relation, and the base', async () => {
    const store = new MemoryDocumentStore();
    await seed(store, 'pr_customers', ['customer_id'], [
      { customer_id: 'c1', name: 'Ann', referred_by: null },
      { customer_id: 'c2', name: 'Draft', referred_by: null, __STATE__: 'DRAFT' },
    ]);
    await seed(store, 'pr_orders', ['order_id'], [
      { order_id: 'o1', customer_id: 'c1', total: 1 },
      { order_id: 'o2', customer_id: 'c1', total: 2, __STATE__: 'DRAFT' },
      { order_id: 'o3', customer_id: 'c1', total: 3, __STATE__: 'DELETED' },
    ]);
    const narrow = singleView({
      name: 'sv_customers',
      base: customers,
      include: { orders: hasMany(orders, { customer_id: 'customer_id' }) },
      map: ({ base, orders: list }) => ({ customer_id: base.customer_id, orders: list.map((o) => o.order_id) }),
    });
    const wide = singleView({
      name: 'sv_customers',
      base: customers,
      include: { orders: hasMany(orders, { customer_id: 'customer_id' }, { onStates: ['PUBLIC', 'DRAFT'] }) },
      map: ({ base, orders: list }) => ({ customer_id: base.customer_id, orders: list.map((o) => o.order_id) }),
      onStates: ['PUBLIC', 'DRAFT'],
    });
    let driver = await aggregator(narrow, store);
    try {
      await aggregate(driver, 'c1', 'c2');
      const stored = await views(store);
      assert.deepEqual(stored.get('c1')?.['orders'], ['o1']);
      assert.equal(stored.has('c2'), false, 'a DRAFT base has no view by default');
    } finally {
      await driver.close();
    }
    driver = await aggregator(wide, store);
    try {
      await aggregate(driver, 'c1', 'c2');
      const stored = await views(store);
      assert.deepEqual(stored.get('c1')?.['orders'], ['o1', 'o2'], 'DELETED stays out');
      assert.deepEqual(stored.get('c2')?.['orders'], []);
    } finally {
      await driver.close();
    }
  });

  it('keeps a __STATE__ returned by map, else the view is PUBLIC', async () => {
    const store = new MemoryDocumentStore();
    await seedModel(store);
    const view = customerView({ map: (input) => ({ ...mapCustomer(input), ...(input.base.customer_id === 'c2' ? { __STATE__: 'DRAFT' } : {}) }) });
    const driver = await aggregator(view, store);
    try {
      await aggregate(driver, 'c1', 'c2');
      const stored = await views(store);
      assert.equal(stored.get('c1')?.['__STATE__'], 'PUBLIC');
      assert.equal(stored.get('c2')?.['__STATE__'], 'DRAFT');
    } finally {
      await driver.close();
    }
  });
});

describe('multi-field conditions and view keys', () => {
  const accounts = projection({
    name: 'pr_accounts',
    source: { topic: 'crm.accounts', adapter: basic() },
    primaryKey: ['account_id'],
    fields: { account_id: field.string(), region: field.string(), tier: field.string() },
  });
  const rates = projection({
    name: 'pr_rates',
    source: { topic: 'crm.rates', adapter: basic() },
    primaryKey: ['region', 'tier'],
    fields: { region: field.string(), tier: field.string(), rate: field.number() },
  });
  const accountView = singleView({
    name: 'sv_accounts',
    base: accounts,
    key: { id: 'account_id' },
    include: { rates: hasMany(rates, { region: 'region', tier: 'tier' }) },
    map: ({ base, rates: list }) => ({ id: base.account_id, rates: list.map((r) => r.rate) }),
  });
  async function seedAccounts(store: DocumentStore): Promise<void> {
    await seed(store, 'pr_accounts', ['account_id'], [
      { account_id: 'a1', region: 'eu', tier: 'gold' },
      { account_id: 'a2', region: 'us', tier: 'silver' },
    ]);
    await seed(store, 'pr_rates', ['region', 'tier'], [
      { region: 'eu', tier: 'gold', rate: 1 },
      { region: 'eu', tier: 'silver', rate: 2 },
      { region: 'us', tier: 'gold', rate: 3 },
      { region: 'us', tier: 'silver', rate: 4 },
    ]);
  }

  it('match exact tuples, not the cross product of their values, both ways', async () => {
    const store = new MemoryDocumentStore();
    await seedAccounts(store);
    const crossed = await affectedKeys(
      accountView,
      [
        { projection: 'pr_rates', before: null, after: { region: 'eu', tier: 'silver', rate: 2 } },
        { projection: 'pr_rates', before: null, after: { region: 'us', tier: 'gold', rate: 3 } },
      ],
      store,
    );
    assert.deepEqual(crossed, []);
    const exact = await affectedKeys(accountView, [{ projection: 'pr_rates', before: null, after: { region: 'us', tier: 'silver', rate: 5 } }], store);
    assert.deepEqual(exact, [{ id: 'a2' }], 'keys use the view key names');

    const t = topology('accounts');
    t.stream('sv_accounts.sv-trigger', { key: json<unknown>(), value: json<unknown>(), name: 'aggregate' }).pipe(
      aggregateViews(accountView, { triggerTopic: 'sv_accounts.sv-trigger', svUpdateTopic: null, errorsCollection: 'sv_accounts-errors', source: 'crm', now: () => NOW }),
    );
    const driver = await TestDriver.start(t, { store });
    try {
      const key = (id: string) => ({ key: { id }, value: { ...trigger('x').value, singleViewName: 'sv_accounts', singleViewIdentifier: { id } } });
      await driver.pipeInput('sv_accounts.sv-trigger', [key('a1'), key('a2')], { key: json<Row>(), value: json<SvTrigger>() });
      await driver.idle();
      const docs = await store.collection('sv_accounts').find({}, { sort: { id: 1 }, projection: { id: 1, rates: 1 } });
      assert.deepEqual(docs.map((d) => [d['id'], d['rates']]), [
        ['a1', [1]],
        ['a2', [4]],
      ]);
    } finally {
      await driver.close();
    }
  });

  it('a relation without a join condition is refused when the view is declared', () => {
    assert.throws(
      () =>
        singleView({
          name: 'sv_bad',
          base: accounts,
          include: { rates: hasMany(rates, {}) },
          map: ({ base }) => ({ id: base.account_id }),
        }),
      (error: unknown) => error instanceof TributaryError && error.code === 'TRB_TOPOLOGY' && /rates/.test(error.message),
    );
  });
});

describe('aggregateViews: deletes, validation and errors', () => {
  it('deletes the view when the base is missing or not PUBLIC', async () => {
    const store = new MemoryDocumentStore();
    await seedModel(store);
    const driver = await aggregator(customerView(), store);
    try {
      await aggregate(driver, 'c1', 'c2');
      assert.deepEqual([...(await views(store)).keys()], ['c1', 'c2']);
      await seed(store, 'pr_customers', ['customer_id'], [{ customer_id: 'c1', name: 'Ann', referred_by: 'c2', __STATE__: 'DELETED' }]);
      await store.collection('pr_customers').bulkWrite([{ kind: 'delete', filter: { customer_id: 'c2' } }]);
      await aggregate(driver, 'c1', 'c2', 'nobody');
      assert.deepEqual([...(await views(store)).keys()], []);
      const updates = await readJson(driver, UPDATES);
      assert.deepEqual(updates.map((u) => [u.key, u.value?.['operationType']]), [
        [{ customer_id: 'c1' }, 'INSERT'],
        [{ customer_id: 'c2' }, 'INSERT'],
        [{ customer_id: 'c1' }, 'DELETE'],
        [{ customer_id: 'c2' }, 'DELETE'],
      ], 'no sv-update for a view that did not exist');
    } finally {
      await driver.close();
    }
  });

  it('validate() false deletes the view and records a VALIDATION_ERROR', async () => {
    const store = new MemoryDocumentStore();
    await seedModel(store);
    let strict = false;
    const driver = await aggregator(customerView({ validate: (v) => !strict || v.orders.length > 0 }), store);
    try {
      await aggregate(driver, 'c3');
      assert.ok((await views(store)).has('c3'));
      strict = true;
      await aggregate(driver, 'c3');
      assert.equal((await views(store)).has('c3'), false);
      const errors = await store.collection(ERRORS).find({});
      assert.equal(errors.length, 1);
      const { _id: _ignored, errorId, ...error } = errors[0] as Row;
      assert.equal(typeof errorId, 'string');
      assert.deepEqual(error, {
        portfolioOrigin: 'crm',
        type: 'sv_customers',
        identifier: { customer_id: 'c3' },
        errorType: 'VALIDATION_ERROR',
        errorMessage: 'validate() returned false: the single view was deleted',
        resolutionMethod: 'AGGREGATION',
        createdAt: NOW,
        updatedAt: NOW,
        creatorId: 'tributary',
        updaterId: 'tributary',
        __STATE__: 'PUBLIC',
      });
      assert.deepEqual((await readJson(driver, UPDATES)).map((u) => u.value?.['operationType']), ['INSERT', 'DELETE']);
    } finally {
      await driver.close();
    }
  });

  it('a throwing map records UNKNOWN_ERROR, re-publishes the trigger with retry.attempts, then dead-letters it', async () => {
    const store = new MemoryDocumentStore();
    await seedModel(store);
    const view = customerView({
      maxAttempts: 2,
      map: (input) => {
        if (input.base.customer_id === 'c1') throw new Error('boom');
        return mapCustomer(input);
      },
    });
    const driver = await aggregator(view, store);
    try {
      await aggregate(driver, 'c1', 'c2');
      const triggers = await readJson(driver, TRIGGERS);
      assert.equal(triggers.length, 4, 'the two originals, then c1 retried twice');
      const retries = triggers.slice(2);
      for (const [i, r] of retries.entries()) {
        assert.deepEqual(r.key, { customer_id: 'c1' });
        assert.equal(r.headers['messageSchema'], SV_TRIGGER_SCHEMA);
        assert.deepEqual(r.value, { ...trigger('c1').value, retry: { attempts: i + 1, lastError: { type: 'UNKNOWN_ERROR', message: 'boom' } } });
      }
      const dlq = driver.broker.partitions(`${TRIGGERS}.dlq`).flat();
      assert.equal(dlq.length, 1, 'after maxAttempts the trigger is dead-lettered');
      assert.equal(dlq[0]?.headers[DEAD_LETTER_HEADERS.code], 'TRB_PROCESS');
      assert.equal((JSON.parse(String(dlq[0]?.value)) as SvTrigger).retry?.attempts, 2);
      const errors = await store.collection(ERRORS).find({});
      assert.deepEqual(errors.map((e) => [e['errorType'], e['errorMessage'], e['identifier']]), Array(3).fill(['UNKNOWN_ERROR', 'boom', { customer_id: 'c1' }]));
      const stored = await views(store);
      assert.deepEqual([...stored.keys()], ['c2'], 'the other key of the batch is aggregated');
    } finally {
      await driver.close();
    }
  });
});

describe('aggregateViews: upsert and delete strategies', () => {
  const existing = { customer_id: 'c1', name: 'Old', note: 'kept by update', createdAt: EARLIER, updatedAt: EARLIER, __STATE__: 'PUBLIC' };

  for (const upsert of ['replace', 'update'] as const) {
    it(`upsert '${upsert}' ${upsert === 'replace' ? 'replaces the view' : 'sets only the mapped fields'}`, async () => {
      const store = new MemoryDocumentStore();
      await seedModel(store);
      await seed(store, 'sv_customers', ['customer_id'], [existing]);
      const driver = await aggregator(customerView({ upsert, svUpdate: { beforeAfter: true } }), store);
      try {
        await aggregate(driver, 'c1');
        const view = (await views(store)).get('c1');
        assert.equal(view?.['name'], 'Ann');
        assert.equal(view?.['note'], upsert === 'update' ? 'kept by update' : undefined);
        assert.deepEqual(view?.['createdAt'], EARLIER, 'createdAt of a live view is kept');
        assert.deepEqual(view?.['updatedAt'], NOW);
        const [update] = await readJson(driver, UPDATES);
        assert.equal(update?.value?.['operationType'], 'UPDATE');
        assert.equal((update?.value['after'] as Row)['note'], upsert === 'update' ? 'kept by update' : undefined, 'sv-update after is the view as now stored');
      } finally {
        await driver.close();
      }
    });
  }

  it('with sv-update v1.0.0 and no before/after (the defaults) the stored views are read narrowly (state, createdAt), and createdAt and UPDATE come out as from whole ones', async () => {
    const store = new MemoryDocumentStore();
    await seedModel(store);
    await seed(store, 'sv_customers', ['customer_id'], [existing]);
    const projections: unknown[] = [];
    const spying: DocumentStore = Object.assign(Object.create(store) as DocumentStore, {
      collection(name: string) {
        const inner = store.collection(name);
        if (name !== 'sv_customers') return inner;
        return Object.assign(Object.create(inner) as typeof inner, {
          find: (filter: Filter, options?: FindOptions) => (projections.push(options?.projection), inner.find(filter, options)),
        });
      },
    });
    const driver = await aggregator(customerView(), spying);
    try {
      await aggregate(driver, 'c1');
      assert.deepEqual(projections[0], { customer_id: 1, __STATE__: 1, createdAt: 1 }, 'only what the write and the event need');
      const view = (await views(store)).get('c1');
      assert.deepEqual(view?.['createdAt'], EARLIER, 'createdAt of a live view is kept');
      assert.equal(view?.['note'], undefined, 'replaced whole');
      const [update] = await readJson(driver, UPDATES);
      assert.equal(update?.value?.['operationType'], 'UPDATE');
    } finally {
      await driver.close();
    }
  });

  for (const mode of ['delete', 'virtualDelete'] as const) {
    it(`delete '${mode}' ${mode === 'delete' ? 'removes the view' : 'marks it DELETED'}`, async () => {
      const store = new MemoryDocumentStore();
      await seed(store, 'sv_customers', ['customer_id'], [existing]);
      const driver = await aggregator(customerView({ delete: mode }), store);
      try {
        await aggregate(driver, 'c1');
        const view = (await views(store)).get('c1');
        if (mode === 'delete') assert.equal(view, undefined);
        else {
          assert.equal(view?.['__STATE__'], 'DELETED');
          assert.equal(view?.['name'], 'Old');
          assert.deepEqual(view?.['updatedAt'], NOW);
        }
        assert.deepEqual((await readJson(driver, UPDATES)).map((u) => u.value?.['operationType']), ['DELETE']);
        await aggregate(driver, 'c1');
        assert.equal((await readJson(driver, UPDATES)).length, 1, 'a view already deleted is not deleted again');
      } finally {
        await driver.close();
      }
    });
  }
});

describe('sv-update events', () => {
  /** INSERT c1, UPDATE c1, DELETE c1 (base removed). */
  async function lifecycle(view: SingleView<object>) {
    const store = new MemoryDocumentStore();
    await seedModel(store);
    const driver = await aggregator(view, store);
    try {
      await aggregate(driver, 'c1');
      await seed(store, 'pr_customers', ['customer_id'], [{ customer_id: 'c1', name: 'Anna', referred_by: 'c2' }]);
      await aggregate(driver, 'c1');
      await store.collection('pr_customers').bulkWrite([{ kind: 'delete', filter: { customer_id: 'c1' } }]);
      await aggregate(driver, 'c1');
      const out = await readJson(driver, UPDATES);
      assert.deepEqual(out.map((r) => r.key), [{ customer_id: 'c1' }, { customer_id: 'c1' }, { customer_id: 'c1' }]);
      return out;
    } finally {
      await driver.close();
    }
  }

  const viewDoc = (name: string, orders: unknown[] = [{ order_id: 'o1', total: 10, skus: ['A', 'B'] }, { order_id: 'o2', total: 20, skus: ['C'] }]): Row => ({
    customer_id: 'c1',
    name,
    channel: 'email',
    referrer: 'Bo',
    orders,
    createdAt: NOW.toISOString(),
    updatedAt: NOW.toISOString(),
    __STATE__: 'PUBLIC',
  });

  it('v1.0.0 (default): operationType, operationTimestamp, singleViewName, source, __internal__kafkaInfo; no before/after', async () => {
    const out = await lifecycle(customerView());
    assert.deepEqual(out.map((r) => r.value), ['INSERT', 'UPDATE', 'DELETE'].map((operationType) => ({
      operationType,
      operationTimestamp: NOW.toISOString(),
      singleViewName: 'sv_customers',
      source: 'crm',
      __internal__kafkaInfo: KAFKA_INFO,
    })));
    for (const r of out) assert.deepEqual(r.headers, { messageSchema: JSON.stringify({ type: 'sv-update', version: 'v1.0.0' }) });
  });

  it('v1.0.0 with beforeAfter: adds before and after', async () => {
    const out = await lifecycle(customerView({ svUpdate: { beforeAfter: true } }));
    assert.deepEqual(out.map((r) => [r.value?.['operationType'], r.value?.['before'], r.value?.['after']]), [
      ['INSERT', null, viewDoc('Ann')],
      ['UPDATE', viewDoc('Ann'), viewDoc('Anna')],
      ['DELETE', viewDoc('Anna'), null],
    ]);
  });

  it('v2.0.0: the pr-update v2.0.0 shape, with the messageSchema and context headers', async () => {
    const out = await lifecycle(customerView({ svUpdate: { version: 'v2.0.0' } }));
    const expected: Array<[string, Row | null, Row | null]> = [
      ['INSERT', null, viewDoc('Ann')],
      ['UPDATE', viewDoc('Ann'), viewDoc('Anna')],
      ['DELETE', viewDoc('Anna'), null],
    ];
    assert.deepEqual(out.map((r) => r.value), expected.map(([type, before, after]) => ({
      operation: { type, timestamp: NOW.toISOString() },
      source: 'crm',
      storageNamespace: 'sv_customers',
      primaryKeys: ['customer_id'],
      before,
      after,
    })));
    for (const r of out) {
      assert.equal(r.headers['messageSchema'], JSON.stringify({ type: 'sv-update', version: 'v2.0.0' }));
      assert.deepEqual(JSON.parse(String(r.headers['context'])), {
        ingestion: { topic: KAFKA_INFO.topic, partitionID: 0, offset: 41, timestamp: KAFKA_INFO.timestamp, pollTimestamp: NOW.toISOString() },
      });
    }
  });

  it('svUpdate: false emits nothing', async () => {
    const store = new MemoryDocumentStore();
    await seedModel(store);
    const driver = await aggregator(customerView({ svUpdate: false }), store);
    try {
      await aggregate(driver, 'c1');
      assert.equal((await readJson(driver, UPDATES)).length, 0);
      assert.ok((await views(store)).has('c1'));
    } finally {
      await driver.close();
    }
  });
});

describe('single view types', () => {
  it('map receives typed documents, nested includes too', () => {
    const view = singleView({
      name: 'sv_types',
      base: customers,
      include: {
        orders: hasMany(orders, { customer_id: 'customer_id' }, { include: { lines: hasMany(lines, { order_id: 'order_id' }) } }),
        prefs: hasOne(prefs, { customer_id: 'customer_id' }),
      },
      map: ({ base, orders: list, prefs: pref }) => {
        const total: number = list.reduce((sum, o) => sum + (o.total ?? 0), 0);
        const skus: Array<string | null | undefined> = list.flatMap((o) => o.lines.map((l) => l.sku));
        const channel: string | null | undefined = pref?.channel;
        const id: string = base.customer_id; // a primary key field: always present
        const lineNo: number[] = list.flatMap((o) => o.lines.map((l) => l.line_no));
        // @ts-expect-error — `name` is not `required`: it may be absent or null
        const name: string = base.name;
        void [id, lineNo, name];
        return {
          id: base.customer_id,
          total,
          skus,
          channel,
          // @ts-expect-error — `chanel` is not a field of pr_prefs (an included projection)
          typo: pref?.chanel,
          // @ts-expect-error — `skew` is not a field of pr_order_lines (a nested include)
          nestedTypo: list.flatMap((o) => o.lines.map((l) => l.skew)),
          // @ts-expect-error — `lines` is an array: hasMany
          oneLine: list[0]?.lines.sku,
          // @ts-expect-error — `nme` is not a field of the base projection
          baseTypo: base.nme,
        };
      },
    });
    // @ts-expect-error — `customer_idx` is not a field of pr_orders: join conditions are typed too
    hasMany(orders, { customer_idx: 'customer_id' });
    assert.equal(view.name, 'sv_types');
    assert.deepEqual(view.projections.map((p) => p.name), ['pr_customers', 'pr_orders', 'pr_order_lines', 'pr_prefs']);
  });
});
