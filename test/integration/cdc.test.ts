/**
 * Real CDC end to end: PostgreSQL (database `shop`) --> Debezium PostgreSQL connector on Kafka
 * Connect --> Kafka --> the customer-360 topology --> single views in the document store.
 *
 * A random SQL workload (inserts, updates, deletes, foreign-key moves, primary-key changes through
 * ON UPDATE CASCADE) runs through `psql`; halfway through, the Connect worker is killed (SIGKILL, so
 * Debezium replays from its last flushed offset) and started again while the workload goes on. Then
 * the single views in the store must equal the views computed by SQL straight from PostgreSQL,
 * document by document. Finally sequential probes measure the delay from SQL COMMIT to the view
 * write (p50, p99), printed.
 *
 * `scripts/infra up connect` is run first (a no-op when `up --cdc` already did it; otherwise this
 * includes Connect's start-up, and on a fresh machine the Maven downloads). The topics are the
 * fixed ones Debezium writes (crm.public.customers, shop.public.orders, shop.public.order_lines,
 * mkt.preferences), read from the beginning by fresh consumer groups; each run first deletes the
 * rows of earlier runs, so the views of their customers end deleted too.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { createLogger } from '../../src/ops/logger.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { MongoDocumentStore } from '../../src/store/mongo/mongo-store.js';
import { confluentRegistry } from '../../src/stream/serdes/registry.js';
import { runTopology, type RunningTopology } from '../../src/stream/runtime/runner.js';
import { kafkaTransport } from '../../src/stream/transport/kafka/kafka-transport.js';
import { storedViews } from '../../src/testing/index.js';
import { customer360, standardTopics } from '../../topologies/customer-360.js';
import { prng } from '../../topologies/customer-360.generator.js';
import { services, uniqueName, dropDatabase } from './services.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const INFRA = `${ROOT}scripts/infra`;
const CONNECT_URL = process.env.CONNECT_URL ?? 'http://127.0.0.1:8083';
/** Database `shop` on the PostgreSQL that Debezium reads (scripts/infra's, or POSTGRES_URL's server). */
const SHOP_URL = (() => {
  const pg = process.env.POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5433/postgres';
  const [base, query] = pg.split('?');
  return `${base!.replace(/\/[^/]*$/, '/shop')}${query ? `?${query}` : ''}`;
})();
const TRANSACTIONS = Number(process.env.CDC_TRANSACTIONS ?? 400);
const PROBES = Number(process.env.CDC_PROBES ?? 40);
const PACE_MS = Number(process.env.CDC_PACE_MS ?? 40);
const CONVERGE_MS = 90_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const run = promisify(execFile);

const registry = confluentRegistry({ url: services.registryUrl });
/** Counts the Confluent-framed Avro values read back (customers); the rest are JSON. */
const framing = { avro: 0, json: 0 };
/** A change event as Debezium wrote it: Confluent-framed Avro decoded through the registry, or JSON. */
async function decodeValue(value: Buffer): Promise<unknown> {
  if (value.length > 5 && value.readUInt8(0) === 0) {
    framing.avro++;
    return (await registry.codec(value.readInt32BE(1))).fromBuffer(value.subarray(5));
  }
  framing.json++;
  return JSON.parse(value.toString());
}

/** One long-lived psql session: statements in, a marker line out once they are done. */
class Psql {
  private readonly proc: ChildProcessWithoutNullStreams;
  private buffer = '';
  private readonly waiting = new Map<string, (now: number) => void>();
  private failure: Error | undefined;
  private n = 0;

  constructor(url: string) {
    this.proc = spawn('psql', ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', url]);
    let stderr = '';
    this.proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    this.proc.stdout.on('data', (d: Buffer) => {
      const now = performance.now();
      this.buffer += d.toString();
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        const done = this.waiting.get(line);
        if (done) {
          this.waiting.delete(line);
          done(now);
        }
      }
    });
    this.proc.on('exit', (code) => {
      this.failure = new Error(`psql exited (${code}): ${stderr}`);
      for (const done of this.waiting.values()) done(Number.NaN);
      this.waiting.clear();
    });
  }

  /** Runs the SQL; resolves with the time psql reported it done (for a COMMIT: the commit time). */
  exec(sql: string): Promise<number> {
    if (this.failure) return Promise.reject(this.failure);
    const marker = `__done_${++this.n}`;
    return new Promise((resolve, reject) => {
      this.waiting.set(marker, (now) => (Number.isNaN(now) ? reject(this.failure) : resolve(now)));
      this.proc.stdin.write(`${sql}\n\\echo ${marker}\n`);
    });
  }

  close(): void {
    this.proc.stdin.end();
  }
}

async function query(sql: string): Promise<string> {
  const { stdout } = await run('psql', ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', SHOP_URL, '-c', sql], { maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

/** The customer-360 view of every customer, computed by SQL from the source tables (the oracle). */
const VIEWS_SQL = `
SELECT coalesce(json_agg(v), '[]') FROM (
  SELECT json_build_object(
    'customer_id', c.id,
    'name', c.full_name,
    'email', c.email,
    'tier', coalesce(c.tier, 'standard'),
    'orders', coalesce((
      SELECT json_agg(json_build_object(
        'order_id', o.order_id, 'status', o.status, 'total', o.total::float8,
        'lines', coalesce((SELECT json_agg(json_build_object('sku', l.sku, 'quantity', l.quantity, 'price', l.price::float8) ORDER BY l.line_id COLLATE "C")
                           FROM order_lines l WHERE l.order_id = o.order_id), '[]'))
        ORDER BY o.order_id COLLATE "C")
      FROM orders o WHERE o.customer_id = c.id), '[]'),
    'total_spent', coalesce((SELECT round(sum(o.total), 2)::float8 FROM orders o WHERE o.customer_id = c.id AND o.status <> 'cancelled'), 0),
    'channels', coalesce(to_json(p."CHANNELS"), '[]'),
    'email_opt_in', coalesce(p."EMAIL_OPT_IN", false)
  ) AS v
  FROM customers c LEFT JOIN preferences p ON p."CUSTOMER_ID" = c.id
  WHERE c.full_name <> ''
) views`;

async function sqlViews(): Promise<Record<string, unknown>> {
  const rows = JSON.parse((await query(VIEWS_SQL)).trim()) as Array<Record<string, unknown>>;
  return Object.fromEntries(rows.map((v) => [JSON.stringify({ customer_id: v['customer_id'] }), v]));
}

async function connectorsRunning(): Promise<boolean> {
  for (const name of ['tributary-shop', 'tributary-shop-orders', 'tributary-shop-customers']) {
    const res = await fetch(`${CONNECT_URL}/connectors/${name}/status`).catch(() => undefined);
    if (!res?.ok) return false;
    const status = (await res.json()) as { connector: { state: string }; tasks: Array<{ state: string }> };
    if (status.connector.state !== 'RUNNING' || status.tasks[0]?.state !== 'RUNNING') return false;
  }
  return true;
}

const NAMES = ['Ann Lee', 'Bo Chen', 'Cy Diaz', 'Di Evans', 'Ed Fox', 'Flo Gray'];
const STATUSES = ['new', 'paid', 'shipped', 'cancelled'];
const CHANNELS = ['email', 'sms', 'push', 'post'];

/** The random workload: one SQL transaction per call, on rows of this run (ids start with `run`). */
function workload(run: string, seed: number) {
  const r = prng(seed);
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const int = (n: number) => Math.floor(r() * n);
  const money = (max: number) => (1 + int(max * 100)) / 100;
  let next = 0;
  const id = (kind: string) => `${run}-${kind}${String(++next).padStart(5, '0')}`;
  // random existing rows of this run, chosen in SQL (setseed() makes random() repeatable)
  const some = (table: string, pk: string) => `(SELECT ${pk} FROM ${table} WHERE ${pk} LIKE '${run}-%' ORDER BY random() LIMIT 1)`;
  const channels = () => `'{${CHANNELS.filter(() => r() < 0.5).join(',')}}'`;
  const ops: Array<[number, () => string]> = [
    [10, () => {
      const c = id('c');
      const email = r() < 0.8 ? `'${c}@example.com'` : 'NULL';
      const tier = pick(["'silver'", "'gold'", "'platinum'", 'NULL']);
      const prefs = r() < 0.6 ? `INSERT INTO preferences VALUES ('${c}', ${channels()}, ${r() < 0.6});` : '';
      return `INSERT INTO customers VALUES ('${c}', '${pick(NAMES)}', ${email}, ${tier}, ${r() < 0.8 ? 1_700_000_000_000 + int(1e10) : 'NULL'}); ${prefs}`;
    }],
    [8, () => `UPDATE customers SET full_name = '${pick(NAMES)}', tier = ${pick(["'silver'", "'gold'", 'NULL', 'tier'])}, email = ${r() < 0.3 ? 'NULL' : 'email'} WHERE id = ${some('customers', 'id')};`],
    [2, () => `DELETE FROM customers WHERE id = ${some('customers', 'id')};`],
    // primary-key change: cascades to orders.customer_id and preferences."CUSTOMER_ID"
    [2, () => `UPDATE customers SET id = '${id('c')}' WHERE id = ${some('customers', 'id')};`],
    [12, () => `INSERT INTO orders SELECT '${id('o')}', id, '${pick(STATUSES)}', ${money(500)} FROM customers WHERE id = ${some('customers', 'id')};`],
    [8, () => `UPDATE orders SET status = '${pick(STATUSES)}', total = CASE WHEN random() < 0.5 THEN ${money(500)} ELSE total END WHERE order_id = ${some('orders', 'order_id')};`],
    // foreign-key move: an order changes customer
    [4, () => `UPDATE orders SET customer_id = ${some('customers', 'id')} WHERE order_id = ${some('orders', 'order_id')} AND EXISTS ${some('customers', 'id')};`],
    [3, () => `DELETE FROM orders WHERE order_id = ${some('orders', 'order_id')};`],
    [1, () => `UPDATE orders SET order_id = '${id('o')}' WHERE order_id = ${some('orders', 'order_id')};`],
    [14, () => `INSERT INTO order_lines SELECT '${id('l')}', order_id, 'SKU-${100 + int(40)}', ${1 + int(5)}, ${money(80)} FROM orders WHERE order_id = ${some('orders', 'order_id')};`],
    [6, () => `UPDATE order_lines SET quantity = ${1 + int(9)}, price = CASE WHEN random() < 0.3 THEN ${money(80)} ELSE price END WHERE line_id = ${some('order_lines', 'line_id')};`],
    // foreign-key move: a line changes order
    [3, () => `UPDATE order_lines SET order_id = ${some('orders', 'order_id')} WHERE line_id = ${some('order_lines', 'line_id')} AND EXISTS ${some('orders', 'order_id')};`],
    [3, () => `DELETE FROM order_lines WHERE line_id = ${some('order_lines', 'line_id')};`],
    [5, () => `INSERT INTO preferences SELECT id, ${channels()}, ${r() < 0.5} FROM customers WHERE id = ${some('customers', 'id')} ON CONFLICT ("CUSTOMER_ID") DO UPDATE SET "CHANNELS" = EXCLUDED."CHANNELS", "EMAIL_OPT_IN" = EXCLUDED."EMAIL_OPT_IN";`],
    [2, () => `DELETE FROM preferences WHERE "CUSTOMER_ID" = ${some('preferences', '"CUSTOMER_ID"')};`],
  ];
  const total = ops.reduce((s, [w]) => s + w, 0);
  return (): string => {
    let x = r() * total;
    for (const [w, make] of ops) if ((x -= w) < 0) return make();
    return ops[0]![1]();
  };
}

/**
 * Change events Debezium sent twice since `since` (same topic, key, LSN and operation): the replay.
 * Reads every topic from the beginning; fails if a customers record written since `framedSince` is not
 * Confluent-framed Avro (older ones may be JSON: a broker kept from before customers were Avro).
 */
async function replayed(topics: readonly string[], since: number, framedSince: number): Promise<number> {
  const kafka = new Kafka({ clientId: 'cdc-replay-count', brokers: services.kafkaBrokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const high = new Map<string, bigint>();
  for (const topic of topics) for (const o of await admin.fetchTopicOffsets(topic)) high.set(`${topic}/${o.partition}`, BigInt(o.high));
  await admin.disconnect();
  const remaining = new Set([...high].filter(([, h]) => h > 0n).map(([k]) => k));
  const seen = new Set<string>();
  let duplicates = 0;
  const consumer = kafka.consumer({ groupId: uniqueName('cdc-replay-count'), maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: [...topics], fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`replay count: ${remaining.size} partitions not read in 30 s`)), 30_000);
    consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        // every customers record (key and value) of this run is Confluent-framed Avro, not only the replayed ones
        if (topic === standardTopics.customers && Number(message.timestamp) >= framedSince && [message.key, message.value].some((b) => b && b.readUInt8(0) !== 0)) {
          reject(new Error(`${topic}/${partition}@${message.offset} is not Confluent-framed Avro`));
        }
        if (message.value && Number(message.timestamp) >= since) {
          const value = (await decodeValue(message.value)) as { payload?: { op: string; source: { lsn: number } }; op?: string; source?: { lsn: number } };
          const event = value.payload ?? value;
          const id = `${topic}|${message.key?.toString('base64')}|${event.source?.lsn}|${event.op}`;
          if (seen.has(id)) duplicates++;
          else seen.add(id);
        }
        if (BigInt(message.offset) + 1n >= high.get(`${topic}/${partition}`)!) remaining.delete(`${topic}/${partition}`);
        if (remaining.size === 0) {
          clearTimeout(timer);
          resolve();
        }
      },
    }).catch(reject);
  });
  await consumer.disconnect();
  return duplicates;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

describe('customer-360 fed by real CDC: PostgreSQL --> Debezium --> Kafka', () => {
  const name = uniqueName('cdc');
  const runId = `r${Date.now().toString(36)}`;
  const t = customer360({ topicPrefix: `${name}.`, name, sourceTopics: standardTopics, sourceFormat: 'debezium' });
  const database = name.replace(/[^A-Za-z0-9_]/g, '_');
  const store = new MongoDocumentStore({ url: services.mongoUrl, database, clientOptions: { serverSelectionTimeoutMS: 10_000 } });
  const control = kafkaTransport({ brokers: services.kafkaBrokers, clientId: 'cdc-control' });
  // Opened once `up connect` has created database shop (a session opened earlier fails on a fresh machine).
  let sql!: Psql;
  let running: RunningTopology | undefined;

  before(async () => {
    const started = performance.now();
    // Starts Kafka, PostgreSQL and Connect (with database shop and the connectors) if they are not up.
    await run('bash', [INFRA, 'up', 'connect'], { env: process.env, maxBuffer: 16 * 1024 * 1024 });
    console.log(`# scripts/infra up connect: ${((performance.now() - started) / 1000).toFixed(1)} s`);
    sql = new Psql(SHOP_URL);
    await control.connect();
    await control.admin.createTopics(t.allTopics.map((topic) => ({ topic, partitions: 3 })));
    await sql.exec(`SELECT setseed(0.36);`);
  }, { timeout: 600_000 });

  after(async () => {
    await running?.stop();
    sql?.close();
    await control.disconnect();
    await store.close().catch(() => undefined);
    await dropDatabase(database);
  }, { timeout: 60_000 });

  it(`single views equal SQL views after ${TRANSACTIONS} random transactions and a Connect restart; commit-to-view delay`, { timeout: 300_000 }, async () => {
    const runStartedAt = Date.now();
    // rows of earlier runs go (ON DELETE CASCADE), as CDC deletes: their views end deleted too
    await sql.exec(`DELETE FROM customers;`);
    running = await runTopology(t, {
      transport: kafkaTransport({ brokers: services.kafkaBrokers, clientId: 'cdc' }),
      registry, // customers are Avro
      store,
      logger: createLogger({ level: process.env.LOG_LEVEL ?? 'warn' }),
      metrics: createMetrics({ defaultMetrics: false }),
      consumer: { maxWaitMs: 100 },
    });

    const next = workload(runId, 36);
    const started = performance.now();
    let restart: Promise<number> | undefined;
    let killedAt = 0;
    for (let i = 0; i < TRANSACTIONS; i++) {
      if (i === Math.floor(TRANSACTIONS / 2)) {
        // kill -9: no offset flush, so Debezium replays from its last flushed offset; the workload goes on meanwhile
        const pid = Number(readFileSync(`${ROOT}.infra/connect/pid`, 'utf8').trim());
        killedAt = Date.now();
        process.kill(pid, 'SIGKILL');
        const t0 = performance.now();
        restart = (async () => {
          while (alive(pid)) await new Promise((resolve) => setTimeout(resolve, 20));
          // the worker killed is ours (its pid file): so is the restart, even if CONNECT_URL names it
          const { CONNECT_URL: _ours, ...env } = process.env;
          await run('bash', [INFRA, 'up', 'connect'], { env });
          return performance.now() - t0;
        })();
      }
      await sql.exec(`BEGIN; ${next()} COMMIT;`);
      // paced (~25 tx/s), so the Connect restart happens while the workload goes on
      await new Promise((resolve) => setTimeout(resolve, PACE_MS));
    }
    const restartMs = await restart;
    console.log(`# workload: ${TRANSACTIONS} transactions in ${((performance.now() - started) / 1000).toFixed(1)} s; Connect killed and back in ${((restartMs ?? 0) / 1000).toFixed(1)} s`);
    assert.ok(await connectorsRunning(), 'connectors RUNNING after the restart');

    // Converged = every stored view equals the SQL view, document by document.
    let expected: Record<string, unknown> = {};
    let actual: Record<string, unknown> = {};
    const deadline = performance.now() + CONVERGE_MS;
    for (;;) {
      assert.ok(running.health().ok, `a stream failed: ${JSON.stringify(running.health().checks)}`);
      expected = await sqlViews();
      actual = Object.fromEntries(await storedViews(t.customerView, store));
      if (JSON.stringify(Object.keys(actual).sort()) === JSON.stringify(Object.keys(expected).sort())) {
        try {
          assert.deepStrictEqual(actual, expected);
          break;
        } catch { /* not yet */ }
      }
      if (performance.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    console.log(`# converged ${((performance.now() - started) / 1000).toFixed(1)} s after the workload started: ${Object.keys(expected).length} views`);
    for (const key of new Set([...Object.keys(expected), ...Object.keys(actual)])) {
      assert.deepStrictEqual(actual[key], expected[key], `view ${key}`);
    }
    assert.ok(Object.keys(expected).length > 10, `${Object.keys(expected).length} views`);
    console.log(`# Debezium re-sent ${await replayed(Object.values(standardTopics), killedAt - 10_000, runStartedAt)} change events after the kill (duplicates of earlier ones)`);
    // customers came through the registry (Apicurio's AvroConverter), the other tables as JSON
    assert.ok(framing.avro > 0 && framing.json > 0, `Avro and JSON change events read back: ${JSON.stringify(framing)}`);

    // Commit-to-view delay: sequential probes, half a customer rename (customers --> view), half an
    // order-line change (lines --> orders --> customer: the deepest path).
    const target = JSON.parse((await query(`SELECT json_build_object('c', o.customer_id, 'l', l.line_id) FROM order_lines l JOIN orders o USING (order_id) JOIN customers c ON c.id = o.customer_id WHERE c.full_name <> '' LIMIT 1`)).trim()) as { c: string; l: string };
    const views = store.collection(t.customerView.name);
    // The CDC part alone: when each probe's change event reaches Kafka (a consumer at the topics' end).
    const arrived = new Map<string, number>();
    const tap = new Kafka({ clientId: 'cdc-probe-tap', brokers: services.kafkaBrokers, logLevel: logLevel.NOTHING }).consumer({ groupId: uniqueName('cdc-probe-tap'), maxWaitTimeInMs: 20 });
    await tap.connect();
    await tap.subscribe({ topics: [standardTopics.customers, standardTopics.orderLines], fromBeginning: false });
    const joined = new Promise((resolve) => tap.on(tap.events.GROUP_JOIN, resolve));
    void tap.run({
      eachMessage: async ({ message }) => {
        const after = message.value ? ((await decodeValue(message.value)) as { after?: { full_name?: string; quantity?: number } }).after : undefined;
        if (after?.full_name?.startsWith('Probe ')) arrived.set(after.full_name, performance.now());
        if (after?.quantity !== undefined && after.quantity >= 1000) arrived.set(`q${after.quantity}`, performance.now());
      },
    });
    await joined;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const delays: number[] = [];
    const cdcDelays: number[] = [];
    for (let i = 0; i < PROBES; i++) {
      const rename = i % 2 === 0;
      const committed = await sql.exec(rename
        ? `UPDATE customers SET full_name = 'Probe ${i}' WHERE id = '${target.c}';`
        : `UPDATE order_lines SET quantity = ${1000 + i} WHERE line_id = '${target.l}';`);
      const until = performance.now() + 10_000;
      for (;;) {
        const doc = await views.findOne({ customer_id: target.c });
        const seen = rename
          ? doc?.['name'] === `Probe ${i}`
          : ((doc?.['orders'] ?? []) as Array<{ lines: Array<{ quantity: number }> }>).some((o) => o.lines.some((l) => l.quantity === 1000 + i));
        if (seen) break;
        assert.ok(performance.now() < until, `probe ${i} not in the view after 10 s`);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      delays.push(performance.now() - committed);
      const atKafka = arrived.get(rename ? `Probe ${i}` : `q${1000 + i}`);
      if (atKafka !== undefined) cdcDelays.push(atKafka - committed);
    }
    await tap.disconnect();
    delays.sort((a, b) => a - b);
    cdcDelays.sort((a, b) => a - b);

    console.log(`# commit-to-view delay over ${PROBES} probes: p50 ${percentile(delays, 50).toFixed(0)} ms, p99 ${percentile(delays, 99).toFixed(0)} ms, max ${delays.at(-1)!.toFixed(0)} ms`);
    if (cdcDelays.length > 0) {
      console.log(`# of which commit-to-Kafka (Debezium) over ${cdcDelays.length} probes: p50 ${percentile(cdcDelays, 50).toFixed(0)} ms, p99 ${percentile(cdcDelays, 99).toFixed(0)} ms`);
    }
    assert.deepStrictEqual(Object.fromEntries(await storedViews(t.customerView, store)), await sqlViews());
  });
});
