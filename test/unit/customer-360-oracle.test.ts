/**
 * customer-360 on the embedded engine against two independent references: the oracle (views
 * recomputed from the final projections with plain joins) and the generator's source databases (what
 * every projection must hold). Random histories mix every kind of change, including cascades, key
 * changes, duplicates and replays; the examples pin the cases one by one.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Row } from '../../src/index.js';
import { partitionFor } from '../../src/stream/transport/murmur2.js';
import { TestDriver, computeViews, storedViews } from '../../src/testing/index.js';
import { customer360 } from '../../topologies/customer-360.js';
import {
  expectedProjections,
  generateHistory,
  historyBuilder,
  liveProjections,
  pipeHistory,
  type Customer,
  type HistoryRecord,
  type Order,
  type OrderLine,
  type Preference,
} from '../../topologies/customer-360.generator.js';

const t = customer360();
const partitions = Object.fromEntries(t.allTopics.map((topic) => [topic, 3]));

interface Outcome {
  readonly views: Record<string, Row>;
  readonly oracle: Record<string, Row>;
  readonly projections: Awaited<ReturnType<typeof liveProjections>>;
  readonly deadLetters: number;
  /** Every projection document, deleted ones included, by collection then primary key. */
  readonly stored: Record<string, Record<string, Row>>;
}

async function outcome(driver: TestDriver): Promise<Outcome> {
  const stored: Record<string, Record<string, Row>> = {};
  for (const p of [t.customers, t.orders, t.orderLines, t.preferences]) {
    stored[p.name] = Object.fromEntries((await driver.store.collection(p.name).find({})).map((d) => [String(d[p.primaryKey[0] as string]), d]));
  }
  return {
    views: Object.fromEntries(await storedViews(t.customerView, driver.store)),
    oracle: Object.fromEntries(await computeViews(t.customerView, driver.store)),
    projections: await liveProjections(t, driver.store),
    deadLetters: driver.broker.topics().filter((topic) => topic.endsWith('.dlq')).reduce((n, topic) => n + driver.broker.partitions(topic).flat().length, 0),
    stored,
  };
}

/** Pipes the phases one after the other, waiting for the engine to be idle after each; the outcome after each phase. */
async function run(phases: ReadonlyArray<readonly HistoryRecord[]>, batch = 16): Promise<Outcome[]> {
  const driver = await TestDriver.start(t, { partitions });
  try {
    const outcomes: Outcome[] = [];
    for (const records of phases) {
      await pipeHistory(driver, records, { batch });
      await driver.idle(30_000);
      outcomes.push(await outcome(driver));
    }
    return outcomes;
  } finally {
    await driver.close();
  }
}

const view = (o: Outcome, id: string) => o.views[JSON.stringify({ customer_id: id })];
const customer = (id: string, full_name = `Customer ${id}`): Customer => ({ id, full_name, email: `${id}@example.com`, tier: 'gold', signup_ms: 1_700_000_000_000 });
const order = (order_id: string, customer_id: string, total = 10): Order => ({ order_id, customer_id, status: 'paid', total });
const line = (line_id: string, order_id: string): OrderLine => ({ line_id, order_id, sku: `SKU-${line_id}`, quantity: 2, price: 2.5 });

describe('customer-360 against the oracle and the source databases', () => {
  it('random histories: views equal the oracle, live projections equal the source rows', async () => {
    let records = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.record({ seed: fc.integer(), customers: fc.integer({ min: 1, max: 5 }), events: fc.integer({ min: 1, max: 60 }), redelivery: fc.integer({ min: 0, max: 3 }) }),
        // Records per append: how much of the history each partition sees at once, hence which batches race.
        fc.integer({ min: 1, max: 48 }),
        async (options, batch) => {
          const history = generateHistory(options);
          records += history.length;
          const [result] = (await run([history], batch)) as [Outcome];
          assert.deepStrictEqual(result.views, result.oracle, 'maintained views differ from the oracle');
          assert.deepStrictEqual(result.projections, expectedProjections(history.truth), 'a projection differs from its source table');
          assert.equal(result.deadLetters, 0);
        },
      ),
      { numRuns: 200 },
    );
    assert.ok(records > 200 * 20, `histories too small: ${records} records in all`);
  });

  it('the generator is deterministic and produces exactly the requested number of records', () => {
    const a = generateHistory({ seed: 42, customers: 5, events: 300 });
    assert.equal(a.length, 300);
    assert.deepStrictEqual(JSON.parse(JSON.stringify(a)), JSON.parse(JSON.stringify(generateHistory({ seed: 42, customers: 5, events: 300 }))));
    assert.notDeepStrictEqual(JSON.parse(JSON.stringify(a)), JSON.parse(JSON.stringify(generateHistory({ seed: 43, customers: 5, events: 300 }))));
    const ops = new Set(a.map((r) => (r.value === null ? 'tombstone' : JSON.stringify((r.value as { payload?: Row }).payload?.['op'] ?? (r.value as Row)['op'] ?? (r.value as Row)['op_type']))));
    for (const op of ['"r"', '"c"', '"u"', '"d"', 'tombstone', '"I"', '"U"', '"D"']) assert.ok(ops.has(op), `no ${op} record in ${[...ops].join(' ')}`);
  });

  it('an order moving to another customer leaves the first and joins the second (a line moving between orders too)', async () => {
    const b = historyBuilder();
    for (const id of ['c1', 'c2']) b.change('customers', 'c', null, customer(id));
    b.change('orders', 'c', null, order('o1', 'c1'));
    b.change('orders', 'c', null, order('o2', 'c2', 20));
    b.change('orderLines', 'c', null, line('l1', 'o1'));
    const first = b.history();
    b.change('orders', 'u', order('o1', 'c1'), order('o1', 'c2'));
    b.change('orderLines', 'u', line('l1', 'o1'), line('l1', 'o2'));
    const all = b.history();
    const [before, after] = (await run([first, all.slice(first.length)])) as [Outcome, Outcome];
    assert.deepStrictEqual(view(before, 'c1')?.['orders'], [{ order_id: 'o1', status: 'paid', total: 10, lines: [{ sku: 'SKU-l1', quantity: 2, price: 2.5 }] }]);
    assert.deepStrictEqual(view(after, 'c1')?.['orders'], []);
    assert.equal(view(after, 'c1')?.['total_spent'], 0);
    assert.deepStrictEqual(view(after, 'c2')?.['orders'], [
      { order_id: 'o1', status: 'paid', total: 10, lines: [] },
      { order_id: 'o2', status: 'paid', total: 20, lines: [{ sku: 'SKU-l1', quantity: 2, price: 2.5 }] },
    ]);
    assert.deepStrictEqual(after.views, after.oracle);
    assert.deepStrictEqual(after.projections, expectedProjections(all.truth));
  });

  it('primary-key changes, as delete + insert and as one update, move the row and its view', async () => {
    const b = historyBuilder();
    for (const id of ['c1', 'c2']) b.change('customers', 'c', null, customer(id));
    b.change('orders', 'c', null, order('o1', 'c1'));
    b.change('orderLines', 'c', null, line('l1', 'o1'));
    const first = b.history();
    b.change('customers', 'd', customer('c1'), null); // PostgreSQL: d (old key) + tombstone + c (new key)
    b.change('customers', 'c', null, customer('c8'));
    b.change('customers', 'u', customer('c2'), customer('c9')); // one update whose before and after keys differ
    b.change('orders', 'u', order('o1', 'c1'), order('o7', 'c9')); // the order's key and its customer change at once
    b.change('orderLines', 'u', line('l1', 'o1'), line('l1', 'o7')); // ON UPDATE CASCADE
    const all = b.history();
    const [, after] = (await run([first, all.slice(first.length)])) as [Outcome, Outcome];
    assert.deepStrictEqual(Object.keys(after.views).sort(), ['{"customer_id":"c8"}', '{"customer_id":"c9"}']);
    assert.deepStrictEqual(view(after, 'c9')?.['orders'], [{ order_id: 'o7', status: 'paid', total: 10, lines: [{ sku: 'SKU-l1', quantity: 2, price: 2.5 }] }]);
    for (const [collection, id] of [['pr_customers', 'c1'], ['pr_customers', 'c2'], ['pr_orders', 'o1']] as const) {
      assert.equal(after.stored[collection]?.[id]?.['__STATE__'], 'DELETED', `${collection} ${id}`);
    }
    assert.deepStrictEqual(after.views, after.oracle);
    assert.deepStrictEqual(after.projections, expectedProjections(all.truth));
  });

  it('a key change as one update, while the old key still has records on its own partition, deletes the old key', async () => {
    const b = historyBuilder();
    const prefs = (id: string): Preference => ({ CUSTOMER_ID: id, CHANNELS: ['email'], EMAIL_OPT_IN: 'false' });
    b.change('customers', 'c', null, customer('c1')); // key {id: c1}
    b.change('customers', 'u', customer('c1'), customer('c2')); // key {id: c2}: deletes c1 from c2's partition
    b.change('preferences', 'c', null, prefs('c3')); // key 'c3'
    b.change('preferences', 'u', prefs('c3'), prefs('c5')); // key 'c5'
    const history = b.history();
    // All in one append: the batches of the old key's partition and of the new key's start together.
    const [result] = (await run([history])) as [Outcome];
    assert.deepStrictEqual(result.projections, expectedProjections(history.truth));
    assert.deepStrictEqual(Object.keys(result.views), ['{"customer_id":"c2"}']);
  });

  it('a batch retried after a write conflict still re-aggregates the customer an order left', async () => {
    // The batch of o1's partition moves o1 (c1 -> c2), then applies a key change oK -> oN whose
    // delete of oK conflicts with an update of oK on oK's own partition: the bulk write fails after
    // o1's replace, and the whole batch is retried.
    const keyPartition = (id: string) => partitionFor(Buffer.from(JSON.stringify(historyBuilder().keyOf('orders', id))), 3, () => 0);
    const ids = Array.from({ length: 50 }, (_, i) => `o${i}`);
    const o1 = 'o0';
    const oN = ids.find((id) => id !== o1 && keyPartition(id) === keyPartition(o1)) as string;
    const oK = ids.find((id) => keyPartition(id) !== keyPartition(o1)) as string;
    const b = historyBuilder();
    for (const id of ['c1', 'c2']) b.change('customers', 'c', null, customer(id));
    b.change('orders', 'c', null, order(o1, 'c1'));
    b.change('orders', 'c', null, order(oK, 'c2'));
    const first = b.history();
    b.change('orders', 'u', order(oK, 'c2'), order(oK, 'c2', 20)); // on oK's partition
    b.change('orders', 'u', order(o1, 'c1'), order(o1, 'c2')); // on o1's partition
    b.change('orders', 'u', order(oK, 'c2', 20), order(oN, 'c2', 20)); // on o1's partition too
    const all = b.history();
    const [, after] = (await run([first, all.slice(first.length)])) as [Outcome, Outcome];
    assert.deepStrictEqual(after.projections, expectedProjections(all.truth));
    assert.deepStrictEqual(view(after, 'c1')?.['orders'], []);
    assert.deepStrictEqual(after.views, after.oracle);
  });

  it('a replayed older insert or update after a delete does not resurrect the row', async () => {
    const b = historyBuilder();
    b.change('customers', 'r', null, customer('c1')); // 0: snapshot read
    b.change('orders', 'c', null, order('o1', 'c1')); // 1
    b.change('preferences', 'c', null, { CUSTOMER_ID: 'c1', CHANNELS: ['sms'], EMAIL_OPT_IN: 'true' }); // 2
    b.change('orders', 'u', order('o1', 'c1'), order('o1', 'c1', 99)); // 3
    b.change('customers', 'd', customer('c1'), null);
    b.change('orders', 'd', order('o1', 'c1', 99), null);
    b.change('preferences', 'd', { CUSTOMER_ID: 'c1', CHANNELS: ['sms'], EMAIL_OPT_IN: 'true' }, null);
    for (const index of [0, 1, 2, 3]) b.again(index); // a re-snapshot of the old state, re-sent old records
    const history = b.history();
    const [result] = (await run([history])) as [Outcome];
    assert.deepStrictEqual(result.views, {});
    assert.deepStrictEqual(result.projections, { pr_customers: [], pr_orders: [], pr_order_lines: [], pr_preferences: [] });
    for (const [collection, id] of [['pr_customers', 'c1'], ['pr_orders', 'o1'], ['pr_preferences', 'c1']] as const) {
      assert.equal(result.stored[collection]?.[id]?.['__STATE__'], 'DELETED', `${collection} ${id}`);
    }
  });

  it('every record delivered twice gives the same projections and views as once', async () => {
    const once = generateHistory({ seed: 7, customers: 4, events: 80, redelivery: 0 });
    const twice = once.flatMap((r) => [r, r]);
    const [a] = (await run([once])) as [Outcome];
    const [b] = (await run([twice])) as [Outcome];
    assert.deepStrictEqual(b.views, a.views);
    assert.deepStrictEqual(b.projections, a.projections);
    assert.deepStrictEqual(a.projections, expectedProjections(once.truth));
    assert.deepStrictEqual(b.views, b.oracle);
  });

  it('tombstones and truncates are skipped, not applied and not dead-lettered', async () => {
    const b = historyBuilder();
    b.change('customers', 'c', null, customer('c1'));
    b.change('orders', 'c', null, order('o1', 'c1'));
    b.change('orderLines', 'c', null, line('l1', 'o1'));
    b.change('preferences', 'c', null, { CUSTOMER_ID: 'c1', CHANNELS: [], EMAIL_OPT_IN: 'false' });
    const source = { connector: 'postgresql', name: 'shop', ts_ms: 1, db: 'shop', schema: 'public', table: 'order_lines', lsn: 999_999_999 };
    b.emit('orderLines', null, { before: null, after: null, source, op: 't', ts_ms: 1 }); // TRUNCATE order_lines: no key
    b.emit('orders', b.keyOf('orders', 'o1'), null); // a tombstone with no delete before it
    b.emit('customers', b.keyOf('customers', 'c1'), null);
    b.emit('preferences', 'c1', { table: 'MKT.PREFERENCES', op_type: 'T', pos: '00000000009999999999' });
    const history = b.history();
    const [result] = (await run([history])) as [Outcome];
    assert.equal(result.deadLetters, 0);
    assert.deepStrictEqual(result.projections, expectedProjections(history.truth));
    assert.equal((view(result, 'c1')?.['orders'] as unknown[]).length, 1);
    assert.deepStrictEqual(result.views, result.oracle);
  });
});
