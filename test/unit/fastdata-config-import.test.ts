/**
 * Fast Data config import: the reference's example configs (test/fixtures/fastdata-config/, see its
 * README) become projection and single-view declarations that cast, aggregate and trigger like
 * Fast Data, and like the same declarations written with the code API. Invalid configs fail with
 * TRB_CONFIG naming the file and the JSON path. Formats: fastdata.md §2.6–§2.7, §3.5–§3.6, §4.2–§4.3.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile, cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isTributaryError, TributaryError } from '../../src/errors.js';
import { basic, type Row } from '../../src/fastdata/cdc/index.js';
import { importFastDataConfig, loadFastDataProject, type CustomMappingFunction, type ImportFastDataConfigOptions } from '../../src/fastdata/config-import/index.js';
import { fastData } from '../../src/fastdata/fast-data.js';
import { casts, psCasts } from '../../src/fastdata/projection/casts.js';
import { field } from '../../src/fastdata/projection/fields.js';
import { projection, type Projection } from '../../src/fastdata/projection/projection.js';
import { hasMany, hasOne } from '../../src/fastdata/singleview/relations.js';
import { singleView, type SingleView } from '../../src/fastdata/singleview/single-view.js';
import { json } from '../../src/stream/serdes/json.js';
import { TestDriver } from '../../src/testing/test-driver.js';
import * as api from '../../src/index.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'fastdata-config');
const read = (path: string): unknown => JSON.parse(readFileSync(join(FIXTURES, path), 'utf8')) as unknown;
const clone = <T>(v: T): T => structuredClone(v);
const serdes = { key: json<unknown>(), value: json<unknown>() };

function registryConfig(): ImportFastDataConfigOptions {
  return {
    projections: ['pr_registry', 'pr_orders', 'pr_users'].map((p) => read(`registry/projections/${p}.json`)),
    erSchema: read('registry/erSchema.json'),
    projectionChangesSchema: read('registry/projectionChangesSchema.json'),
    aggregation: read('registry/single-views/sv_customers/aggregation.json'),
    singleViewKey: read('registry/single-views/sv_customers/singleViewKey.json'),
  };
}

/** `__fromFile__[myFunc]` of the §4.3 example: the person's name and their mother-in-law's. */
const myFunc: CustomMappingFunction = (deps) => `${String((deps.get('PEOPLE') as Row).name)}/${String((deps.get('MOTHER_IN_LAW') as Row | null)?.name ?? '')}`;

function peopleConfig(): ImportFastDataConfigOptions {
  return {
    projections: ['PEOPLE', 'MARRIAGE', 'DOCTOR'].map((p) => read(`people/projections/${p}.json`)),
    erSchema: read('people/erSchema.json'),
    projectionChangesSchema: read('people/projectionChangesSchema.json'),
    aggregation: read('people/single-views/sv_people/aggregation.json'),
    singleViewKey: read('people/single-views/sv_people/singleViewKey.json'),
    customFunctions: { myFunc },
  };
}

/** A view collection as compared: without store and write metadata, sorted by key. */
async function viewDocs(driver: TestDriver, collection: string, key: string): Promise<Row[]> {
  const docs = await driver.store.collection(collection).find({});
  return docs
    .map(({ _id, createdAt, updatedAt, ...rest }) => (void [_id, createdAt, updatedAt], rest))
    .sort((a, b) => String(a[key]).localeCompare(String(b[key])));
}

async function projectionDoc(driver: TestDriver, collection: string, filter: Row): Promise<Row | null> {
  const doc = await driver.store.collection(collection).findOne(filter);
  if (!doc) return null;
  return Object.fromEntries(Object.entries(doc).filter(([k]) => !k.startsWith('__') && !['_id', 'createdAt', 'updatedAt'].includes(k)));
}

function expectConfigError(fn: () => unknown, ...parts: string[]): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(isTributaryError(error), `not a TributaryError: ${String(error)}`);
    assert.equal(error.code, 'TRB_CONFIG');
    for (const part of parts) assert.ok(error.message.includes(part), `message lacks ${JSON.stringify(part)}: ${error.message}`);
    return true;
  });
}

// --- projections ---------------------------------------------------------------------------------

describe('imported projections', () => {
  it('declare the fields, casts and keys the code API would', () => {
    const { projections } = importFastDataConfig(registryConfig());
    assert.deepEqual(projections.map((p) => p.name), ['pr_registry', 'pr_orders', 'pr_users']);
    const [registry, orders, users] = projections as [Projection<object>, Projection<object>, Projection<object>];
    assert.deepEqual(registry.primaryKey, ['ID_USER']);
    assert.deepEqual(users.primaryKey, ['USER_ID', 'TAX_CODE']);
    assert.equal(registry.options.source.topic, 'food-delivery.registry.ingestion');
    assert.equal(users.options.source.adapter.name, 'db2');
    const f = (p: Projection<object>, name: string) => p.options.fields[name];
    assert.equal(f(registry, 'COINS')?.cast, casts.defaultCastToInteger);
    assert.equal(f(registry, 'COINS')?.kind, 'integer');
    assert.equal(f(registry, 'SIGNUP')?.cast, casts.defaultCastUnitTimestampToISOString);
    assert.equal(f(orders, 'ID_ORDER')?.cast, casts.defaultCastToString, 'String without castFunction --> defaultCastToString');
    assert.equal(f(orders, 'PAID')?.cast, casts.defaultCastStringToBoolean);
    assert.equal(f(orders, 'DETAILS')?.cast, casts.defaultCastToObject);
    assert.equal(f(orders, 'ITEMS')?.cast, casts.defaultCastToArrayOfObject);
    assert.equal(f(orders, 'DELIVERED_AT')?.cast, casts.defaultCastToDate);
    assert.equal(f(registry, 'ID_USER')?.required, true);
    assert.equal(f(registry, 'NAME')?.nullable, true);
  });

  it('cast CDC records as the reference says (DB2 example: NAME 456 --> "456")', async () => {
    const { projections } = importFastDataConfig(registryConfig());
    const driver = await TestDriver.start(fastData({ name: 'casts', projections }));
    try {
      // §2.1 DB2 / basic example, verbatim.
      await driver.pipeInput('db2.users.ingestion', [{ key: { USER_ID: 123, TAX_CODE: 'ABCDEF12B02M100O' }, value: { USER_ID: 123, TAX_CODE: 'ABCDEF12B02M100O', NAME: 456 } }], serdes);
      await driver.pipeInput('food-delivery.registry.ingestion', [{ key: { ID_USER: 'u1' }, value: { ID_USER: 'u1', NAME: 'Mario', COINS: '300000000.7', SIGNUP: 0 } }], serdes);
      await driver.pipeInput(
        'food-delivery.orders.ingestion',
        [
          { key: { ID_ORDER: 7 }, value: { ID_ORDER: 7, ID_USER_ORDER: 'u1', AMOUNT: '12.5', PAID: 'true', DETAILS: '{"a":1}', ITEMS: '[{"sku":"x"}]', DELIVERED_AT: '2024-01-02T00:00:00.000Z' } },
          { key: { ID_ORDER: 8 }, value: { ID_ORDER: 8, ID_USER_ORDER: 'u1', AMOUNT: 'abc', PAID: 'TRUE', DETAILS: '[1]', ITEMS: '{}', DELIVERED_AT: 'never' } },
        ],
        serdes,
      );
      await driver.idle();
      assert.deepEqual(await projectionDoc(driver, 'pr_users', { USER_ID: 123 }), { USER_ID: 123, TAX_CODE: 'ABCDEF12B02M100O', NAME: '456' });
      assert.deepEqual(await projectionDoc(driver, 'pr_registry', { ID_USER: 'u1' }), { ID_USER: 'u1', NAME: 'Mario', COINS: 300000000, SIGNUP: '1970-01-01T00:00:00.000Z' });
      assert.deepEqual(await projectionDoc(driver, 'pr_orders', { ID_ORDER: '7' }), {
        ID_ORDER: '7',
        ID_USER_ORDER: 'u1',
        AMOUNT: 12.5,
        PAID: true,
        DETAILS: { a: 1 },
        ITEMS: [{ sku: 'x' }],
        DELIVERED_AT: new Date('2024-01-02T00:00:00.000Z'),
      });
      // Invalid inputs cast to nothing and are stored as null.
      assert.deepEqual(await projectionDoc(driver, 'pr_orders', { ID_ORDER: '8' }), { ID_ORDER: '8', ID_USER_ORDER: 'u1', AMOUNT: null, PAID: null, DETAILS: null, ITEMS: null, DELIVERED_AT: null });
    } finally {
      await driver.close();
    }
  });

  it('reads the Projection Storer config example (§2.7): topics, namespace, renames, PS cast names', async () => {
    const { projections } = importFastDataConfig({ ...registryConfig(), projections: [...registryConfig().projections, read('projection-storer-config.json')] });
    const products = projections.find((p) => p.name === 'products') as Projection<object>;
    assert.ok(products, 'customStorageNamespace names the collection');
    assert.equal(products.options.source.topic, 'galaxy.fast-data.DEV.products.ingestion');
    assert.equal(products.options.prUpdate?.topic, 'galaxy.fast-data.DEV.products.pr-update');
    assert.equal(products.options.source.adapter.name, 'debezium');
    assert.equal(products.options.systemOfRecord, 'inventory');
    assert.deepEqual(products.primaryKey, ['id']);
    assert.equal(products.options.fields['weight']?.cast, psCasts.castToFloat);
    assert.equal(products.options.fields['id']?.cast, psCasts.identity);
    const driver = await TestDriver.start(fastData({ name: 'ps', projections }));
    try {
      await driver.pipeInput('galaxy.fast-data.DEV.products.ingestion', [{ key: { id: 'p1' }, value: { op: 'c', before: null, after: { id: 'p1', weight: '12.5' }, source: { ts_ms: 1 } } }], serdes);
      await driver.idle();
      assert.deepEqual(await projectionDoc(driver, 'products', { id: 'p1' }), { id: 'p1', weight: 12.5 });
      const prUpdates = await driver.readOutput('galaxy.fast-data.DEV.products.pr-update', serdes);
      assert.equal(prUpdates.length, 1);
    } finally {
      await driver.close();
    }
  });
});

// --- single views: registry (§3.5 ER schema, §4.2 key) --------------------------------------------

const REGISTRY = 'food-delivery.registry.ingestion';
const ORDERS = 'food-delivery.orders.ingestion';
const user = (id: string, name: string, coins: number) => ({ key: { ID_USER: id }, value: { ID_USER: id, NAME: name, COINS: coins } });
const order = (id: string, userId: string, amount: number, paid: boolean) => ({ key: { ID_ORDER: id }, value: { ID_ORDER: id, ID_USER_ORDER: userId, AMOUNT: amount, PAID: String(paid) } });

/** The same view written with the code API. */
function handWrittenCustomers(): { projections: Projection<object>[]; view: SingleView<object> } {
  const registry = projection({
    name: 'pr_registry',
    source: { topic: REGISTRY, adapter: basic() },
    primaryKey: ['ID_USER'],
    fields: { ID_USER: field.string(), NAME: field.string({ nullable: true }), COINS: field.integer({ nullable: true }), SIGNUP: field.isoTimestamp({ nullable: true }) },
  });
  const orders = projection({
    name: 'pr_orders',
    source: { topic: ORDERS, adapter: basic() },
    primaryKey: ['ID_ORDER'],
    fields: { ID_ORDER: field.string(), ID_USER_ORDER: field.string({ nullable: true }), AMOUNT: field.number({ nullable: true }), PAID: field.boolean({ nullable: true }) },
  });
  const view = singleView({
    name: 'sv_customers',
    base: registry,
    key: { sv_id: 'ID_USER' },
    include: { orders: hasMany(orders, { ID_USER_ORDER: 'ID_USER' }) },
    map: ({ base, orders: list }) => ({ sv_id: base.ID_USER, name: base.NAME, coins: base.COINS, origin: 'registry', orders: list.map((o) => ({ id: o.ID_ORDER, amount: o.AMOUNT, paid: o.PAID })) }),
  });
  return { projections: [registry, orders] as Projection<object>[], view: view as SingleView<object> };
}

async function runCustomers(projections: Projection<object>[], views: SingleView<object>[], steps: Array<(d: TestDriver) => Promise<void>>): Promise<Row[][]> {
  const driver = await TestDriver.start(fastData({ name: 'crm', projections, singleViews: views }));
  const snapshots: Row[][] = [];
  try {
    for (const step of steps) {
      await step(driver);
      await driver.idle();
      snapshots.push(await viewDocs(driver, 'sv_customers', 'sv_id'));
    }
  } finally {
    await driver.close();
  }
  return snapshots;
}

const customerSteps: Array<(d: TestDriver) => Promise<void>> = [
  async (d) => {
    await d.pipeInput(REGISTRY, [user('u1', 'Mario', 300), user('u2', 'Luigi', 5)], serdes);
    await d.pipeInput(ORDERS, [order('o1', 'u1', 10, true), order('o2', 'u1', 5.5, false), order('o3', 'u2', 7, true)], serdes);
  },
  // o2 moves from Mario to Luigi: both views are re-aggregated (the before and after images).
  (d) => d.pipeInput(ORDERS, [order('o2', 'u2', 5.5, false)], serdes),
  // Mario is deleted: his view goes.
  (d) => d.pipeInput(REGISTRY, [{ key: { ID_USER: 'u1' }, value: null }], serdes),
];

describe('an imported single view (registry example)', () => {
  it('aggregates, triggers through projectionChangesSchema paths and deletes like Fast Data', async () => {
    const imported = importFastDataConfig(registryConfig());
    assert.equal(imported.singleViews.length, 1);
    const view = imported.singleViews[0] as SingleView<object>;
    assert.equal(view.name, 'sv_customers', 'named after the only view of projectionChangesSchema.json');
    assert.deepEqual(view.key, { sv_id: 'ID_USER' });
    const [loaded, moved, deleted] = await runCustomers(imported.projections, imported.singleViews, customerSteps);
    const STATE = { __STATE__: 'PUBLIC' };
    assert.deepEqual(loaded, [
      { sv_id: 'u1', name: 'Mario', coins: 300, origin: 'registry', orders: [{ id: 'o1', amount: 10, paid: true }, { id: 'o2', amount: 5.5, paid: false }], ...STATE },
      { sv_id: 'u2', name: 'Luigi', coins: 5, origin: 'registry', orders: [{ id: 'o3', amount: 7, paid: true }], ...STATE },
    ]);
    assert.deepEqual(moved, [
      { sv_id: 'u1', name: 'Mario', coins: 300, origin: 'registry', orders: [{ id: 'o1', amount: 10, paid: true }], ...STATE },
      { sv_id: 'u2', name: 'Luigi', coins: 5, origin: 'registry', orders: [{ id: 'o2', amount: 5.5, paid: false }, { id: 'o3', amount: 7, paid: true }], ...STATE },
    ]);
    assert.deepEqual(deleted, [{ sv_id: 'u2', name: 'Luigi', coins: 5, origin: 'registry', orders: [{ id: 'o2', amount: 5.5, paid: false }, { id: 'o3', amount: 7, paid: true }], ...STATE }]);
  });

  it('equals the hand-written declaration on the same inputs', async () => {
    const imported = importFastDataConfig(registryConfig());
    const hand = handWrittenCustomers();
    const a = await runCustomers(imported.projections, imported.singleViews, customerSteps);
    const b = await runCustomers(hand.projections, [hand.view], customerSteps);
    assert.deepEqual(a, b);
  });

  it('composes singleViewKey.json with identifierQueryMapping (view field → identifier field → base field)', async () => {
    const config = registryConfig();
    const aggregation = clone(config.aggregation) as { config: { SV_CONFIG: { dependencies: { pr_registry: Row } } } };
    aggregation.config.SV_CONFIG.dependencies.pr_registry['identifierQueryMapping'] = { ID_USER: '_identifier.userId' };
    const changes = clone(config.projectionChangesSchema) as { config: { sv_customers: { paths: Array<{ identifier: Row }> } } };
    for (const p of changes.config.sv_customers.paths) p.identifier = { userId: 'ID_USER' };
    const imported = importFastDataConfig({ ...config, aggregation, projectionChangesSchema: changes, singleViewKey: { version: '1.0.0', config: { sv_id: 'userId' } } });
    assert.deepEqual(imported.singleViews[0]?.key, { sv_id: 'ID_USER' });
    const [loaded] = await runCustomers(imported.projections, imported.singleViews, customerSteps.slice(0, 1));
    assert.deepEqual(loaded?.map((v) => v['sv_id']), ['u1', 'u2']);
  });

  it('without projectionChangesSchema.json, every projection of the view triggers it (automatic strategy)', async () => {
    const { projectionChangesSchema: _unused, ...config } = registryConfig();
    const imported = importFastDataConfig({ ...config, singleViewName: 'sv_customers' });
    assert.equal(imported.singleViews[0]?.options.strategies, undefined);
    const [, moved] = await runCustomers(imported.projections, imported.singleViews, customerSteps.slice(0, 2));
    assert.deepEqual(moved?.map((v) => (v['orders'] as Row[]).map((o) => o['id'])), [['o1'], ['o2', 'o3']]);
  });
});

// --- single views: people (§4.3 composite aggregation.json) -----------------------------------------

const PEOPLE = 'registry.people.ingestion';
const MARRIAGES = 'registry.marriages.ingestion';
const DOCTORS = 'registry.doctors.ingestion';
const person = (id: string, name: string, age: number | null, job: string | null, mother: string | null) => ({ key: { id }, value: { id, name, age, job, mother_id: mother } });

function handWrittenPeople(): { projections: Projection<object>[]; view: SingleView<object> } {
  const people = projection({
    name: 'PEOPLE',
    source: { topic: PEOPLE, adapter: basic() },
    primaryKey: ['id'],
    fields: { id: field.string(), name: field.string({ nullable: true }), age: field.integer({ nullable: true }), job: field.string({ nullable: true }), mother_id: field.string({ nullable: true }) },
  });
  const marriage = projection({
    name: 'MARRIAGE',
    source: { topic: MARRIAGES, adapter: basic() },
    primaryKey: ['id'],
    fields: { id: field.string(), a: field.string({ nullable: true }), b: field.string({ nullable: true }) },
  });
  const doctor = projection({
    name: 'DOCTOR',
    source: { topic: DOCTORS, adapter: basic() },
    primaryKey: ['doc_id'],
    fields: { doc_id: field.string(), person_id: field.string({ nullable: true }), type: field.string({ nullable: true }), role: field.string({ nullable: true }), status: field.string({ nullable: true }) },
  });
  const view = singleView({
    name: 'sv_people',
    base: people,
    key: { personId: 'id' },
    onStates: ['PUBLIC', 'DRAFT'],
    include: {
      marriage: hasOne(marriage, { a: 'id' }, { include: { partner: hasOne(people, { id: 'b' }, { include: { mother: hasOne(people, { id: 'mother_id' }) } }) } }),
      children: hasMany(people, { mother_id: 'id' }),
      doctors: hasMany(doctor, { person_id: 'id' }),
    },
    map: ({ base, marriage: m, children, doctors }) => {
      const partner = m?.partner ?? null;
      const job = doctors.find((d) => d.status === 'active') ?? null;
      return {
        name: base.name,
        marriedWith: partner?.name ?? null,
        children: children.map((c) => ({ name: c.name })),
        kind: 'person',
        computed: `${base.name}/${partner?.mother?.name ?? ''}`,
        job: { type: job?.type ?? null, role: job?.role ?? null },
        ageLabel: base.age === null ? 'unknown' : 'known',
      };
    },
  });
  return { projections: [people, marriage, doctor] as Projection<object>[], view: view as SingleView<object> };
}

const peopleSteps: Array<(d: TestDriver) => Promise<void>> = [
  async (d) => {
    await d.pipeInput(PEOPLE, [person('p1', 'Ann', 40, 'doctor', null), person('p2', 'Bob', null, 'chef', 'p4'), person('p3', 'Cid', 10, null, 'p1'), person('p4', 'Dora', 70, 'retired', null)], serdes);
    await d.pipeInput(MARRIAGES, [{ key: { id: 'm1' }, value: { id: 'm1', a: 'p1', b: 'p2' } }], serdes);
    // d0 sorts first but fails the constant of USER_to_DOCTOR (status "__string__[active]").
    await d.pipeInput(
      DOCTORS,
      [
        { key: { doc_id: 'd0' }, value: { doc_id: 'd0', person_id: 'p1', type: 'gp', role: 'former', status: 'retired' } },
        { key: { doc_id: 'd1' }, value: { doc_id: 'd1', person_id: 'p1', type: 'surgeon', role: 'head', status: 'active' } },
      ],
      serdes,
    );
  },
  // Dora is renamed: Ann's view (mother-in-law, four hops away) and Dora's own are re-aggregated.
  (d) => d.pipeInput(PEOPLE, [person('p4', 'Dorothy', 70, 'retired', null)], serdes),
  // Cid is deleted (soft): Ann's children list loses him.
  (d) => d.pipeInput(PEOPLE, [{ key: { id: 'p3' }, value: null }], serdes),
];

async function runPeople(projections: Projection<object>[], views: SingleView<object>[]): Promise<Row[][]> {
  const driver = await TestDriver.start(fastData({ name: 'people', projections, singleViews: views }));
  const snapshots: Row[][] = [];
  try {
    for (const step of peopleSteps) {
      await step(driver);
      await driver.idle();
      snapshots.push(await viewDocs(driver, 'sv_people', 'personId'));
    }
  } finally {
    await driver.close();
  }
  return snapshots;
}

describe('an imported single view (the §4.3 aggregation.json example)', () => {
  it('builds the include tree: aliasOf, useAlias, config + joinDependency, _select branches, onStates', () => {
    const view = importFastDataConfig(peopleConfig()).singleViews[0] as SingleView<object>;
    assert.equal(view.tree.projection.name, 'PEOPLE');
    assert.deepEqual(view.options.onStates, ['PUBLIC', 'DRAFT']);
    assert.deepEqual(view.key, { personId: 'id' });
    const shape = (node: SingleView['tree']): unknown => ({
      [node.name]: { projection: node.projection.name, on: node.relation?.on ?? null, many: node.relation?.cardinality === 'many', children: node.children.map(shape) },
    });
    assert.deepEqual(shape(view.tree), {
      $base: {
        projection: 'PEOPLE',
        on: null,
        many: false,
        children: [
          { '@SV_CONFIG.MARRIAGE': { projection: 'MARRIAGE', on: { a: 'id' }, many: false, children: [
            { '@SV_CONFIG.PARTNER': { projection: 'PEOPLE', on: { id: 'b' }, many: false, children: [
              { '@SV_CONFIG.MOTHER_IN_LAW': { projection: 'PEOPLE', on: { id: 'mother_id' }, many: false, children: [] } },
            ] } },
          ] } },
          { '@CHILDREN.children': { projection: 'PEOPLE', on: { mother_id: 'id' }, many: true, children: [] } },
          { '@SV_CONFIG.JOB_DESCRIPTION#0': { projection: 'DOCTOR', on: { person_id: 'id' }, many: true, children: [] } },
          { '@SV_CONFIG.JOB_DESCRIPTION#default': { projection: 'DOCTOR', on: { person_id: 'id' }, many: true, children: [] } },
        ],
      },
    });
  });

  it('produces the documents the mapping describes, and keeps them current', async () => {
    const imported = importFastDataConfig(peopleConfig());
    const [loaded, renamed, deleted] = await runPeople(imported.projections, imported.singleViews);
    const doc = (personId: string, name: string, extra: Row) => ({ personId, name, kind: 'person', __STATE__: 'PUBLIC', marriedWith: null, children: [], job: { type: null, role: null }, ageLabel: 'known', computed: `${name}/`, ...extra });
    assert.deepEqual(loaded, [
      doc('p1', 'Ann', { marriedWith: 'Bob', children: [{ name: 'Cid' }], computed: 'Ann/Dora', job: { type: 'surgeon', role: 'head' } }),
      doc('p2', 'Bob', { ageLabel: 'unknown' }),
      doc('p3', 'Cid', {}),
      doc('p4', 'Dora', { children: [{ name: 'Bob' }] }),
    ]);
    assert.deepEqual(renamed?.find((v) => v['personId'] === 'p1')?.['computed'], 'Ann/Dorothy');
    assert.deepEqual(renamed?.find((v) => v['personId'] === 'p4')?.['name'], 'Dorothy');
    assert.deepEqual(deleted?.map((v) => v['personId']), ['p1', 'p2', 'p4']);
    assert.deepEqual(deleted?.find((v) => v['personId'] === 'p1')?.['children'], []);
  });

  it('equals the hand-written declaration on the same inputs', async () => {
    const imported = importFastDataConfig(peopleConfig());
    const hand = handWrittenPeople();
    assert.deepEqual(await runPeople(imported.projections, imported.singleViews), await runPeople(hand.projections, [hand.view]));
  });

  it('onStates of a dependency keeps documents in those states', async () => {
    const config = peopleConfig();
    const aggregation = clone(config.aggregation) as { config: { CHILDREN: { dependencies: { children: Row } } } };
    aggregation.config.CHILDREN.dependencies.children['onStates'] = ['PUBLIC', 'DELETED'];
    const imported = importFastDataConfig({ ...config, aggregation });
    const [, , deleted] = await runPeople(imported.projections, imported.singleViews);
    assert.deepEqual(deleted?.find((v) => v['personId'] === 'p1')?.['children'], [{ name: 'Cid' }]);
  });
});

describe('imported mappings', () => {
  it('evaluate constants, comparisons, _select per joined item and configs without a join', async () => {
    const config = peopleConfig();
    const aggregation = clone(config.aggregation) as { config: Record<string, Mutable> };
    const root = aggregation.config['SV_CONFIG'] as { dependencies: Mutable; mapping: Mutable };
    root.dependencies['SPOUSE'] = { type: 'config' };
    Object.assign(root.mapping, {
      answer: '__integer__[42]',
      alive: '__boolean__[true]',
      legacy: '__constant__[x]',
      spouse: 'SPOUSE',
      wholeMarriage: 'MARRIAGE.id',
      elder: { _select: { options: [{ when: { '>': ['PEOPLE.age', '__integer__[60]'] }, value: '__boolean__[true]' }], default: '__boolean__[false]' } },
    });
    (aggregation.config['CHILDREN'] as { mapping: Mutable }).mapping['group'] = {
      _select: { options: [{ when: { '>=': ['children.age', 18] }, value: '__string__[adult]' }, { when: { '!=': ['children.age', null] }, value: '__string__[minor]' }], default: '__string__[unknown]' },
    };
    // A config without joinDependency maps to one object; its dependency joins from an outer one.
    aggregation.config['SPOUSE'] = { dependencies: { SPOUSE_PERSON: { type: 'projection', aliasOf: 'PEOPLE', on: 'MARRIAGE_b_TO_PEOPLE' } }, mapping: { name: 'SPOUSE_PERSON.name', job: 'SPOUSE_PERSON.job' } };
    const imported = importFastDataConfig({ ...config, aggregation });
    const [loaded] = await runPeople(imported.projections, imported.singleViews);
    const ann = loaded?.find((v) => v['personId'] === 'p1');
    const dora = loaded?.find((v) => v['personId'] === 'p4');
    assert.deepEqual(
      { answer: ann?.['answer'], alive: ann?.['alive'], legacy: ann?.['legacy'], spouse: ann?.['spouse'], wholeMarriage: ann?.['wholeMarriage'], elder: ann?.['elder'], children: ann?.['children'] },
      { answer: 42, alive: true, legacy: 'x', spouse: { name: 'Bob', job: 'chef' }, wholeMarriage: 'm1', elder: false, children: [{ name: 'Cid', group: 'minor' }] },
    );
    assert.deepEqual({ elder: dora?.['elder'], spouse: dora?.['spouse'], children: dora?.['children'] }, { elder: true, spouse: { name: null, job: null }, children: [{ name: 'Bob', group: 'unknown' }] });
  });
});

describe('loadFastDataProject', () => {
  it('reads the documented folder layout', async () => {
    const registry = await loadFastDataProject(join(FIXTURES, 'registry'));
    assert.deepEqual(registry.projections.map((p) => p.name).sort(), ['pr_orders', 'pr_registry', 'pr_users']);
    assert.deepEqual(registry.singleViews.map((v) => v.name), ['sv_customers']);
    const people = await loadFastDataProject(join(FIXTURES, 'people'), { customFunctions: { myFunc } });
    const [loaded] = await runPeople(people.projections, people.singleViews);
    assert.equal(loaded?.find((v) => v['personId'] === 'p1')?.['computed'], 'Ann/Dora');
  });

  it('names the missing or broken file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'trb-fd-'));
    try {
      await cp(join(FIXTURES, 'registry'), dir, { recursive: true });
      await writeFile(join(dir, 'single-views', 'sv_customers', 'aggregation.json'), '{ "version": ');
      await assert.rejects(loadFastDataProject(dir), (e: unknown) => isTributaryError(e) && e.code === 'TRB_CONFIG' && e.message.includes(join(dir, 'single-views', 'sv_customers', 'aggregation.json')) && e.message.includes('not valid JSON'));
      await rm(join(dir, 'erSchema.json'));
      await assert.rejects(loadFastDataProject(dir), (e: unknown) => isTributaryError(e) && e.code === 'TRB_CONFIG' && e.message.includes(join(dir, 'erSchema.json')));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('is exported from the package entry', () => {
    assert.equal(api.importFastDataConfig, importFastDataConfig);
    assert.equal(api.loadFastDataProject, loadFastDataProject);
  });
});

// --- validation ----------------------------------------------------------------------------------

type Mutable = Record<string, unknown>;
function edit(config: ImportFastDataConfigOptions, key: keyof ImportFastDataConfigOptions, change: (json: Mutable) => void): ImportFastDataConfigOptions {
  const json = clone(config[key]) as Mutable;
  change(json);
  return { ...config, [key]: json };
}
const at = (json: Mutable, ...path: string[]): Mutable => path.reduce((o, k) => o[k] as Mutable, json);

describe('invalid configs', () => {
  it('name the file, the JSON path and what is accepted', () => {
    const people = peopleConfig();
    expectConfigError(
      () => importFastDataConfig(edit(people, 'aggregation', (j) => (at(j, 'config', 'SV_CONFIG', 'dependencies', 'MARRIAGE')['on'] = 'NOPE'))),
      'aggregation.json $.config.SV_CONFIG.dependencies.MARRIAGE.on',
      "condition 'NOPE' is not defined in erSchema.json",
      'PEOPLE_TO_MARRIAGE',
    );
    expectConfigError(() => importFastDataConfig(edit(people, 'aggregation', (j) => (j['version'] = '2.0.0'))), 'aggregation.json $.version', '"1.0.0", "1.1.0", "1.2.0", "1.3.0"');
    expectConfigError(
      () => importFastDataConfig(edit(people, 'erSchema', (j) => (at(j, 'config', 'PEOPLE', 'outgoing', 'DOCTOR', 'conditions', 'USER_to_DOCTOR')['condition'] = { $or: [{ person_id: 'id' }] }))),
      'erSchema.json $.config.PEOPLE.outgoing.DOCTOR.conditions.USER_to_DOCTOR.condition.$or',
      "operator '$or' is not supported",
    );
    expectConfigError(
      () => importFastDataConfig(edit(people, 'aggregation', (j) => (at(j, 'config', 'SV_CONFIG', 'mapping')['kind'] = 'PERSON.kind'))),
      'aggregation.json $.config.SV_CONFIG.mapping.kind',
      "'PERSON.kind' does not start with a dependency in scope",
    );
    expectConfigError(() => importFastDataConfig({ ...people, customFunctions: {} }), 'aggregation.json $.config.SV_CONFIG.mapping.computed', 'customFunctions.myFunc');
    expectConfigError(
      () => importFastDataConfig(edit(people, 'aggregation', (j) => (at(j, 'config', 'SV_CONFIG', 'dependencies', 'MOTHER_IN_LAW')['useAlias'] = 'MARRIAGE'))),
      'aggregation.json $.config.SV_CONFIG.dependencies.MOTHER_IN_LAW.useAlias',
      "'MARRIAGE' is not an earlier dependency reading 'PEOPLE'",
    );
    expectConfigError(
      () => importFastDataConfig(edit(people, 'aggregation', (j) => (at(j, 'config', 'SV_CONFIG', 'dependencies', 'MARRIAGE')['onStates'] = ['PUBLISHED']))),
      'aggregation.json $.config.SV_CONFIG.dependencies.MARRIAGE.onStates[0]',
      'PUBLIC, DRAFT, TRASH, DELETED',
    );
    expectConfigError(() => importFastDataConfig({ ...people, singleViewKey: { version: '1.0.0', config: { personId: 7 } } }), 'singleViewKey.json $.config.personId', 'an identifier field name');
    expectConfigError(
      () => importFastDataConfig(edit(people, 'projectionChangesSchema', (j) => (at(j, 'config', 'sv_people', 'paths', '0')['identifier'] = { id: 'name' }))),
      'projectionChangesSchema.json $.config.sv_people.paths[0].identifier.id',
      "read from base field 'name'",
    );
    expectConfigError(
      () => importFastDataConfig(edit(people, 'projectionChangesSchema', (j) => (at(j, 'config', 'sv_people', 'paths', '0')['path'] = ['DOCTOR']))),
      'projectionChangesSchema.json $.config.sv_people.paths[0].path',
      "must end at the base projection 'PEOPLE'",
    );
    expectConfigError(
      () => importFastDataConfig(edit(people, 'erSchema', (j) => (at(j, 'config', 'PEOPLE', 'outgoing', 'MARRIAGE', 'conditions', 'PEOPLE_TO_MARRIAGE')['condition'] = { a: 'ID' }))),
      'erSchema.json $.config.PEOPLE.outgoing.MARRIAGE.conditions.PEOPLE_TO_MARRIAGE',
      "field 'ID' is not a field of projection 'PEOPLE'",
    );
    const registry = registryConfig();
    expectConfigError(
      () => importFastDataConfig({ ...registry, projections: [{ name: 'pr_x', fields: [{ name: 'id', type: 'String', primaryKey: true }, { name: 'n', type: 'Number', castFunction: 'toNumber' }] }, ...registry.projections] }),
      'projections[0] $.fields[1].castFunction',
      "unknown cast function 'toNumber'",
      'defaultCastToInteger',
    );
    expectConfigError(() => importFastDataConfig({ ...registry, projections: [{ name: 'pr_x', fields: [{ name: 'id', type: 'Text', primaryKey: true }] }] }), 'projections[0] $.fields[0].type', 'Array of object');
    expectConfigError(() => importFastDataConfig({ ...registry, projections: [{ name: 'pr_x', fields: [{ name: 'id', type: 'String' }] }] }), 'projections[0] $.fields', 'primary key');
    expectConfigError(() => importFastDataConfig({ ...registry, projections: [...registry.projections, read('registry/projections/pr_orders.json')] }), 'projections[3] $', "projection 'pr_orders' is defined twice");
    expectConfigError(
      () => importFastDataConfig(edit(people, 'aggregation', (j) => (at(j, 'config', 'CHILDREN', 'dependencies')['again'] = { type: 'config' }, (at(j, 'config') as Mutable)['again'] = { dependencies: { x: { type: 'config' } }, mapping: {} }, (at(j, 'config') as Mutable)['x'] = { dependencies: { again: { type: 'config' } }, mapping: {} }))),
      'aggregation.json $.config.x.dependencies.again',
      'includes itself',
    );
  });

  it('never fail with a raw TypeError, whatever part of a config is replaced', () => {
    const base = peopleConfig();
    const replacements: unknown[] = [null, 42, 'x', [], {}, true];
    let cases = 0;
    for (const key of ['aggregation', 'erSchema', 'singleViewKey', 'projectionChangesSchema', 'projections'] as const) {
      const paths: string[][] = [];
      const walk = (value: unknown, path: string[]) => {
        paths.push(path);
        if (typeof value === 'object' && value !== null) for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
      };
      walk(base[key], []);
      for (const path of paths) {
        for (const replacement of replacements) {
          cases++;
          let json: unknown = clone(base[key]);
          if (path.length === 0) json = replacement;
          else at(json as Mutable, ...path.slice(0, -1))[path[path.length - 1] as string] = replacement;
          try {
            importFastDataConfig({ ...base, [key]: json });
          } catch (error) {
            assert.ok(error instanceof TributaryError && error.code === 'TRB_CONFIG', `${key} ${path.join('.')} = ${JSON.stringify(replacement)}: ${String(error)}`);
          }
        }
      }
    }
    assert.ok(cases > 500);
    for (const options of [null, {}, { projections: null }, { projections: [null] }, { projections: [], erSchema: null }]) {
      assert.throws(() => importFastDataConfig(options as never), (e: unknown) => isTributaryError(e) && e.code === 'TRB_CONFIG');
    }
  });
});
