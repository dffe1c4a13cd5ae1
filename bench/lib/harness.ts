/**
 * Helpers shared by the benchmarks (bench/*.ts): environment knobs, phase probes (first batch →
 * last commit), peak-RSS sampling, CPU profiles, broker-side commit checks, result bookkeeping
 * (writeResult: the stamped format of bench/lib/result-format.ts).
 * Not a benchmark itself: scripts/bench only runs bench/*.ts at the top level.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Session } from 'node:inspector/promises';
import os from 'node:os';
import path from 'node:path';
import type { Admin } from 'kafkajs';
import type { TopicPartitionOffset, Transport } from '../../src/runtime.js';
import { gitStamp } from './git-stamp.js';
import type { BenchSummary, ResultStamp } from './result-format.js';

export function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw.replaceAll('_', ''));
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got '${raw}'`);
  return n;
}

export const mib = (n: number) => Math.round((n / 1024 / 1024) * 10) / 10;
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
export const gc = (globalThis as { gc?: () => void }).gc;

/** 1 000 000: thousands grouped by spaces, as the docs write numbers. */
export const grouped = (n: number) => n.toLocaleString('en-US').replaceAll(',', ' ');

export function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : round3((sorted[mid - 1]! + sorted[mid]!) / 2);
}

/** A process's resident set in MiB from /proc (undefined once it is gone). */
export function rssMiB(pid: number): number | undefined {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Math.round((Number(kb) / 1024) * 10) / 10;
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds a process has used so far, user + system, from /proc/<pid>/stat (undefined once it is
 * gone). Fields 14 and 15 count clock ticks: 100 per second on Linux (USER_HZ).
 */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: count the fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** Peak RSS of this process, sampled every 20 ms. */
export function rssSampler() {
  const start = process.memoryUsage.rss();
  let peak = start;
  const timer = setInterval(() => {
    const rss = process.memoryUsage.rss();
    if (rss > peak) peak = rss;
  }, 20);
  timer.unref();
  return {
    start,
    stop(): number {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage.rss());
    },
  };
}

/** End offsets to wait for: topic → partition → offset. */
export type EndOffsets = ReadonlyMap<string, ReadonlyMap<number, bigint>>;

/**
 * Watches one phase: when the first batch arrives, and when every partition's committed offset has
 * reached the input's end offset (over one or several input topics).
 */
export class Probe {
  firstBatchAt: number | undefined;
  firstCpu: NodeJS.CpuUsage | undefined;
  batches = 0;
  readonly #pending = new Map<string, bigint>();
  readonly done: Promise<{ at: number; cpu: NodeJS.CpuUsage }>;
  #resolve!: (value: { at: number; cpu: NodeJS.CpuUsage }) => void;

  constructor(ends: EndOffsets) {
    for (const [topic, partitions] of ends) for (const [p, end] of partitions) if (end > 0n) this.#pending.set(`${topic}:${p}`, end);
    this.done = new Promise((resolve) => (this.#resolve = resolve));
    if (this.#pending.size === 0) this.#resolve({ at: performance.now(), cpu: process.cpuUsage() });
  }

  batch(): void {
    this.batches++;
    if (this.firstBatchAt === undefined) {
      this.firstBatchAt = performance.now();
      this.firstCpu = process.cpuUsage();
    }
  }

  committed(offset: TopicPartitionOffset): void {
    const key = `${offset.topic}:${offset.partition}`;
    const end = this.#pending.get(key);
    if (end === undefined || BigInt(offset.offset) < end) return;
    this.#pending.delete(key);
    if (this.#pending.size === 0) this.#resolve({ at: performance.now(), cpu: process.cpuUsage() });
  }
}

/** The transport, unchanged, with the probe hooked into the consumer callbacks (one call per batch). */
export function probed(inner: Transport, probe: Probe): Transport {
  return {
    ...inner,
    consumer(options) {
      const consumer = inner.consumer(options);
      return {
        ...consumer,
        run: (handlers) =>
          consumer.run({
            ...handlers,
            onBatch(batch, control) {
              probe.batch();
              return handlers.onBatch(batch, control);
            },
            onCommitted(offset, seconds) {
              handlers.onCommitted?.(offset, seconds);
              probe.committed(offset);
            },
          }),
      };
    },
  };
}

export function withTimeout<T>(promise: Promise<T>, what: string, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done after ${timeoutMs / 1000} s`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export async function endOffsets(admin: Admin, topic: string): Promise<Map<number, bigint>> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
}

export function sum(offsets: ReadonlyMap<number, bigint>): number {
  let total = 0n;
  for (const v of offsets.values()) total += v;
  return Number(total);
}

/** The broker's view: the group's committed offsets equal the input's end offsets. */
export async function assertCommitted(admin: Admin, groupId: string, topic: string, ends: ReadonlyMap<number, bigint>): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const committed = new Map((entry?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
    if ([...ends].every(([p, end]) => (committed.get(p) ?? -1n) >= end)) return;
    await sleep(100);
  }
  throw new Error(`group ${groupId} has not committed the end offsets of ${topic}`);
}

/** `appendTime`: records are stamped by the broker when appended (a stage's output timestamp says when it was written). */
export async function createTopic(admin: Admin, topic: string, partitions: number, options: { appendTime?: boolean } = {}): Promise<void> {
  const configEntries = options.appendTime ? [{ name: 'message.timestamp.type', value: 'LogAppendTime' }] : [];
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1, configEntries }], waitForLeaders: true });
}

/**
 * Deletes a benchmark's topics at its end, and says so when it cannot: a broker left with the
 * partitions of earlier benchmarks is slower for every one after it. Each name once and only those
 * that exist — a request naming a topic twice is refused whole (INVALID_REQUEST), and one naming a
 * missing topic fails after deleting the rest.
 */
export async function deleteTopics(admin: Admin, topics: readonly string[]): Promise<void> {
  try {
    const existing = new Set(await admin.listTopics());
    const names = [...new Set(topics)].filter((topic) => existing.has(topic));
    if (names.length > 0) await admin.deleteTopics({ topics: names, timeout: 30_000 });
  } catch (error) {
    console.warn(`  topics not deleted: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Flushes dirty pages (the previous phase's output) so their writeback does not land in the next phase. */
export function flushPageCache(): void {
  try {
    execFileSync('sync', { stdio: 'ignore', timeout: 30_000 });
  } catch {
    // not available (Windows) or slow: the phase runs anyway
  }
}

export async function startProfiler(): Promise<{ stop(file: string): Promise<void> }> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  return {
    async stop(file) {
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, JSON.stringify(profile));
      console.log(`  cpu profile: ${file}`);
    },
  };
}

/**
 * The run's stamp, { commit, dirty }: inside `npm run bench` the values scripts/bench took once when
 * the run began (BENCH_COMMIT, BENCH_DIRTY), so every result of a run carries the same; outside it,
 * the tree as it is now (bench/lib/git-stamp.ts).
 */
export function gitDescribe(root: string): { commit: string; dirty: boolean } {
  const commit = process.env['BENCH_COMMIT'];
  if (commit) return { commit, dirty: process.env['BENCH_DIRTY'] !== 'false' };
  try {
    const stamp = gitStamp(root);
    return { commit: stamp.commit, dirty: stamp.dirty };
  } catch {
    return { commit: 'unknown', dirty: true };
  }
}

export function packageVersion(name: string): string {
  const require = createRequire(import.meta.url);
  return (require(`${name}/package.json`) as { version: string }).version;
}

export interface Percentiles {
  readonly count: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

/** Nearest-rank percentiles, in the unit given (0s for an empty list). */
export function percentiles(values: readonly number[]): Percentiles {
  if (values.length === 0) return { count: 0, p50: 0, p95: 0, p99: 0, max: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!);
  return { count: sorted.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: Math.round(sorted.at(-1)!) };
}

/** Records not yet committed by the streams' groups, over all their topics (the broker's view). */
export async function streamsLag(admin: Admin, streams: ReadonlyArray<{ groupId: string; topics: readonly string[] }>): Promise<number> {
  let behind = 0n;
  for (const s of streams) {
    for (const topic of s.topics) {
      const [entry] = await admin.fetchOffsets({ groupId: s.groupId, topics: [topic] });
      const committed = new Map((entry?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
      for (const o of await admin.fetchTopicOffsets(topic)) {
        const at = committed.get(o.partition) ?? -1n;
        behind += BigInt(o.high) - (at < 0n ? BigInt(o.low) : at);
      }
    }
  }
  return Number(behind);
}

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');

/**
 * Writes a benchmark's result in the format bench/lib/result-format.ts describes: the stamp
 * (benchmark, date, run, git) in front of `body`. Inside `npm run bench` (BENCH_RUN_ID set) it goes
 * to bench/results/<run>/<name>.json, where the report finds it; outside a run, to the system's
 * temporary directory, so that a trial run never lands in bench/results.
 */
export async function writeResult(name: string, body: Record<string, unknown> & { summary?: BenchSummary }): Promise<string> {
  const run = process.env['BENCH_RUN_ID'] || null;
  const date = new Date().toISOString();
  const file = run ? path.join(ROOT, 'bench', 'results', run, `${name}.json`) : path.join(os.tmpdir(), 'tributary-bench', `${date.slice(0, 10)}-${name}.json`);
  await mkdir(path.dirname(file), { recursive: true });
  const stamp: ResultStamp = { benchmark: name, date, run, git: gitDescribe(ROOT) };
  await writeFile(file, `${JSON.stringify({ ...stamp, ...body }, null, 2)}\n`);
  console.log(run ? `results: ${path.relative(ROOT, file)}` : `results (no run, not reported): ${file}`);
  return file;
}
