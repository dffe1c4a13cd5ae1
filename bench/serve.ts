/**
 * Read API benchmark, on the real MongoDB-wire store (DocumentDB on PostgreSQL from scripts/infra,
 * or MONGODB_URL):
 *
 *   raw         a bare node:http server whose handler is the raw driver's
 *               `find({}).limit(200).toArray()` + `JSON.stringify`
 *   tributary   `createReadApi` (Fastify) answering `GET /pr-customers/?_l=200`: query parsing and
 *               validation, `__STATE__` filter, internal fields excluded, watermark header
 *   raw-same    (context) the raw server sending Tributary's query, `find({__STATE__: 'PUBLIC'})
 *               .limit(200)`, to split the store's cost from the Node side's
 *
 * Both are loaded over loopback by the same Node http client (keep-alive agent, BENCH_CONCURRENCY
 * requests in flight, BENCH_REQUESTS requests per side per round, sides alternating per round);
 * the best round of each side goes into the summary block (bench/lib/result-format.ts), where the
 * report divides Tributary's by the stronger raw side (goal >= 0.7).
 *
 *   npm run bench -- serve         (node --import tsx bench/serve.ts)
 *
 * Env: BENCH_DOCS (2000 documents of ~500 B), BENCH_REQUESTS (300), BENCH_CONCURRENCY (8),
 * BENCH_ROUNDS (3), MONGODB_URL.
 */
import { createServer, request, Agent, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MongoClient } from 'mongodb';
import { createLogger } from '../src/ops/index.js';
import { createReadApi } from '../src/serve/index.js';
import { MongoDocumentStore } from '../src/runtime.js';
import topology from '../topologies/customer-360.js';
import { packageVersion, positiveInt, writeResult } from './lib/harness.js';

const mongoUrl = process.env['MONGODB_URL'] ?? 'mongodb://127.0.0.1:27017/?directConnection=true';
const docs = positiveInt('BENCH_DOCS', 2000);
const requests = positiveInt('BENCH_REQUESTS', 300);
const concurrency = positiveInt('BENCH_CONCURRENCY', 8);
const rounds = positiveInt('BENCH_ROUNDS', 3);
const database = `bench_serve_${Date.now().toString(36)}`;

interface Phase {
  readonly side: 'raw' | 'raw-same' | 'tributary';
  readonly round: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly bytesPerResponse: number;
}

/** `n` GETs of `url`, `concurrency` at a time, over one keep-alive agent. */
async function load(url: string, n: number): Promise<{ seconds: number; latencies: number[]; bytes: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  let bytes = 0;
  let next = 0;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const started = performance.now();
      request(url, { agent }, (response) => {
        let size = 0;
        response.on('data', (chunk: Buffer) => (size += chunk.length));
        response.on('end', () => {
          if (response.statusCode !== 200) return reject(new Error(`${url}: HTTP ${response.statusCode}`));
          latencies.push(performance.now() - started);
          bytes = size;
          resolve();
        });
      })
        .on('error', reject)
        .end();
    });
  const worker = async () => {
    while (next < n) {
      next += 1;
      await one();
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - start) / 1000;
  agent.destroy();
  return { seconds, latencies: latencies.sort((a, b) => a - b), bytes };
}

const pct = (sorted: number[], p: number) => Math.round((sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0) * 10) / 10;

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function main(): Promise<void> {
  const client = new MongoClient(mongoUrl);
  await client.connect();
  const collection = client.db(database).collection('pr_customers');
  const now = new Date();
  const filler = 'x'.repeat(300);
  for (let i = 0; i < docs; i += 500) {
    await collection.insertMany(
      Array.from({ length: Math.min(500, docs - i) }, (_, k) => ({
        customer_id: `c${String(i + k).padStart(6, '0')}`,
        name: `Customer ${i + k}`,
        email: `c${i + k}@example.com`,
        tier: ['gold', 'silver', 'bronze'][(i + k) % 3],
        signup: now.toISOString(),
        note: filler,
        __STATE__: 'PUBLIC',
        createdAt: now,
        updatedAt: now,
        __internal__counter: i + k,
        __internal__counterType: 'offset',
      })),
    );
  }

  const raw = createServer((req, res) => {
    const sameQuery = req.url === '/same';
    collection
      .find(sameQuery ? { __STATE__: 'PUBLIC' } : {})
      .limit(200)
      .toArray()
      .then((page) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(page));
      })
      .catch((error: unknown) => {
        res.writeHead(500);
        res.end(String(error));
      });
  });
  const rawUrl = `${await listen(raw)}/`;
  const store = new MongoDocumentStore({ url: mongoUrl, database });
  await store.connect();
  const api = await createReadApi({ topology, store, logger: createLogger({ level: 'silent' }) });
  const apiUrl = `${await api.listen({ port: 0 })}/pr-customers/?_l=200`;

  // Warm both (JIT, connection pools), then alternate sides per round.
  await load(rawUrl, 50);
  await load(apiUrl, 50);
  const phases: Phase[] = [];
  for (let round = 1; round <= rounds; round += 1) {
    const sides: Array<[Phase['side'], string]> = [['raw', rawUrl], ['tributary', apiUrl], ['raw-same', `${rawUrl}same`]];
    for (const [side, url] of round % 2 === 1 ? sides : [...sides].reverse()) {
      const r = await load(url, requests);
      const phase: Phase = { side, round, requestsPerSecond: Math.round((requests / r.seconds) * 10) / 10, p50Ms: pct(r.latencies, 0.5), p99Ms: pct(r.latencies, 0.99), bytesPerResponse: r.bytes };
      phases.push(phase);
      console.log(`[serve] round ${round} ${side.padEnd(9)} ${phase.requestsPerSecond} req/s  p50 ${phase.p50Ms} ms  p99 ${phase.p99Ms} ms  ${phase.bytesPerResponse} B/response`);
    }
  }
  const best = (side: Phase['side']) => phases.filter((p) => p.side === side).reduce((a, b) => (b.requestsPerSecond > a.requestsPerSecond ? b : a));
  const ratio = Math.round((best('tributary').requestsPerSecond / best('raw').requestsPerSecond) * 100) / 100;
  console.log(`[serve] best raw ${best('raw').requestsPerSecond} req/s, best tributary ${best('tributary').requestsPerSecond} req/s, ratio ${ratio} (goal >= 0.7); raw with Tributary's query ${best('raw-same').requestsPerSecond} req/s`);

  await api.close();
  await new Promise<void>((resolve) => raw.close(() => resolve()));
  await store.close();
  await client.db(database).dropDatabase();
  await client.close();

  await writeResult('serve', {
    versions: { fastify: packageVersion('fastify'), mongodb: packageVersion('mongodb') },
    settings: { docs, requests, concurrency, rounds },
    phases,
    best: { raw: best('raw'), tributary: best('tributary'), rawSameQuery: best('raw-same') },
    ratio,
    summary: {
      measures: [
        {
          id: 'read-api',
          label: 'read API: GET /pr-customers/?_l=200 (Fastify, validation, __STATE__ filter, watermark)',
          unit: 'req/s',
          better: 'higher',
          value: best('tributary').requestsPerSecond,
          detail: `p50 ${best('tributary').p50Ms} ms, p99 ${best('tributary').p99Ms} ms`,
          baselines: [
            { id: 'raw', label: 'bare node:http + find({}).limit(200)', value: best('raw').requestsPerSecond },
            { id: 'raw-same', label: "the same server sending Tributary's query, find({__STATE__: 'PUBLIC'}).limit(200)", value: best('raw-same').requestsPerSecond },
          ],
        },
      ],
      targets: [{ id: 'ratio', label: 'read API ≥ 0.7 × the raw server', source: 'bench/serve.ts', checks: [{ measure: 'read-api', of: 'ratio', op: '>=', threshold: 0.7 }] }],
    },
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
