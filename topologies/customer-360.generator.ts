/**
 * Deterministic CDC histories for customer-360: a seeded simulation of the three source databases
 * (CRM, shop, marketing) that keeps their rows and writes every change as its connector would, so
 * tests and the demo can compare what Tributary built with what the sources hold.
 *
 *   generateHistory({ seed: 7, customers: 3, events: 40 })
 *     --> [{ topic: 'crm.public.customers', key: { id: 'c0001' }, value: { op: 'r', after: {...}, source: {..., lsn } } }, ...]
 *         plus .truth (the final rows of every table) and .topics
 *
 * Formats, as the connectors write them: customers are Debezium/PostgreSQL Avro envelopes
 * (schemas/crm.public.customers-*.avsc); orders Debezium JSON with the Connect schema envelope (key
 * too); order lines Debezium JSON without it, from a table with REPLICA IDENTITY DEFAULT (no before
 * image on updates, the key only on deletes); preferences GoldenGate JSON with plain-text keys.
 * Deletes are followed by a tombstone; LSNs grow per database (orders and lines share the shop's);
 * snapshot reads share one.
 * Operations: inserts, updates, deletes, foreign-key moves, key changes (`d` + `c` as PostgreSQL
 * sends them, or one `u` whose keys differ), ON DELETE / ON UPDATE CASCADE of lines, incremental
 * re-snapshots, duplicate deliveries and replays of old records (which must change nothing).
 */
import { avro, json, string, type Projection, type Row, type SchemaRegistryClient, type Serde } from '../src/index.js';
import type { DocumentStore, OutgoingMessage } from '../src/runtime.js';
import type { TestDriver } from '../src/testing/index.js';
import { customerSchemas, standardTopics, type Customer360, type SourceTopics } from './customer-360.js';

export interface HistoryOptions {
  readonly seed: number;
  /** Customers in the initial snapshot (default 20). */
  readonly customers?: number;
  /** Records in the history, snapshot, tombstones and redeliveries included (default 500). */
  readonly events?: number;
  /** Topic names (default the standard ones; pass `customer360({ topicPrefix }).sourceTopics`). */
  readonly topics?: SourceTopics;
  /** Weight of duplicate and replayed deliveries among the operations (default 1 = about 8 %; 0 for none). */
  readonly redelivery?: number;
  /** Some key changes as one update whose keys differ (default true): the old key is then written from the new key's partition. */
  readonly keyUpdates?: boolean;
}

export interface HistoryRecord { readonly topic: string; readonly key: unknown; readonly value: unknown }

export interface Customer { id: string; full_name: string; email: string | null; tier: string | null; signup_ms: number | null }
export interface Order { order_id: string; customer_id: string; status: string; total: number }
export interface OrderLine { line_id: string; order_id: string; sku: string; quantity: number; price: number }
export interface Preference { CUSTOMER_ID: string; CHANNELS: string[]; EMAIL_OPT_IN: 'true' | 'false' }

/** The final rows of every source table, in source field names, ordered by primary key. */
export interface SourceTruth { readonly customers: Customer[]; readonly orders: Order[]; readonly orderLines: OrderLine[]; readonly preferences: Preference[] }

export type History = HistoryRecord[] & { readonly truth: SourceTruth; readonly topics: SourceTopics };
/** A history or a slice of one (a slice has lost `topics`: the standard ones are assumed). */
export type Replayable = readonly HistoryRecord[] & { readonly topics?: SourceTopics };

type Table = keyof SourceTopics;
type Rows = { customers: Customer; orders: Order; orderLines: OrderLine; preferences: Preference };

const BASE_MS = Date.UTC(2026, 0, 5, 9);
const PK = { customers: 'id', orders: 'order_id', orderLines: 'line_id', preferences: 'CUSTOMER_ID' } as const;
const NAMES = ['Ada Lovelace', 'Alan Turing', 'Grace Hopper', 'Edsger Dijkstra', 'Barbara Liskov', 'Ken Thompson', 'Frances Allen', 'Donald Knuth'];
const ID = { customers: ['c', 4], orders: ['o', 5], orderLines: ['l', 6] } as const;
const STATUSES = ['pending', 'paid', 'shipped', 'cancelled'];
const CHANNELS = ['email', 'sms', 'push', 'post'];
const connectSchema = (name: string, fields: string[]) => ({ type: 'struct', optional: false, name, fields: fields.map((field) => ({ field, type: 'string', optional: false })) });
const ORDER_KEY_SCHEMA = connectSchema('shop.public.orders.Key', ['order_id']);
const ORDER_VALUE_SCHEMA = { type: 'struct', optional: false, name: 'shop.public.orders.Envelope', version: 1, fields: ['before', 'after', 'source', 'op', 'ts_ms', 'transaction'].map((field) => ({ field, type: field === 'op' ? 'string' : 'struct', optional: field !== 'op' && field !== 'source' })) };

const idOf = (table: Table, row: Rows[Table]): string => String((row as unknown as Row)[PK[table]]);

/**
 * mulberry32: small, fast, and the same sequence on every platform for a seed, so a generated
 * history, a fault run's kill moments or a benchmark workload can be replayed from its seed.
 * prng(7)() --> 0.…, the same number on every run.
 */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Simulation {
  readonly out: HistoryRecord[] = [];
  readonly rows: { [T in Table]: Map<string, Rows[T]> } = { customers: new Map(), orders: new Map(), orderLines: new Map(), preferences: new Map() };
  readonly #changes: HistoryRecord[] = [];
  readonly #last = new Map<Table, HistoryRecord>();
  readonly #lsn = { crm: 23_961_384, shop: 90_112_000 };
  #pos = 1_000;
  #clock = BASE_MS;
  readonly ids = { customers: 0, orders: 0, orderLines: 0 };

  constructor(readonly random: () => number, readonly topics: SourceTopics) {}

  int = (n: number) => Math.floor(this.random() * n);
  pick = <T>(list: readonly T[]): T => list[this.int(list.length)] as T;
  chance = (p: number) => this.random() < p;
  money = (max: number) => Math.round((1 + this.random() * max) * 100) / 100;
  nextId = (table: keyof typeof ID) => `${ID[table][0]}${String(++this.ids[table]).padStart(ID[table][1], '0')}`;
  someId = (table: Table): string | undefined => (this.rows[table].size === 0 ? undefined : this.pick([...this.rows[table].keys()]));
  linesOf = (orderId: string) => [...this.rows.orderLines.values()].filter((l) => l.order_id === orderId);

  newCustomer(id: string): Customer {
    const name = this.pick(NAMES);
    return { id, full_name: name, email: this.chance(0.8) ? `${name.split(' ')[0]?.toLowerCase()}.${id}@example.com` : null, tier: this.pick([null, 'silver', 'gold', 'platinum']), signup_ms: this.chance(0.8) ? BASE_MS - this.int(3 * 365) * 86_400_000 : null };
  }
  newOrder(id: string, customerId: string): Order {
    return { order_id: id, customer_id: customerId, status: this.pick(STATUSES), total: this.money(500) };
  }
  newLine(id: string, orderId: string): OrderLine {
    return { line_id: id, order_id: orderId, sku: `SKU-${100 + this.int(40)}`, quantity: 1 + this.int(5), price: this.money(80) };
  }
  newPreference(customerId: string): Preference {
    return { CUSTOMER_ID: customerId, CHANNELS: CHANNELS.filter(() => this.chance(0.5)), EMAIL_OPT_IN: this.chance(0.6) ? 'true' : 'false' };
  }

  /** A change of the source database: applies it to the rows, then writes it as the connector does. */
  change<T extends Table>(table: T, op: 'c' | 'u' | 'd' | 'r', before: Rows[T] | null, after: Rows[T] | null, snapshot?: { lsn?: number; kind: string }): void {
    if (before && op !== 'r') this.rows[table].delete(idOf(table, before));
    if (after) this.rows[table].set(idOf(table, after), after);
    this.#clock += 1 + this.int(2_000);
    const id = idOf(table, (after ?? before) as Rows[T]);
    if (table === 'preferences') {
      const opType = op === 'd' ? 'D' : op === 'u' ? 'U' : 'I';
      // GoldenGate sends update before-images only with GETUPDATEBEFORES; a key change needs one.
      const withBefore = op === 'd' || (op === 'u' && (before === null || after === null || idOf(table, before) !== idOf(table, after) || this.chance(0.5)));
      const stamp = new Date(this.#clock).toISOString().replace('T', ' ').replace('Z', '');
      this.emit(table, id, { table: 'MKT.PREFERENCES', op_type: opType, op_ts: stamp, current_ts: stamp, pos: String(++this.#pos).padStart(20, '0'), ...(withBefore ? { before } : {}), ...(op === 'd' ? {} : { after }) });
      return;
    }
    const db = table === 'customers' ? 'crm' : 'shop';
    const lsn = snapshot?.lsn ?? (this.#lsn[db] += 8 + this.int(400));
    const key = this.keyOf(table, id);
    const common = { connector: 'postgresql', name: db, ts_ms: this.#clock, db, schema: 'public', table: table === 'orderLines' ? 'order_lines' : table };
    const kind = snapshot?.kind ?? (op === 'r' ? 'true' : 'false');
    const source = table === 'customers' ? { ...common, lsn, snapshot: kind } : { version: '2.7.0.Final', ...common, snapshot: kind, sequence: `[null,"${lsn}"]`, txId: 700 + Math.floor(lsn / 1000), lsn, xmin: null };
    const image = table !== 'orderLines' || op === 'c' || op === 'r' ? before : op === 'd' ? { line_id: id } : null;
    const payload = { before: image, after, source, op, ts_ms: this.#clock + 3, ...(table === 'customers' ? {} : { transaction: null }) };
    this.emit(table, key, table === 'orders' ? { schema: ORDER_VALUE_SCHEMA, payload } : payload);
    if (op === 'd') this.emit(table, key, null); // tombstones.on.delete=true (the default)
  }

  keyOf = (table: Table, id: string): unknown =>
    table === 'customers' ? { id } : table === 'orders' ? { schema: ORDER_KEY_SCHEMA, payload: { order_id: id } } : table === 'orderLines' ? { line_id: id } : id;
  snapshotLsn = (db: 'crm' | 'shop') => (this.#lsn[db] += 8);

  emit(table: Table, key: unknown, value: unknown): void {
    const record = { topic: this.topics[table], key, value };
    this.out.push(record);
    if (value === null) return;
    this.#changes.push(record);
    this.#last.set(table, record);
  }

  /** The same record produced again right away (a producer retry), or an old one much later (a replay). */
  redeliver(replay: boolean): boolean {
    const record = replay ? this.#changes[this.int(this.#changes.length)] : this.#last.get(this.pick([...this.#last.keys()]));
    if (!record) return false;
    this.out.push(record);
    return true;
  }
}

/** One operation of the simulation with its targets chosen: `cost` records once `run`. */
interface Plan {
  readonly cost: number;
  readonly run: () => void;
}

type Planner = readonly [weight: number, plan: () => Plan | null];

function planners(s: Simulation, redelivery: number, keyUpdates: boolean): Planner[] {
  const plan = (cost: number, run: () => void): Plan => ({ cost, run });
  const any = <T extends Table>(table: T): Rows[T] | undefined => s.rows[table].get(s.someId(table) ?? '');
  const customerId = (n: number) => `c${String(n).padStart(4, '0')}`;
  // Orders mostly reference live customers; some a deleted or not-yet-created one (another database: no constraint).
  const customerRef = () => (s.chance(0.85) && s.rows.customers.size > 0 ? (s.someId('customers') as string) : customerId(1 + s.int(s.ids.customers + 2)));
  const keyChange = <T extends 'customers' | 'orders' | 'orderLines'>(table: T, old: Rows[T], id: string, asUpdate: boolean) => {
    const moved = { ...old, [PK[table]]: id } as Rows[T];
    if (asUpdate) return s.change(table, 'u', old, moved); // one update whose key changed (other connectors, or tooling)
    s.change(table, 'd', old, null); // PostgreSQL: delete of the old key, then insert of the new one
    s.change(table, 'c', null, moved);
  };
  const when = <T>(row: T | undefined, make: (row: T) => Plan | null) => (row === undefined ? null : make(row));
  return [
    [8, () => {
      const reused = customerId(1 + s.int(Math.max(1, s.ids.customers)));
      const id = s.chance(0.1) && !s.rows.customers.has(reused) ? reused : s.nextId('customers'); // ids of deleted customers come back
      return plan(1, () => s.change('customers', 'c', null, s.newCustomer(id)));
    }],
    [9, () => when(any('customers'), (c) => plan(1, () => s.change('customers', 'u', c, { ...c, full_name: s.chance(0.03) ? '' : s.chance(0.5) ? s.pick(NAMES) : c.full_name, tier: s.pick([c.tier, 'gold', 'silver', null]), email: s.chance(0.3) ? null : c.email })))],
    [3, () => when(any('customers'), (c) => plan(2, () => s.change('customers', 'd', c, null)))],
    [2, () => when(any('customers'), (c) => when(s.chance(0.5) && keyUpdates, (asUpdate) => plan(asUpdate ? 1 : 3, () => keyChange('customers', c, s.nextId('customers'), asUpdate))))],
    [12, () => plan(1, () => s.change('orders', 'c', null, s.newOrder(s.nextId('orders'), customerRef())))],
    [9, () => when(any('orders'), (o) => plan(1, () => s.change('orders', 'u', o, { ...o, status: s.pick(STATUSES), total: s.chance(0.5) ? s.money(500) : o.total })))],
    [5, () => when(any('orders'), (o) => plan(1, () => s.change('orders', 'u', o, { ...o, customer_id: customerRef() })))],
    [3, () => when(any('orders'), (o) => when(s.linesOf(o.order_id), (lines) => plan(2 + 2 * lines.length, () => {
      s.change('orders', 'd', o, null);
      for (const l of lines) s.change('orderLines', 'd', l, null); // ON DELETE CASCADE
    })))],
    [1, () => when(any('orders'), (o) => when(s.chance(0.5) && keyUpdates, (asUpdate) => when(s.linesOf(o.order_id), (lines) => plan((asUpdate ? 1 : 3) + lines.length, () => {
      const id = s.nextId('orders');
      keyChange('orders', o, id, asUpdate);
      for (const l of lines) s.change('orderLines', 'u', l, { ...l, order_id: id }); // ON UPDATE CASCADE
    }))))],
    [12, () => when(s.someId('orders'), (orderId) => plan(1, () => s.change('orderLines', 'c', null, s.newLine(s.nextId('orderLines'), orderId))))],
    [7, () => when(any('orderLines'), (l) => plan(1, () => s.change('orderLines', 'u', l, { ...l, quantity: 1 + s.int(5), price: s.chance(0.3) ? s.money(80) : l.price })))],
    [4, () => when(any('orderLines'), (l) => plan(1, () => s.change('orderLines', 'u', l, { ...l, order_id: s.someId('orders') as string })))],
    [3, () => when(any('orderLines'), (l) => plan(2, () => s.change('orderLines', 'd', l, null)))],
    [1, () => when(any('orderLines'), (l) => plan(3, () => keyChange('orderLines', l, s.nextId('orderLines'), false)))], // no before image: d + c only
    [4, () => when(customerRef(), (id) => plan(1, () => s.change('preferences', s.rows.preferences.has(id) ? 'u' : 'c', s.rows.preferences.get(id) ?? null, s.newPreference(id))))],
    [2, () => when(any('preferences'), (p) => plan(1, () => s.change('preferences', 'd', p, null)))],
    // Marketing moves a row to another customer (maybe one created later): a key change as one GoldenGate update.
    [keyUpdates ? 1 : 0, () => when(any('preferences'), (p) => when(customerId(1 + s.int(s.ids.customers + 1)), (id) => (s.rows.preferences.has(id) ? null : plan(1, () => s.change('preferences', 'u', p, { ...p, CUSTOMER_ID: id })))))],
    [1, () => {
      // Incremental snapshot (signal table): some current rows again as `r`, at a fresh LSN.
      const table = s.pick(['customers', 'orders', 'orderLines'] as const);
      const rows = [...new Set([0, 1, 2].map(() => s.someId(table)))].filter((id) => id !== undefined).map((id) => s.rows[table].get(id) as Rows[typeof table]);
      return rows.length === 0 ? null : plan(rows.length, () => {
        const lsn = s.snapshotLsn(table === 'customers' ? 'crm' : 'shop');
        for (const row of rows) s.change(table, 'r', null, row, { lsn, kind: 'incremental' });
      });
    }],
    [3 * redelivery, () => plan(1, () => s.redeliver(false))],
    [4 * redelivery, () => plan(1, () => s.redeliver(true))],
  ];
}

/** The initial snapshot: every table read as `r` at one LSN per database (GoldenGate: an initial load of inserts). */
function snapshot(s: Simulation, customers: number, budget: number): void {
  const at = { crm: s.snapshotLsn('crm'), shop: s.snapshotLsn('shop') };
  const room = () => s.out.length < budget;
  const ids: string[] = [];
  for (let i = 0; i < customers && room(); i++) {
    const c = s.newCustomer(s.nextId('customers'));
    ids.push(c.id);
    s.change('customers', 'r', null, c, { lsn: at.crm, kind: 'true' });
  }
  for (const id of ids) if (s.chance(0.5) && room()) s.change('orders', 'r', null, s.newOrder(s.nextId('orders'), id), { lsn: at.shop, kind: 'true' });
  for (const orderId of [...s.rows.orders.keys()]) {
    for (let n = 1 + s.int(2); n > 0 && room(); n--) s.change('orderLines', 'r', null, s.newLine(s.nextId('orderLines'), orderId), { lsn: at.shop, kind: 'true' });
  }
  for (const id of ids) if (s.chance(0.6) && room()) s.change('preferences', 'r', null, s.newPreference(id));
}

export function generateHistory(options: HistoryOptions): History {
  const events = options.events ?? 500;
  const s = new Simulation(prng(options.seed), options.topics ?? standardTopics);
  snapshot(s, options.customers ?? 20, events);
  const all = planners(s, options.redelivery ?? 1, options.keyUpdates ?? true).filter(([weight]) => weight > 0);
  const total = all.reduce((n, [weight]) => n + weight, 0);
  const weighted = () => {
    let r = s.random() * total;
    for (const [weight, plan] of all) if ((r -= weight) < 0) return plan;
    return (all[0] as Planner)[1];
  };
  while (s.out.length < events) {
    const left = events - s.out.length;
    let next: Plan | null = null;
    // Near the end only operations that fit: the history has exactly `events` records.
    for (let tries = 0; next === null || next.cost > left; tries++) next = (tries < 50 ? weighted() : (all[0] as Planner)[1])();
    next.run();
  }
  return finish(s);
}

function finish(s: Simulation): History {
  const sorted = <T extends Table>(table: T) => [...s.rows[table].entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, row]) => row);
  const truth: SourceTruth = { customers: sorted('customers'), orders: sorted('orders'), orderLines: sorted('orderLines'), preferences: sorted('preferences') };
  return Object.assign([...s.out], { truth, topics: s.topics });
}

/**
 * Hand-written histories in the same formats, for example tests:
 *
 *   const b = historyBuilder();
 *   b.change('orders', 'c', null, { order_id: 'o1', customer_id: 'c1', status: 'paid', total: 10 });
 *   b.again(0);                      // record 0 produced again (duplicate or, later, a replay)
 *   const history = b.history();     // with .truth
 */
export function historyBuilder(topics: SourceTopics = standardTopics) {
  const s = new Simulation(prng(0), topics);
  return {
    change: <T extends Table>(table: T, op: 'c' | 'u' | 'd' | 'r', before: Rows[T] | null, after: Rows[T] | null) => s.change(table, op, before, after),
    /** A raw record (a truncate, a heartbeat...): the source rows do not change. */
    emit: (table: Table, key: unknown, value: unknown) => s.emit(table, key, value),
    again: (index: number) => void s.out.push(s.out.at(index) as HistoryRecord),
    keyOf: (table: Table, id: string) => s.keyOf(table, id),
    history: () => finish(s),
  };
}

/** What each projection must hold for these rows (live documents, projection field names, metadata left out). */
export function expectedProjections(truth: SourceTruth): Record<'pr_customers' | 'pr_orders' | 'pr_order_lines' | 'pr_preferences', Row[]> {
  return {
    pr_customers: truth.customers.map((c) => ({ customer_id: c.id, name: c.full_name, email: c.email, tier: c.tier, signup: c.signup_ms === null ? null : new Date(c.signup_ms).toISOString() })),
    pr_orders: truth.orders.map((o) => ({ ...o })),
    pr_order_lines: truth.orderLines.map((l) => ({ ...l })),
    pr_preferences: truth.preferences.map((p) => ({ customer_id: p.CUSTOMER_ID, channels: p.CHANNELS, email_opt_in: p.EMAIL_OPT_IN === 'true' })),
  };
}

/** The live documents of the four projections, in the shape of `expectedProjections` (declared fields only). */
export async function liveProjections(t: Customer360, store: DocumentStore): Promise<ReturnType<typeof expectedProjections>> {
  const read = async (p: Projection<object>) => {
    const docs = await store.collection(p.name).find({ __STATE__: 'PUBLIC' });
    const key = (d: Row) => String(d[p.primaryKey[0] as string]);
    return docs.sort((a, b) => (key(a) < key(b) ? -1 : 1)).map((d) => Object.fromEntries(Object.keys(p.options.fields).map((f) => [f, d[f]])));
  };
  return { pr_customers: await read(t.customers), pr_orders: await read(t.orders), pr_order_lines: await read(t.orderLines), pr_preferences: await read(t.preferences) };
}

/** Serdes per topic: Avro (registry) for CRM customers, plain-text keys for GoldenGate, JSON otherwise. */
function serdesOf(topics: SourceTopics): (topic: string) => { key: Serde<unknown>; value: Serde<unknown> } {
  const customers = { key: avro<unknown>({ schema: customerSchemas.key }), value: avro<unknown>({ schema: customerSchemas.value }) };
  const preferences = { key: string() as Serde<unknown>, value: json<unknown>() };
  const other = { key: json<unknown>(), value: json<unknown>() };
  return (topic) => (topic === topics.customers ? customers : topic === topics.preferences ? preferences : other);
}

/** Pipes a history (or a slice of one: standard topics) into the embedded engine, in order, `batch` records per append. */
export function pipeHistory(driver: TestDriver, history: Replayable, options: { batch?: number } = {}): Promise<void> {
  return produceHistory({ send: async (messages) => driver.broker.append(messages) }, driver.registry, history, { batch: options.batch ?? 16 });
}

/** Produces a history to Kafka in order, `batch` records per request; keys decide partitions, so a row always lands on one. */
export async function produceHistory(producer: { send(messages: readonly OutgoingMessage[]): Promise<void> }, registry: SchemaRegistryClient, history: Replayable, options: { batch?: number } = {}): Promise<void> {
  const serdes = serdesOf(history.topics ?? standardTopics);
  const batch = options.batch ?? 1_000;
  for (let i = 0; i < history.length; i += batch) {
    const messages: OutgoingMessage[] = [];
    for (const r of history.slice(i, i + batch)) {
      const { key, value } = serdes(r.topic);
      messages.push({ topic: r.topic, key: await key.serialize(r.key, { topic: r.topic, part: 'key', registry }), value: await value.serialize(r.value, { topic: r.topic, part: 'value', registry }) });
    }
    await producer.send(messages);
  }
}
