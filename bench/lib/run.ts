/**
 * Opens and closes one benchmark run for scripts/bench (not a benchmark: scripts/bench only runs
 * bench/*.ts at the top level).
 *
 *   node --import tsx bench/lib/run.ts start [--complete] <benchmark>...
 *       one run id (BENCH_RUN_ID, or the UTC time), the commit and dirty flag (bench/lib/git-stamp.ts),
 *       the environment (bench/lib/environment.ts) → bench/results/<run>/run.json; prints the
 *       `export BENCH_RUN_ID=… BENCH_COMMIT=… BENCH_DIRTY=…` lines scripts/bench evaluates, so every
 *       benchmark stamps its result with the same three values (bench/lib/harness.ts writeResult)
 *   node --import tsx bench/lib/run.ts check
 *       exits 1 when HEAD or a tracked file changed since `start` (the results would mix two trees)
 *
 * Services from KAFKA_BROKERS, MONGODB_URL and BENCH_STORE_POSTGRES_URL (the PostgreSQL under
 * DocumentDB; scripts/bench takes it from `scripts/infra status documentdb`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { detectEnvironment } from './environment.js';
import { gitStamp } from './git-stamp.js';
import type { RunRecord } from './result-format.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const runDirectory = (id: string) => path.join(ROOT, 'bench', 'results', id);

function fail(text: string): never {
  console.error(`[bench] ${text}`);
  process.exit(1);
}

async function start(args: string[]): Promise<void> {
  const complete = args.includes('--complete');
  const benchmarks = args.filter((a) => a !== '--complete');
  const id = process.env['BENCH_RUN_ID'] || new Date().toISOString().replace(/[-:]/g, '').slice(0, 15);
  if (!/^[A-Za-z0-9._-]+$/.test(id)) fail(`BENCH_RUN_ID '${id}' is not a plain name`);
  const dir = runDirectory(id);
  if (existsSync(path.join(dir, 'run.json'))) fail(`run ${id} exists (bench/results/${id}/run.json): a run id is used once, so that no summary mixes two runs`);
  const git = gitStamp(ROOT);
  const environment = await detectEnvironment({
    brokers: (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',').map((b) => b.trim()),
    ...(process.env['MONGODB_URL'] ? { mongodbUrl: process.env['MONGODB_URL'] } : {}),
    ...(process.env['BENCH_STORE_POSTGRES_URL'] ? { postgresUrl: process.env['BENCH_STORE_POSTGRES_URL'] } : {}),
  });
  const record: RunRecord = { id, startedAt: new Date().toISOString(), commit: git.commit, dirty: git.dirty, dirtyPaths: git.dirtyPaths, fingerprint: git.fingerprint, benchmarks, complete, environment };
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'run.json'), `${JSON.stringify(record, null, 2)}\n`);
  console.error(`[bench] run ${id}: commit ${git.commit.slice(0, 7)}${git.dirty ? ` (dirty: ${git.dirtyPaths.join(', ')})` : ' (clean)'}; ${environment.kafka.version ? `Kafka ${environment.kafka.version}` : environment.kafka.note}; store ${environment.store.server}`);
  console.log(`export BENCH_RUN_ID=${id} BENCH_COMMIT=${git.commit} BENCH_DIRTY=${git.dirty}`);
}

function check(): void {
  const id = process.env['BENCH_RUN_ID'] ?? fail('BENCH_RUN_ID is not set');
  const record = JSON.parse(readFileSync(path.join(runDirectory(id), 'run.json'), 'utf8')) as RunRecord;
  const now = gitStamp(ROOT);
  if (now.fingerprint !== record.fingerprint) {
    fail(`run ${id}: the tree changed while it ran (commit ${record.commit.slice(0, 7)} → ${now.commit.slice(0, 7)}${now.dirty ? `, differing: ${now.dirtyPaths.join(', ')}` : ''}); its results are not one run's`);
  }
}

const [command, ...rest] = process.argv.slice(2);
if (command === 'start') await start(rest);
else if (command === 'check') check();
else fail('usage: run.ts start [--complete] <benchmark>... | run.ts check');
