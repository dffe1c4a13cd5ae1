/**
 * Where the ingest stage's store time goes: the same rows written to the document store in the
 * shape of a bare upsert loop and then in Tributary's projection shape, one ingredient added at a
 * time, each measured as upserts per second and — when the store's PostgreSQL runs on this machine
 * — as PostgreSQL CPU per upsert (utime + stime of every `postgres` process, from /proc). No Kafka:
 * only the store.
 *
 *   raw          unique key index; replaceOne({pk}, row, {upsert})               (bench/fastdata.ts' raw loop)
 *   +metadata    the row with the projection's metadata (createdAt, updatedAt, __STATE__, counter,
 *                counter type, __internal__kafkaInfo)
 *   +version     the filter Tributary writes with (`versionFilter`: pk and the stored version)
 *   +relation    a second index on the relation field (what joins and triggers look rows up by)
 *   +read        the before-image read of the batch's keys first (one $in per batch)
 *
 * Two passes per variant into a fresh database: inserts of every key, then an update of every key.
 * Lanes of `BENCH_SHAPE_BATCH` rows (500) at a time, `BENCH_SHAPE_LANES` (4) at once,
 * `BENCH_SHAPE_ROWS` (12 000) rows shaped as the customer-360 order lines. A partial figure, not a
 * target: the summary's measures carry the raw shape as their baseline.
 *
 *   npm run bench -- store-shape
 */
import { readdirSync, readFileSync } from 'node:fs';
import { MongoClient, type AnyBulkWriteOperation, type Document } from 'mongodb';
import { versionFilter } from '../src/fastdata/projection/plan-batch.js';
import { COUNTER, COUNTER_TYPE, KAFKA_INFO, STATE } from '../src/fastdata/projection/metadata.js';
import { packageVersion, positiveInt, writeResult } from './lib/harness.js';
import type { Measure } from './lib/result-format.js';

const MONGODB_URL = process.env['MONGODB_URL'] ?? 'mongodb://127.0.0.1:27017/?directConnection=true';
const ROWS = positiveInt('BENCH_SHAPE_ROWS', 12_000);
const BATCH = positiveInt('BENCH_SHAPE_BATCH', 500);
const LANES = positiveInt('BENCH_SHAPE_LANES', 4);
const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
const TOPIC = 'bench.store-shape.order_lines';

interface Shape {
  readonly metadata: boolean;
  readonly version: boolean;
  readonly relation: boolean;
  readonly read: boolean;
}
const VARIANTS: ReadonlyArray<readonly [string, Shape]> = [
  ['raw', { metadata: false, version: false, relation: false, read: false }],
  ['+metadata', { metadata: true, version: false, relation: false, read: false }],
  ['+version', { metadata: true, version: true, relation: false, read: false }],
  ['+relation', { metadata: true, version: true, relation: true, read: false }],
  ['+read', { metadata: true, version: true, relation: true, read: true }],
];

/** CPU seconds of every process named postgres* (the store's PostgreSQL when it runs here), or null when there is none. */
function postgresCpuSeconds(): number | null {
  let ticks = 0;
  let seen = false;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (!stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).startsWith('postgres')) continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
      seen = true;
    } catch {
      // the process ended between the listing and the read
    }
  }
  return seen ? ticks / 100 : null; // USER_HZ is 100 on Linux
}

const lineId = (i: number) => `l${String(i).padStart(8, '0')}`;
const row = (i: number, pass: number): Document => ({ line_id: lineId(i), order_id: `o${String(i >> 1).padStart(7, '0')}`, sku: `SKU-${i % 5000}`, quantity: 1 + (i % 5), price: (i % 10_000) / 100 + pass });
/** The stored version a pass writes: its position, as the ingest stage records it. */
const metadata = (i: number, pass: number, now: Date): Document => ({
  createdAt: now,
  updatedAt: now,
  [COUNTER]: 24_000_000 + pass * 1_000_000 + i,
  [COUNTER_TYPE]: 'lsn',
  [KAFKA_INFO]: { topic: TOPIC, partition: i % 6, offset: String(pass * 1_000_000 + i), timestamp: now.toISOString(), key: { line_id: lineId(i) } },
  [STATE]: 'PUBLIC',
});

interface PassResult {
  readonly perSecond: number;
  readonly postgresMicrosPerUpsert: number | null;
}

async function variant(client: MongoClient, name: string, shape: Shape): Promise<{ name: string; insert: PassResult; update: PassResult }> {
  const db = client.db(`bench_shape_${RUN}_${name.replace(/\W/g, '')}`);
  const collection = db.collection('pr_order_lines');
  await collection.createIndex({ line_id: 1 }, { unique: true, name: 'pk' });
  if (shape.relation) await collection.createIndex({ order_id: 1 }, { name: 'order_id' });
  const passes: PassResult[] = [];
  try {
    for (const pass of [0, 1]) {
      const now = new Date();
      const cpuBefore = postgresCpuSeconds();
      const began = performance.now();
      await Promise.all(
        Array.from({ length: LANES }, async (_, lane) => {
          for (let start = lane * BATCH; start < ROWS; start += LANES * BATCH) {
            const ids = Array.from({ length: Math.min(BATCH, ROWS - start) }, (_, k) => start + k);
            if (shape.read) await collection.find({ line_id: { $in: ids.map(lineId) } }).toArray();
            const ops: AnyBulkWriteOperation[] = ids.map((i) => {
              const doc = shape.metadata ? { ...row(i, pass), ...metadata(i, pass, now) } : row(i, pass);
              const stored = pass === 0 ? null : { line_id: lineId(i), ...metadata(i, 0, now) };
              const filter = shape.version ? versionFilter({ line_id: lineId(i) }, stored) : { line_id: lineId(i) };
              return { replaceOne: { filter, replacement: doc, upsert: true } };
            });
            await collection.bulkWrite(ops, { ordered: true });
          }
        }),
      );
      const seconds = (performance.now() - began) / 1000;
      const cpuAfter = postgresCpuSeconds();
      passes.push({ perSecond: Math.round(ROWS / seconds), postgresMicrosPerUpsert: cpuBefore === null || cpuAfter === null ? null : Math.round(((cpuAfter - cpuBefore) / ROWS) * 1e6) });
    }
  } finally {
    await db.dropDatabase().catch(() => undefined);
  }
  const [insert, update] = passes as [PassResult, PassResult];
  const cpu = (p: PassResult) => (p.postgresMicrosPerUpsert === null ? '' : `, PostgreSQL ${p.postgresMicrosPerUpsert} µs each`);
  console.log(`  ${name.padEnd(10)} insert ${insert.perSecond}/s${cpu(insert)}; update ${update.perSecond}/s${cpu(update)}`);
  return { name, insert, update };
}

async function main(): Promise<void> {
  const client = new MongoClient(MONGODB_URL);
  await client.connect();
  try {
    console.log(`store-shape: ${ROWS} rows, batches of ${BATCH}, ${LANES} at once; each variant adds one ingredient of the projection write to the one above`);
    await variant(client, 'warm-up', VARIANTS[0]![1]);
    const results = [];
    for (const [name, shape] of VARIANTS) results.push(await variant(client, name, shape));
    const raw = results[0]!;
    const measures: Measure[] = results.slice(1).flatMap((r) =>
      (['insert', 'update'] as const).map((pass) => ({
        id: `${r.name.slice(1)}-${pass}`,
        label: `store ${pass}s in the projection shape up to ${r.name.slice(1)} (${r.name === '+read' ? 'all of it' : 'cumulative'})`,
        unit: 'upserts/s',
        better: 'higher' as const,
        value: r[pass].perSecond,
        ...(r[pass].postgresMicrosPerUpsert !== null ? { detail: `PostgreSQL ${r[pass].postgresMicrosPerUpsert} µs per upsert (raw: ${raw[pass].postgresMicrosPerUpsert} µs)` } : {}),
        baselines: [{ id: `raw-${pass}`, label: `replaceOne({pk}, row, {upsert}) ${pass}s, unique key index only`, value: raw[pass].perSecond }],
      })),
    );
    await writeResult('store-shape', { parameters: { rows: ROWS, batch: BATCH, lanes: LANES, mongodb: packageVersion('mongodb') }, results, summary: { measures } });
  } finally {
    await client.close();
  }
}

await main();
