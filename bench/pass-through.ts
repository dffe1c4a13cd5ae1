/**
 * Pass-through benchmark: how much of each Kafka client's bare consume → produce → commit loop does
 * Tributary keep when the topology does nothing but copy records? Both clients in the same run.
 *
 *   node --expose-gc --import tsx bench/pass-through.ts
 *
 * One run, one input topic (6 partitions, N records of 1 KiB, produced untimed), then per round, for
 * each client, a raw phase and a Tributary phase on that same data, each with a fresh consumer
 * group and a fresh output topic:
 *   raw-kafkajs            bare kafkajs (bench/lib/raw-loops.ts): eachBatch, sendBatch acks=-1 (idempotent), commit each batch
 *   tributary-kafkajs      topology('bench'): stream(input) → toTopic(output), byte serdes for key and value (the raw loop
 *                          decodes neither), runTopology on the kafkajs transport
 *   raw-platformatic       bare @platformatic/kafka: consume() stream, one send + one commit per buffered run of records
 *   tributary-platformatic the same topology on the platformatic transport
 * Every phase runs in a Node process of its own (this file again, BENCH_PHASE_CHILD), as a worker
 * would: run in one process, the two loops share kafkajs's or the library's code, and the one that
 * ran second paid for re-optimising code specialised on the other's objects — Tributary's first
 * kafkajs phase measured 36.7 µs of CPU per record after the raw loop's round against 28.2 µs in a
 * process of its own (the raw loop: 24.9 and 25.8 µs).
 * The ratio of a client is its Tributary phase over its own raw loop. Rate = records / (first batch
 * handed to the handler → last batch's commit acknowledged). The end is observed in-process (the
 * commit callback) and confirmed against the broker's committed offsets (admin fetchOffsets) before
 * the phase is torn down. Also reported per phase: CPU of the whole Node process (all threads: GC
 * helpers included) per record, and peak RSS (sampled every 20 ms). Before each phase: a full GC
 * (with --expose-gc) and `sync`, so the previous phase's garbage and dirty pages are not billed to
 * the next one.
 *
 * Env: KAFKA_BROKERS (default 127.0.0.1:9092), BENCH_RECORDS (200000), BENCH_ROUNDS (3),
 * BENCH_RECORD_BYTES (1024), BENCH_KEYS (distinct keys, 50000), BENCH_KEEP_TOPICS=1 (do not delete),
 * BENCH_CLIENTS (kafkajs,platformatic), BENCH_PHASES (raw,tributary; one of them alone for
 * profiling), BENCH_CPU_PROF=<dir> (one V8 CPU profile per phase, covering exactly that phase, for
 * Chrome DevTools or speedscope).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel, type Admin, type Message } from 'kafkajs';
import { rawKafkajs, rawPlatformatic, type RawLoop } from './lib/raw-loops.js';
import { createLogger, createMetrics } from '../src/ops/index.js';
import { createKafkaTransport, runTopology, type KafkaClient } from '../src/runtime.js';
import { toTopic, topology, type Serde } from '../src/stream/index.js';
import {
  assertCommitted,
  createTopic as createTopicWith,
  deleteTopics,
  endOffsets,
  flushPageCache,
  gc,
  gitDescribe as gitDescribeAt,
  median,
  mib,
  packageVersion,
  positiveInt,
  Probe,
  probed,
  round3,
  rssSampler,
  sleep,
  startProfiler,
  sum,
  withTimeout as withTimeoutOf,
} from './lib/harness.js';

process.env['KAFKAJS_NO_PARTITIONER_WARNING'] ??= '1';

const BROKERS = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',').map((b) => b.trim()).filter(Boolean);
const RECORDS = positiveInt('BENCH_RECORDS', 200_000);
const ROUNDS = positiveInt('BENCH_ROUNDS', 3);
const RECORD_BYTES = positiveInt('BENCH_RECORD_BYTES', 1024);
const KEYS = positiveInt('BENCH_KEYS', 50_000);
/** For profiling one side alone, e.g. BENCH_PHASES=tributary BENCH_CPU_PROF=/tmp/prof (the ratio then needs both). */
const PHASES = (process.env['BENCH_PHASES'] ?? 'raw,tributary').split(',').map((p) => p.trim());
const CLIENTS = (process.env['BENCH_CLIENTS'] ?? 'kafkajs,platformatic').split(',').map((c) => c.trim()) as KafkaClient[];
const CPU_PROF_DIR = process.env['BENCH_CPU_PROF'];
const PARTITIONS = 6;
const PRODUCE_CHUNK = 3_000; // ~500 records (~0.5 MB) per partition per request, under message.max.bytes
const PHASE_TIMEOUT_MS = 120_000;
const RUN_ID = process.env['BENCH_PASS_THROUGH_RUN'] ?? `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
/** Set in a phase's own process: `<kind>:<round>:<input topic>`. */
const PHASE_CHILD = process.env['BENCH_PHASE_CHILD'];
const RESULT_PREFIX = 'PHASE_RESULT ';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

type Side = 'raw' | 'tributary';
type PhaseKind = `${Side}-${KafkaClient}`;

interface PhaseResult {
  readonly kind: PhaseKind;
  readonly round: number;
  readonly records: number;
  readonly seconds: number;
  readonly recordsPerSecond: number;
  readonly mibPerSecond: number;
  /** Group join etc.: phase start → first batch. Not part of the rate. */
  readonly startupMs: number;
  readonly batches: number;
  readonly meanBatchRecords: number;
  /** Node CPU (user + system) over the timed window, per record. */
  readonly cpuMicrosPerRecord: number;
  /** Node CPU over the timed window / wall time (1.0 = one core busy). */
  readonly cpuCores: number;
  readonly rssStartMib: number;
  readonly peakRssMib: number;
  readonly outputRecords: number;
}

/** Values are bytes in, the same bytes out. */
const bytes: Serde<Buffer | null> = {
  name: 'bytes',
  deserialize: (b) => b,
  serialize: (v) => v,
};

const withTimeout = <T>(promise: Promise<T>, what: string) => withTimeoutOf(promise, what, PHASE_TIMEOUT_MS);
const createTopic = (admin: Admin, topic: string) => createTopicWith(admin, topic, PARTITIONS);
const gitDescribe = () => gitDescribeAt(ROOT);

async function generate(kafka: Kafka, topic: string): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5, allowAutoTopicCreation: false });
  await producer.connect();
  try {
    // A 1 MiB pool of random bytes; each value is a 1 KiB window of it at a varying offset.
    const pool = Buffer.alloc(1 << 20);
    for (let i = 0; i < pool.length; i += 4) pool.writeUInt32LE((Math.random() * 0x1_0000_0000) >>> 0, i);
    const started = performance.now();
    for (let from = 0; from < RECORDS; from += PRODUCE_CHUNK) {
      const messages: Message[] = [];
      for (let i = from; i < Math.min(RECORDS, from + PRODUCE_CHUNK); i++) {
        const offset = (i * 4099) % (pool.length - RECORD_BYTES);
        messages.push({ key: `key-${(i * 7919) % KEYS}`, value: pool.subarray(offset, offset + RECORD_BYTES) });
      }
      await producer.sendBatch({ topicMessages: [{ topic, messages }], acks: -1 });
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(`generated ${RECORDS} records of ${RECORD_BYTES} B into ${topic} in ${seconds.toFixed(1)} s (${Math.round(RECORDS / seconds)} records/s, not timed)`);
  } finally {
    await producer.disconnect();
  }
}

interface PhaseSetup {
  readonly kind: PhaseKind;
  readonly round: number;
  readonly input: string;
  readonly output: string;
  readonly groupId: string;
  readonly ends: ReadonlyMap<number, bigint>;
  readonly admin: Admin;
}

/** Runs one phase's pipeline until the probe says everything is committed; returns a teardown. */
type Pipeline = (setup: PhaseSetup, probe: Probe) => Promise<() => Promise<void>>;

const RAW_LOOPS: Record<KafkaClient, RawLoop> = { kafkajs: rawKafkajs, platformatic: rawPlatformatic };

const raw = (client: KafkaClient): Pipeline => ({ input, output, groupId }, probe) => RAW_LOOPS[client]({ brokers: BROKERS, input, output, groupId, partitions: PARTITIONS }, probe);

const tributary = (client: KafkaClient): Pipeline => async ({ input, output, groupId }, probe) => {
  const t = topology('bench');
  t.stream(input, { key: bytes, value: bytes, name: 'pass-through', groupId }).pipe(toTopic(output, { key: bytes, value: bytes }));
  const running = await runTopology(t, {
    transport: probed(createKafkaTransport({ brokers: BROKERS, client }), probe),
    metrics: createMetrics({ defaultMetrics: false }),
    logger: createLogger({ level: 'warn' }),
  });
  return () => running.stop();
};

async function phase(setup: PhaseSetup, pipeline: Pipeline): Promise<PhaseResult> {
  gc?.();
  flushPageCache();
  await sleep(200);
  const { admin, kind, round, input, output, groupId, ends } = setup;
  await createTopic(admin, output);
  const profiler = CPU_PROF_DIR ? await startProfiler() : undefined;
  const rss = rssSampler();
  const probe = new Probe(new Map([[input, ends]]));
  const started = performance.now();
  const teardown = await pipeline(setup, probe);
  let peakRss: number;
  let end: { at: number; cpu: NodeJS.CpuUsage };
  try {
    end = await withTimeout(probe.done, `${kind} round ${round}`);
    peakRss = rss.stop();
    await assertCommitted(admin, groupId, input, ends);
  } finally {
    rss.stop();
    if (profiler && CPU_PROF_DIR) await profiler.stop(path.join(CPU_PROF_DIR, `${RUN_ID}-${kind}-${round}.cpuprofile`));
    await teardown();
  }
  const first = probe.firstBatchAt ?? started;
  const seconds = (end.at - first) / 1000;
  const cpuSeconds = (end.cpu.user + end.cpu.system - (probe.firstCpu ? probe.firstCpu.user + probe.firstCpu.system : 0)) / 1e6;
  const outputRecords = sum(await endOffsets(admin, output));
  const result: PhaseResult = {
    kind,
    round,
    records: RECORDS,
    seconds: round3(seconds),
    recordsPerSecond: Math.round(RECORDS / seconds),
    mibPerSecond: round3((RECORDS * RECORD_BYTES) / seconds / 1024 / 1024),
    startupMs: Math.round(first - started),
    batches: probe.batches,
    meanBatchRecords: Math.round(RECORDS / Math.max(1, probe.batches)),
    cpuMicrosPerRecord: round3((cpuSeconds * 1e6) / RECORDS),
    cpuCores: round3(cpuSeconds / seconds),
    rssStartMib: mib(rss.start),
    peakRssMib: mib(peakRss),
    outputRecords,
  };
  console.log(
    `  ${kind.padEnd(22)} round ${round}: ${String(result.recordsPerSecond).padStart(7)} records/s  ${result.mibPerSecond.toFixed(1).padStart(6)} MiB/s  ` +
      `${result.seconds.toFixed(2)} s  ${result.batches} batches  ${result.cpuMicrosPerRecord.toFixed(1)} µs CPU/record  ` +
      `peak RSS ${result.peakRssMib} MiB  (startup ${result.startupMs} ms, output ${outputRecords})`,
  );
  if (outputRecords < RECORDS) throw new Error(`${kind} round ${round}: output topic ${output} has ${outputRecords} records, expected ${RECORDS}`);
  return result;
}

/** @platformatic/kafka's package.json is not exported: read it beside the installed package. */
function platformaticVersion(): string {
  const file = path.join(ROOT, 'node_modules', '@platformatic', 'kafka', 'package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

interface ClientSummary {
  readonly client: KafkaClient;
  readonly best: { raw: PhaseResult; tributary: PhaseResult };
  readonly ratio: number;
  readonly perRound: Array<{ round: number; raw: number; tributary: number; ratio: number }>;
  readonly median: { raw: { recordsPerSecond: number; cpuMicrosPerRecord: number }; tributary: { recordsPerSecond: number; cpuMicrosPerRecord: number }; roundRatio: number };
  readonly peakRssMib: { raw: number; tributary: number };
}

/** Best-of is what the target is set on; medians show how much concurrent load moved single rounds. */
function summarise(client: KafkaClient, results: readonly PhaseResult[]): ClientSummary {
  const of = (side: Side) => results.filter((r) => r.kind === `${side}-${client}`);
  const best = (side: Side) => of(side).reduce((a, b) => (b.recordsPerSecond > a.recordsPerSecond ? b : a));
  const perRound = Array.from({ length: ROUNDS }, (_, i) => {
    const r = of('raw').find((x) => x.round === i + 1)!;
    const t = of('tributary').find((x) => x.round === i + 1)!;
    return { round: i + 1, raw: r.recordsPerSecond, tributary: t.recordsPerSecond, ratio: round3(t.recordsPerSecond / r.recordsPerSecond) };
  });
  const medians = (side: Side) => ({ recordsPerSecond: Math.round(median(of(side).map((r) => r.recordsPerSecond))), cpuMicrosPerRecord: median(of(side).map((r) => r.cpuMicrosPerRecord)) });
  const peak = (side: Side) => Math.max(...of(side).map((r) => r.peakRssMib));
  const bestRaw = best('raw');
  const bestTrib = best('tributary');
  return {
    client,
    best: { raw: bestRaw, tributary: bestTrib },
    ratio: round3(bestTrib.recordsPerSecond / bestRaw.recordsPerSecond),
    perRound,
    median: { raw: medians('raw'), tributary: medians('tributary'), roundRatio: median(perRound.map((r) => r.ratio)) },
    peakRssMib: { raw: peak('raw'), tributary: peak('tributary') },
  };
}

const PIPELINES = (client: KafkaClient, side: Side): Pipeline => (side === 'raw' ? raw(client) : tributary(client));

/** In a phase's own process: runs that one phase, prints its result as one line. */
async function childPhase(spec: string): Promise<void> {
  const [kind, roundText, input] = spec.split(':') as [PhaseKind, string, string];
  const [side, client] = kind.split('-') as [Side, KafkaClient];
  const kafka = new Kafka({ clientId: 'bench-admin', brokers: BROKERS, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const round = Number(roundText);
    const ends = await endOffsets(admin, input);
    const result = await phase({ kind, round, input, output: outputTopic(kind, round), groupId: groupOf(kind, round), ends, admin }, PIPELINES(client, side));
    process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`);
  } finally {
    await admin.disconnect();
  }
}

const outputTopic = (kind: PhaseKind, round: number) => `bench.pass-through.${RUN_ID}.${kind}-${round}.out`;
const groupOf = (kind: PhaseKind, round: number) => `bench.pass-through.${RUN_ID}.${kind}-${round}`;

/** Runs one phase in a new Node process (same flags), passing its output through; resolves with its result line. */
function phaseInItsOwnProcess(kind: PhaseKind, round: number, input: string): Promise<PhaseResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
      cwd: ROOT,
      env: { ...process.env, BENCH_PHASE_CHILD: `${kind}:${round}:${input}`, BENCH_PASS_THROUGH_RUN: RUN_ID },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let result: PhaseResult | undefined;
    let pending = '';
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      let at: number;
      while ((at = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, at);
        pending = pending.slice(at + 1);
        if (line.startsWith(RESULT_PREFIX)) result = JSON.parse(line.slice(RESULT_PREFIX.length)) as PhaseResult;
        else console.log(line);
      }
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 && result ? resolve(result) : reject(new Error(`${kind} round ${round}: its process ended with ${code}${result ? '' : ', no result'}`))));
  });
}

async function main(): Promise<void> {
  if (PHASE_CHILD) return childPhase(PHASE_CHILD);
  console.log(
    `pass-through: ${RECORDS} records × ${RECORD_BYTES} B, ${PARTITIONS} partitions, ${ROUNDS} rounds (per round and client: raw, then tributary, each in a process of its own), clients ${CLIENTS.join(', ')}, brokers ${BROKERS.join(',')}`,
  );
  const kafka = new Kafka({ clientId: 'bench-admin', brokers: BROKERS, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const input = `bench.pass-through.${RUN_ID}.in`;
  const created: string[] = [input];
  const groups: string[] = [];
  const loadBefore = os.loadavg();
  const groupsBefore = (await admin.listGroups()).groups.length;
  const results: PhaseResult[] = [];
  try {
    await createTopic(admin, input);
    await generate(kafka, input);
    const ends = await endOffsets(admin, input);
    if (sum(ends) !== RECORDS) throw new Error(`input topic holds ${sum(ends)} records, expected ${RECORDS}`);

    for (let round = 1; round <= ROUNDS; round++) {
      for (const client of CLIENTS) {
        for (const side of ['raw', 'tributary'] as const) {
          if (!PHASES.includes(side)) continue;
          const kind: PhaseKind = `${side}-${client}`;
          created.push(outputTopic(kind, round));
          groups.push(groupOf(kind, round));
          results.push(await phaseInItsOwnProcess(kind, round, input));
        }
      }
    }
  } finally {
    if (process.env['BENCH_KEEP_TOPICS'] !== '1') {
      await admin.deleteGroups(groups).catch(() => undefined);
      await deleteTopics(admin, created);
    }
    await admin.disconnect();
  }

  if (!PHASES.includes('raw') || !PHASES.includes('tributary')) {
    console.log('one side only (BENCH_PHASES): no ratio, no result file');
    return;
  }
  const summaries = CLIENTS.map((client) => summarise(client, results));
  const date = new Date().toISOString().slice(0, 10);
  const git = gitDescribe();
  const loadAfter = os.loadavg();
  const groupsAfter = await (async () => {
    const a = kafka.admin();
    await a.connect();
    try {
      return (await a.listGroups()).groups.length;
    } finally {
      await a.disconnect();
    }
  })().catch(() => -1);

  const line = '─'.repeat(92);
  console.log(`\n${line}`);
  console.log(`${'phase'.padEnd(26)}${'best records/s'.padStart(16)}${'MiB/s'.padStart(9)}${'µs CPU/rec'.padStart(12)}${'peak RSS MiB'.padStart(14)}${'all rounds'.padStart(16)}`);
  for (const s of summaries) {
    for (const b of [s.best.raw, s.best.tributary]) {
      const all = results.filter((r) => r.kind === b.kind).map((r) => r.recordsPerSecond).join(' / ');
      console.log(`${b.kind.padEnd(26)}${String(b.recordsPerSecond).padStart(16)}${b.mibPerSecond.toFixed(1).padStart(9)}${b.cpuMicrosPerRecord.toFixed(1).padStart(12)}${String(Math.max(...results.filter((r) => r.kind === b.kind).map((r) => r.peakRssMib))).padStart(14)}  ${all}`);
    }
  }
  console.log(line);
  for (const s of summaries) {
    console.log(`${s.client}: ratio tributary / raw (best of each) ${s.ratio.toFixed(3)}   per round: ${s.perRound.map((r) => r.ratio.toFixed(3)).join(', ')}   target ≥ 0.900 ${s.ratio >= 0.9 && s.perRound.every((r) => r.ratio >= 0.9) ? 'MET in every round' : s.ratio >= 0.9 ? 'MET (best of), not in every round' : 'MISSED'}`);
    console.log(`  medians: raw ${s.median.raw.recordsPerSecond} records/s, ${s.median.raw.cpuMicrosPerRecord} µs CPU/record; tributary ${s.median.tributary.recordsPerSecond} records/s, ${s.median.tributary.cpuMicrosPerRecord} µs CPU/record; per-round ratio ${s.median.roundRatio.toFixed(3)}`);
  }
  console.log(`load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${loadAfter.map((l) => l.toFixed(2)).join(' ')}; consumer groups on the broker: ${groupsBefore} before, ${groupsAfter} after`);

  const clientJson = (s: ClientSummary) => ({
    raw: { recordsPerSecond: s.best.raw.recordsPerSecond, round: s.best.raw.round, peakRssMib: s.peakRssMib.raw },
    tributary: { recordsPerSecond: s.best.tributary.recordsPerSecond, round: s.best.tributary.round, peakRssMib: s.peakRssMib.tributary },
    ratio: s.ratio,
    target: 0.9,
    met: s.ratio >= 0.9,
    metEveryRound: s.perRound.every((r) => r.ratio >= 0.9),
    median: s.median,
    perRound: s.perRound,
  });
  const kafkajs = summaries.find((s) => s.client === 'kafkajs');
  const result = {
    benchmark: 'pass-through',
    run: process.env['BENCH_RUN_ID'] ?? null,
    date: new Date().toISOString(),
    git,
    environment: {
      node: process.version,
      kafkajs: packageVersion('kafkajs'),
      platformatic: platformaticVersion(),
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      memoryGb: Math.round(os.totalmem() / 1024 ** 3),
      brokers: BROKERS,
      kafka: '4.3.1 single broker (KRaft, same machine, scripts/infra)',
      loadAverageBefore: loadBefore,
      loadAverageAfter: loadAfter,
      consumerGroupsBefore: groupsBefore,
      consumerGroupsAfter: groupsAfter,
    },
    parameters: { records: RECORDS, recordBytes: RECORD_BYTES, partitions: PARTITIONS, distinctKeys: KEYS, rounds: ROUNDS, clients: CLIENTS, order: 'per round and client: raw, then tributary; each phase in a Node process of its own' },
    // `best` is the kafkajs pair, as before (read by bench/lib/report.ts); `clients` has both.
    ...(kafkajs ? { best: clientJson(kafkajs), median: kafkajs.median, perRound: kafkajs.perRound } : {}),
    clients: Object.fromEntries(summaries.map((s) => [s.client, clientJson(s)])),
    phases: results,
  };
  const dir = path.join(ROOT, 'bench', 'results');
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${date}-pass-through.json`);
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nresult written to ${path.relative(ROOT, file)}`);
  console.log('\nrows for docs/benchmarks.md:');
  console.log('| date | commit | client | records × size | raw records/s | Tributary records/s | ratio | peak RSS raw / Tributary | notes |');
  for (const s of summaries) {
    console.log(
      `| ${date} | ${git.commit}${git.dirty ? '+dirty' : ''} | ${s.client} | ${RECORDS} × ${RECORD_BYTES} B, ${PARTITIONS} p | ${s.best.raw.recordsPerSecond} | ${s.best.tributary.recordsPerSecond} | ` +
        `${s.ratio.toFixed(2)} | ${s.peakRssMib.raw} / ${s.peakRssMib.tributary} MiB | best of ${ROUNDS} rounds; per-round ratios ${s.perRound.map((r) => r.ratio.toFixed(2)).join(', ')} |`,
    );
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
