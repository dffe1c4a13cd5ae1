/**
 * The Fast Data benchmark's workload and topology: a customer-360-like history of Debezium JSON
 * change events (no schema envelope, JSON keys, REPLICA IDENTITY FULL) and the Tributary topology
 * that projects it (customers, orders, order lines) and aggregates one view per customer.
 *
 *   generateWorkload({ customers: 500, events: 20000 })
 *     --> records: [{ table: 'customers', key: { id: 'c000001' }, value: { op: 'c', after: {...}, source: {..., lsn } } }, ...]
 *
 * Each customer has 3 orders of 2 lines (inserted first); the rest of the events are updates at
 * random (customers 10 %, orders 30 %, lines 60 %). Seeded: the same history on every run.
 */
import { debezium, fastData, field, hasMany, projection, singleView, type FastDataTopology } from '../../src/index.js';
import { prng } from '../../topologies/customer-360.generator.js';

export type TableName = 'customers' | 'orders' | 'order_lines';
type Row = Record<string, unknown>;

/** Source tables: the primary-key column and its projection (raw and Tributary write the same collections). */
export const TABLES: ReadonlyArray<{ readonly name: TableName; readonly pk: string; readonly projection: string }> = [
  { name: 'customers', pk: 'id', projection: 'pr_customers' },
  { name: 'orders', pk: 'order_id', projection: 'pr_orders' },
  { name: 'order_lines', pk: 'line_id', projection: 'pr_order_lines' },
];

export interface CdcRecord {
  readonly table: TableName;
  readonly key: Row;
  readonly value: Row;
}

export function generateWorkload(options: { customers: number; events: number }): { records: CdcRecord[]; customerIds: string[] } {
  const random = prng(360);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const pad = (n: number, width: number) => String(n).padStart(width, '0');
  const rows: Record<TableName, Row[]> = { customers: [], orders: [], order_lines: [] };
  const records: CdcRecord[] = [];
  let lsn = 24_000_000;
  const baseMs = Date.UTC(2026, 0, 5, 9);
  const emit = (table: TableName, op: 'c' | 'u', before: Row | null, after: Row) => {
    const pk = (TABLES.find((t) => t.name === table) as (typeof TABLES)[number]).pk;
    lsn += 8 + Math.floor(random() * 64);
    const ts = baseMs + records.length * 7;
    const source = { version: '2.7.0.Final', connector: 'postgresql', name: 'bench', ts_ms: ts, snapshot: 'false', db: table === 'customers' ? 'crm' : 'shop', schema: 'public', table, lsn };
    records.push({ table, key: { [pk]: after[pk] }, value: { before, after, source, op, ts_ms: ts + 3, transaction: null } });
  };
  const tiers = ['gold', 'silver', 'bronze', null];
  const statuses = ['pending', 'paid', 'shipped', 'delivered', 'cancelled'];
  for (let c = 1; c <= options.customers; c++) {
    const customer = { id: `c${pad(c, 6)}`, full_name: `Customer ${c}`, email: `customer${c}@example.com`, tier: pick(tiers), signup_ms: baseMs - c * 86_400_000 };
    rows.customers.push(customer);
    emit('customers', 'c', null, customer);
    for (let o = 0; o < 3; o++) {
      const order: Row = { order_id: `o${pad(rows.orders.length + 1, 7)}`, customer_id: customer.id, status: 'pending', total: Math.round(random() * 50_000) / 100 };
      rows.orders.push(order);
      emit('orders', 'c', null, order);
      for (let l = 0; l < 2; l++) {
        const line = { line_id: `l${pad(rows.order_lines.length + 1, 8)}`, order_id: order['order_id'], sku: `SKU-${pad(Math.floor(random() * 5000), 5)}`, quantity: 1 + Math.floor(random() * 5), price: Math.round(random() * 10_000) / 100 };
        rows.order_lines.push(line);
        emit('order_lines', 'c', null, line);
      }
    }
  }
  while (records.length < options.events) {
    const r = random();
    const table: TableName = r < 0.1 ? 'customers' : r < 0.4 ? 'orders' : 'order_lines';
    const list = rows[table];
    const index = Math.floor(random() * list.length);
    const before = list[index] as Row;
    const after: Row =
      table === 'customers' ? { ...before, tier: pick(tiers), email: `customer${records.length}@example.com` } : table === 'orders' ? { ...before, status: pick(statuses) } : { ...before, quantity: 1 + Math.floor(random() * 9) };
    list[index] = after;
    emit(table, 'u', before, after);
  }
  return { records, customerIds: rows.customers.map((c) => c['id'] as string) };
}

/** What a view holds, built the same way by Tributary's `map` and by the raw baseline. */
export function customerDocument(customer: Row, orders: ReadonlyArray<Row & { lines: Row[] }>): Row {
  return {
    customer_id: customer['customer_id'],
    name: customer['name'],
    email: customer['email'] ?? null,
    tier: customer['tier'] ?? 'standard',
    orders: orders.map((o) => ({ order_id: o['order_id'], status: o['status'], total: o['total'], lines: o.lines.map((l) => ({ sku: l['sku'], quantity: l['quantity'], price: l['price'] })) })),
    total_spent: Math.round(orders.filter((o) => o['status'] !== 'cancelled').reduce((s, o) => s + (o['total'] as number), 0) * 100) / 100,
  };
}

export function buildTopology(name: string, topicPrefix: string, sourceTopic: (table: TableName) => string): FastDataTopology {
  const customers = projection({
    name: 'pr_customers',
    source: { topic: sourceTopic('customers'), adapter: debezium() },
    systemOfRecord: 'crm',
    primaryKey: ['customer_id'],
    fields: {
      customer_id: field.string({ from: 'id' }),
      name: field.string({ from: 'full_name' }),
      email: field.string({ nullable: true }),
      tier: field.string({ nullable: true }),
      signup: field.isoTimestamp({ from: 'signup_ms', nullable: true }),
    },
  });
  const orders = projection({
    name: 'pr_orders',
    source: { topic: sourceTopic('orders'), adapter: debezium() },
    systemOfRecord: 'shop',
    primaryKey: ['order_id'],
    fields: { order_id: field.string(), customer_id: field.string(), status: field.string(), total: field.number() },
  });
  const orderLines = projection({
    name: 'pr_order_lines',
    source: { topic: sourceTopic('order_lines'), adapter: debezium() },
    systemOfRecord: 'shop',
    primaryKey: ['line_id'],
    fields: { line_id: field.string(), order_id: field.string(), sku: field.string(), quantity: field.integer(), price: field.number() },
  });
  const customerView = singleView({
    name: 'sv_customers',
    base: customers,
    include: { orders: hasMany(orders, { customer_id: 'customer_id' }, { include: { lines: hasMany(orderLines, { order_id: 'order_id' }) } }) },
    map: ({ base, orders }) => customerDocument(base, orders),
    validate: (view) => typeof view['name'] === 'string' && view['name'].length > 0,
    ...(process.env['BENCH_NO_LINEAGE'] === '1' ? { lineage: false } : {}),
  });
  return fastData({ name, topicPrefix, projections: [customers, orders, orderLines], singleViews: [customerView] });
}
