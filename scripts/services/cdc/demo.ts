/**
 * The CDC demo: customer-360 on the real services fed by the real CDC (PostgreSQL --> Debezium -->
 * Kafka). A scripted SQL workload runs step by step; after each COMMIT the affected single views are
 * printed as soon as they equal what SQL computes from PostgreSQL, with the commit-to-view delay.
 *
 *   scripts/infra up --cdc          # Kafka, registry, DocumentDB, PostgreSQL, Connect + Debezium
 *   node --import tsx scripts/services/cdc/demo.ts
 *
 * Addresses: KAFKA_BROKERS, MONGODB_URL, POSTGRES_URL (its server's database `shop`), as
 * `scripts/infra env` prints them. The run's customers have ids starting with `demo-`; the rows of an
 * earlier demo run are deleted first.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { isDeepStrictEqual } from 'node:util';
import { MongoClient } from 'mongodb';
import { createLogger } from '../../../src/ops/logger.js';
import { createMetrics } from '../../../src/ops/metrics.js';
import { MongoDocumentStore } from '../../../src/store/mongo/mongo-store.js';
import { runTopology } from '../../../src/stream/runtime/runner.js';
import { confluentRegistry } from '../../../src/stream/serdes/registry.js';
import { kafkaTransport } from '../../../src/stream/transport/kafka/kafka-transport.js';
import { customer360, standardTopics } from '../../../topologies/customer-360.js';

const run = promisify(execFile);
const pg = process.env.POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5433/postgres';
const [pgBase, pgQuery] = pg.split('?');
const SHOP_URL = `${pgBase!.replace(/\/[^/]*$/, '/shop')}${pgQuery ? `?${pgQuery}` : ''}`;
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const mongoUrl = process.env.MONGODB_URL ?? 'mongodb://127.0.0.1:27017/?directConnection=true';
const registryUrl = process.env.SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:8081/apis/ccompat/v7';

async function psql(sql: string): Promise<string> {
  const { stdout } = await run('psql', ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', SHOP_URL, '-c', sql]);
  return stdout.trim();
}

/** The view of one customer computed by SQL (null: no view), as in test/integration/cdc.test.ts. */
async function sqlView(id: string): Promise<Record<string, unknown> | null> {
  const out = await psql(`
    SELECT json_build_object(
      'customer_id', c.id, 'name', c.full_name, 'email', c.email, 'tier', coalesce(c.tier, 'standard'),
      'orders', coalesce((SELECT json_agg(json_build_object('order_id', o.order_id, 'status', o.status, 'total', o.total::float8,
          'lines', coalesce((SELECT json_agg(json_build_object('sku', l.sku, 'quantity', l.quantity, 'price', l.price::float8) ORDER BY l.line_id COLLATE "C")
                             FROM order_lines l WHERE l.order_id = o.order_id), '[]')) ORDER BY o.order_id COLLATE "C")
        FROM orders o WHERE o.customer_id = c.id), '[]'),
      'total_spent', coalesce((SELECT round(sum(o.total), 2)::float8 FROM orders o WHERE o.customer_id = c.id AND o.status <> 'cancelled'), 0),
      'channels', coalesce(to_json(p."CHANNELS"), '[]'), 'email_opt_in', coalesce(p."EMAIL_OPT_IN", false))
    FROM customers c LEFT JOIN preferences p ON p."CUSTOMER_ID" = c.id WHERE c.id = '${id}' AND c.full_name <> ''`);
  return out ? (JSON.parse(out) as Record<string, unknown>) : null;
}

const METADATA = new Set(['_id', 'createdAt', 'updatedAt', '__STATE__', '__internal__counter', '__internal__counterType', '__internal__kafkaInfo']);

const STEPS: Array<{ say: string; sql: string; watch: string[] }> = [
  { say: 'a new customer with marketing preferences', watch: ['demo-c1'], sql: `INSERT INTO customers VALUES ('demo-c1', 'Ada Lovelace', 'ada@example.com', 'gold', 1700000000000); INSERT INTO preferences VALUES ('demo-c1', '{email,sms}', true);` },
  { say: 'another customer, no preferences', watch: ['demo-c2'], sql: `INSERT INTO customers VALUES ('demo-c2', 'Alan Turing', NULL, NULL, NULL);` },
  { say: 'an order with two lines for demo-c1', watch: ['demo-c1'], sql: `INSERT INTO orders VALUES ('demo-o1', 'demo-c1', 'paid', 42.50); INSERT INTO order_lines VALUES ('demo-l1', 'demo-o1', 'SKU-101', 2, 12.25), ('demo-l2', 'demo-o1', 'SKU-102', 1, 18.00);` },
  { say: 'the customer changes tier and e-mail', watch: ['demo-c1'], sql: `UPDATE customers SET tier = 'platinum', email = 'ada@lovelace.org' WHERE id = 'demo-c1';` },
  { say: 'foreign-key move: the order goes to demo-c2', watch: ['demo-c1', 'demo-c2'], sql: `UPDATE orders SET customer_id = 'demo-c2' WHERE order_id = 'demo-o1';` },
  { say: 'a line is deleted, the order cancelled', watch: ['demo-c2'], sql: `DELETE FROM order_lines WHERE line_id = 'demo-l2'; UPDATE orders SET status = 'cancelled' WHERE order_id = 'demo-o1';` },
  { say: 'primary-key change: demo-c2 becomes demo-c3 (ON UPDATE CASCADE moves its order)', watch: ['demo-c2', 'demo-c3'], sql: `UPDATE customers SET id = 'demo-c3' WHERE id = 'demo-c2';` },
  { say: 'demo-c1 opts out of e-mail', watch: ['demo-c1'], sql: `UPDATE preferences SET "EMAIL_OPT_IN" = false, "CHANNELS" = '{push}' WHERE "CUSTOMER_ID" = 'demo-c1';` },
  { say: 'demo-c1 is deleted (ON DELETE CASCADE: preferences too)', watch: ['demo-c1'], sql: `DELETE FROM customers WHERE id = 'demo-c1';` },
];

const name = `cdc-demo-${Date.now().toString(36)}`;
const t = customer360({ topicPrefix: `${name}.`, name, sourceTopics: standardTopics, sourceFormat: 'debezium' });
const database = name.replace(/[^A-Za-z0-9_]/g, '_');
const store = new MongoDocumentStore({ url: mongoUrl, database });
const control = kafkaTransport({ brokers, clientId: 'cdc-demo-control' });
await control.connect();
await control.admin.createTopics(t.allTopics.map((topic) => ({ topic, partitions: 3 })));
await psql(`DELETE FROM customers WHERE id LIKE 'demo-%'`);
const running = await runTopology(t, {
  transport: kafkaTransport({ brokers, clientId: 'cdc-demo' }),
  registry: confluentRegistry({ url: registryUrl }), // customers are Avro
  store,
  logger: createLogger({ level: process.env.LOG_LEVEL ?? 'warn' }),
  metrics: createMetrics({ defaultMetrics: false }),
  consumer: { maxWaitMs: 100 },
});
const views = store.collection(t.customerView.name);
let failed = false;
try {
  console.log(`customer-360 fed by Debezium (PostgreSQL ${SHOP_URL}), views in ${database}.${t.customerView.name}`);
  // The topology first catches up with the topics' history (earlier runs included).
  for (const step of STEPS) {
    const before = performance.now();
    await psql(`BEGIN; ${step.sql} COMMIT;`);
    const committed = performance.now();
    const expected = await Promise.all(step.watch.map(sqlView));
    const deadline = performance.now() + 60_000;
    const shown: string[] = [];
    for (let i = 0; i < step.watch.length; i++) {
      const id = step.watch[i]!;
      for (;;) {
        const doc = await views.findOne({ customer_id: id });
        const live = doc && doc['__STATE__'] !== 'DELETED' ? Object.fromEntries(Object.entries(doc).filter(([k]) => !METADATA.has(k))) : null;
        if (isDeepStrictEqual(live, expected[i])) {
          shown.push(`  ${id} after ${Math.round(performance.now() - committed)} ms: ${live ? JSON.stringify(live) : '(no view: deleted)'}`);
          break;
        }
        if (performance.now() > deadline) {
          failed = true;
          shown.push(`  ${id}: NOT equal to SQL after 60 s: store ${JSON.stringify(live)} sql ${JSON.stringify(expected[i])}`);
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
    console.log(`\n${step.say} (SQL ${Math.round(committed - before)} ms)\n${shown.join('\n')}`);
  }
} finally {
  await running.stop();
  await control.disconnect();
  await store.close();
  const client = new MongoClient(mongoUrl);
  await client.db(database).dropDatabase().finally(() => client.close());
}
if (failed) process.exit(1);
