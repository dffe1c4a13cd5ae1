/**
 * Patch fan-out on the real services (Kafka + the MongoDB-wire store from scripts/infra): one
 * product renamed, held by BENCH_PATCH_VIEWS (5 000) customer views, each view one order with two
 * lines, one of them the product.
 *
 *   end to end, with all three stages running (tributary, in this process):
 *     patch        the view has a patch rule: the trigger stage applies one positional updateMany
 *     reaggregate  the same view without it: 5 000 sv-triggers, 5 000 aggregations (batched lookups, map, bulk write)
 *     measured: CDC record produced → every one of the 5 000 views shows the new name (the store
 *     polled every 20 ms), and → the first one does
 *
 *   store only (the same store, no Kafka): the patch's updateMany vs re-aggregating the 5 000 keys
 *   (assemble + bulk write, in batches of 500 as the aggregate stage's batches)
 *
 * Each mode gets a fresh database and topics; the projections and the 5 000 views are written
 * directly (the views by the aggregation code), so only the change itself is measured.
 *
 *   npm run bench -- patch-fanout      (node --expose-gc --import tsx bench/patch-fanout.ts)
 *
 * Env: BENCH_PATCH_VIEWS (5000), KAFKA_BROKERS, MONGODB_URL.
 */
import os from 'node:os';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { basic, fastData, field, hasMany, hasOne, patchFrom, projection, singleView, type Row } from '../src/index.js';
import { createLogger, createMetrics } from '../src/operations.js';
import { kafkaTransport, MongoDocumentStore, runTopology } from '../src/runtime.js';
import { buildViews, BuildFailures, chunks } from '../src/fastdata/refresh/view-builder.js';
import { applyPatches, planPatches } from '../src/fastdata/singleview/patch.js';
import { createTopic, deleteTopics, gc, positiveInt, sleep, withTimeout, writeResult } from './lib/harness.js';

const BROKERS = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const MONGODB_URL = process.env['MONGODB_URL'] ?? 'mongodb://127.0.0.1:27017/?directConnection=true';
const VIEWS = positiveInt('BENCH_PATCH_VIEWS', 5_000);
const PARTITIONS = 6;
const HOT = 'SKU-HOT';
const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
const kafka = new Kafka({ clientId: 'bench-patch', brokers: BROKERS, logLevel: logLevel.NOTHING });
const logger = createLogger({ level: 'warn' });

type Mode = 'patch' | 'reaggregate';

function topologyOf(mode: Mode) {
  const prefix = `bench.patch.${RUN}.${mode}.`;
  const source = (table: string) => ({ topic: `${prefix}${table}`, adapter: basic() });
  const customers = projection({ name: 'pr_customers', source: source('customers'), primaryKey: ['customer_id'], fields: { customer_id: field.string(), name: field.string() } });
  const orders = projection({ name: 'pr_orders', source: source('orders'), primaryKey: ['order_id'], fields: { order_id: field.string(), customer_id: field.string() } });
  const lines = projection({ name: 'pr_lines', source: source('lines'), primaryKey: ['line_id'], fields: { line_id: field.string(), order_id: field.string(), sku: field.string(), quantity: field.integer() } });
  const products = projection({ name: 'pr_products', source: source('products'), primaryKey: ['sku'], fields: { sku: field.string(), name: field.string(), price: field.number() } });
  const view = singleView({
    name: 'sv_customers',
    base: customers,
    include: { orders: hasMany(orders, { customer_id: 'customer_id' }, { include: { lines: hasMany(lines, { order_id: 'order_id' }, { include: { product: hasOne(products, { sku: 'sku' }) } }) } }) },
    map: ({ base, orders: list }) => ({
      customer_id: base.customer_id,
      name: base.name,
      orders: list.map((o) => ({ order_id: o.order_id, lines: o.lines.map((l) => ({ sku: l.sku, quantity: l.quantity, productName: l.product?.name ?? null })) })),
    }),
    ...(mode === 'patch' ? { patch: [patchFrom(products, { at: 'orders[].lines[]', match: { sku: 'sku' }, set: { productName: 'name' } })] } : {}),
  });
  const t = fastData({ name: `bench-patch-${RUN}-${mode}`, topicPrefix: prefix, projections: [customers, orders, lines, products], singleViews: [view] });
  const topics = [...['customers', 'orders', 'lines', 'products'].map((x) => `${prefix}${x}`), ...[customers, orders, lines, products].map(t.fastData.topics.prUpdate), t.fastData.topics.svTrigger(view), t.fastData.topics.svUpdate(view)];
  return { t, view, products, topics, productTopic: `${prefix}products` };
}

/** Projections written directly, then the views built by the aggregation code (what a refresh would leave). */
async function seed(store: MongoDocumentStore, view: ReturnType<typeof topologyOf>['view']): Promise<void> {
  const state = { __STATE__: 'PUBLIC', createdAt: new Date(), updatedAt: new Date() };
  const replace = (filter: Row, doc: Row) => ({ kind: 'replace' as const, filter, document: { ...doc, ...state } });
  const ids = Array.from({ length: VIEWS }, (_, i) => String(i).padStart(6, '0'));
  await store.collection('pr_products').bulkWrite([replace({ sku: HOT }, { sku: HOT, name: 'Hot product', price: 9 }), ...Array.from({ length: 50 }, (_, i) => replace({ sku: `SKU-${i}` }, { sku: `SKU-${i}`, name: `Product ${i}`, price: 1 }))]);
  for (const batch of chunks(ids, 1000)) {
    await store.collection('pr_customers').bulkWrite(batch.map((id) => replace({ customer_id: `c${id}` }, { customer_id: `c${id}`, name: `Customer ${id}` })));
    await store.collection('pr_orders').bulkWrite(batch.map((id) => replace({ order_id: `o${id}` }, { order_id: `o${id}`, customer_id: `c${id}` })));
    await store.collection('pr_lines').bulkWrite(batch.flatMap((id, i) => [replace({ line_id: `l${id}a` }, { line_id: `l${id}a`, order_id: `o${id}`, sku: HOT, quantity: 1 }), replace({ line_id: `l${id}b` }, { line_id: `l${id}b`, order_id: `o${id}`, sku: `SKU-${i % 50}`, quantity: 2 })]));
  }
  const failures = new BuildFailures(1);
  for (const batch of chunks(ids, 500)) await buildViews(view, batch.map((id) => ({ customer_id: `c${id}` })), store, 'sv_customers', failures);
  if (failures.total > 0) throw new Error(`seeding failed: ${JSON.stringify(failures.samples)}`);
}

async function endToEnd(mode: Mode): Promise<Record<string, unknown>> {
  const { t, view, topics, productTopic } = topologyOf(mode);
  const database = `bench_patch_${RUN}_${mode}`;
  const store = new MongoDocumentStore({ url: MONGODB_URL, database });
  const admin = kafka.admin();
  await admin.connect();
  const producer = kafka.producer();
  await producer.connect();
  try {
    await store.connect();
    for (const topic of topics) await createTopic(admin, topic, PARTITIONS);
    const running = await runTopology(t, { transport: kafkaTransport({ brokers: BROKERS, clientId: `bench-patch-${mode}`, logger }), store, logger, metrics: createMetrics({ defaultMetrics: false }), consumer: { maxWaitMs: 50 } });
    try {
      await seed(store, view); // after the start: its onStart created the indexes (the patch rule's multikey one too)
      while (!running.readiness().ok) await sleep(50);
      const renamed = `Renamed (${mode})`;
      const updated = () => store.collection('sv_customers').count({ 'orders.lines.productName': renamed });
      const triggerTopic = t.fastData.topics.svTrigger(view);
      const triggersBefore = (await admin.fetchTopicOffsets(triggerTopic)).reduce((n, p) => n + Number(p.high), 0);
      gc?.();
      const started = performance.now();
      await producer.send({ topic: productTopic, messages: [{ key: JSON.stringify({ sku: HOT }), value: JSON.stringify({ sku: HOT, name: renamed, price: 9 }) }] });
      let first: number | undefined;
      const all = await withTimeout(
        (async () => {
          for (;;) {
            const n = await updated();
            if (n > 0 && first === undefined) first = performance.now() - started;
            if (n >= VIEWS) return performance.now() - started;
            await sleep(20);
          }
        })(),
        `${mode}: all ${VIEWS} views updated`,
        600_000,
      );
      const svTriggers = (await admin.fetchTopicOffsets(triggerTopic)).reduce((n, p) => n + Number(p.high), 0) - triggersBefore;
      const result = { phase: `end-to-end-${mode}`, views: VIEWS, allUpdatedMs: Math.round(all), firstUpdatedMs: Math.round(first ?? all), svTriggers };
      console.log(`  ${result.phase.padEnd(24)} all ${VIEWS} views updated after ${result.allUpdatedMs} ms (first after ${result.firstUpdatedMs} ms), ${svTriggers} sv-triggers`);
      return result;
    } finally {
      await running.stop();
    }
  } finally {
    await producer.disconnect();
    await deleteTopics(admin, [...topics, `${t.name}.control`]);
    await admin.disconnect();
    await store.close();
    const client = new MongoClient(MONGODB_URL);
    await client.db(database).dropDatabase().finally(() => client.close());
  }
}

/** The store work alone: one updateMany vs re-aggregating every key, on a seeded database. */
async function storeOnly(): Promise<Record<string, unknown>> {
  const { view, products } = topologyOf('patch');
  const database = `bench_patch_${RUN}_store`;
  const store = new MongoDocumentStore({ url: MONGODB_URL, database });
  try {
    await store.connect();
    await store.collection('sv_customers').createIndexes([{ name: 'sv_key_index', fields: { customer_id: 1 }, unique: true }, { name: 'patch', fields: { 'orders.lines.sku': 1 } }]);
    await seed(store, view);
    const after = { sku: HOT, name: 'Renamed (store)', price: 9, __STATE__: 'PUBLIC' };
    const { patch } = planPatches(view.patches, [{ projection: products.name, type: 'UPDATE', before: { ...after, name: 'Hot product' }, after }]);
    gc?.();
    let started = performance.now();
    const { result } = await applyPatches(view, patch, store, new Date());
    const patchMs = performance.now() - started;
    await store.collection('pr_products').bulkWrite([{ kind: 'upsert', filter: { sku: HOT }, set: { name: 'Renamed again' } }]);
    const keys = Array.from({ length: VIEWS }, (_, i) => ({ customer_id: `c${String(i).padStart(6, '0')}` }));
    gc?.();
    started = performance.now();
    const failures = new BuildFailures(1);
    for (const batch of chunks(keys, 500)) await buildViews(view, batch, store, 'sv_customers', failures);
    const reaggregateMs = performance.now() - started;
    const out = { phase: 'store-only', views: VIEWS, patchedViews: result?.modified ?? 0, patchMs: Math.round(patchMs), reaggregateMs: Math.round(reaggregateMs) };
    console.log(`  store only: updateMany of ${out.patchedViews} views ${out.patchMs} ms; re-aggregating ${VIEWS} keys ${out.reaggregateMs} ms`);
    return out;
  } finally {
    await store.close();
    const client = new MongoClient(MONGODB_URL);
    await client.db(database).dropDatabase().finally(() => client.close());
  }
}

async function main(): Promise<void> {
  console.log(`patch fan-out: one product held by ${VIEWS} views`);
  const loadAtStart = os.loadavg()[0];
  const storeResult = await storeOnly();
  const patch = await endToEnd('patch');
  const reaggregate = await endToEnd('reaggregate');
  const ratio = (a: unknown, b: unknown) => Math.round((Number(a) / Number(b)) * 10) / 10;
  await writeResult('patch-fanout', {
    // The 1-minute load average at the start: on a shared machine it says how much to trust the numbers.
    environment: { node: process.version, cpus: os.cpus().length, loadAverage1m: loadAtStart, store: MONGODB_URL.replace(/\/\/[^@]*@/, '//') },
    parameters: { views: VIEWS, linesPerView: 2, partitions: PARTITIONS },
    results: [storeResult, patch, reaggregate],
    ratios: { endToEndReaggregateVsPatch: ratio(reaggregate['allUpdatedMs'], patch['allUpdatedMs']), storeReaggregateVsPatch: ratio(storeResult['reaggregateMs'], storeResult['patchMs']) },
    // The report's block (bench/lib/result-format.ts): the patch against the same change re-aggregated.
    summary: {
      measures: [
        {
          id: 'end-to-end',
          label: `one product renamed, held by ${VIEWS} views: CDC record → all updated, with a patch rule`,
          unit: 'ms',
          better: 'lower',
          value: Number(patch['allUpdatedMs']),
          baselines: [{ id: 'reaggregate', label: `the same change re-aggregated (${VIEWS} sv-triggers, batched lookups, bulk writes)`, value: Number(reaggregate['allUpdatedMs']) }],
        },
        {
          id: 'store',
          label: `the store work alone: one updateMany over ${VIEWS} views`,
          unit: 'ms',
          better: 'lower',
          value: Number(storeResult['patchMs']),
          baselines: [{ id: 'reaggregate', label: `re-aggregating the ${VIEWS} keys (assemble + bulk write, batches of 500)`, value: Number(storeResult['reaggregateMs']) }],
        },
      ],
    },
  });
}

await main();
