/**
 * Memory under backlog: BENCH_BACKLOG_EVENTS (1 000 000) CDC events wait in the ingestion topics,
 * then `tributary run --only ingest` (a real child process, as in production) catches up until the
 * backlog is drained or for BENCH_BACKLOG_SECONDS (120), whichever comes first. The worker's RSS is
 * sampled every second from /proc; the bench reports the peak, the trend over the second half of
 * the catch-up (MiB/min), how far it got and how fast. Fetch sizes bound
 * what is in memory, not the backlog's length. It runs once with Node's default heap sizing and once
 * with `--max-old-space-size=160` (BENCH_BACKLOG_HEAPS_MB, "0,160"): V8 lets garbage pile up far
 * before a full collection unless told otherwise, which the capped run separates from a leak.
 * Before them, the raw baseline catches up on the same backlog the same way, a process of its own
 * (bench/lib/raw-ingest-worker.ts: bare kafkajs → JSON.parse → bulkWrite, Node's default heap), so
 * the report divides Tributary's peak by what Node and the two drivers need without Tributary
 * (BENCH_BACKLOG_RAW=0 leaves it out of an ad-hoc run). Last, both catch up again inside a
 * container's memory limit, BENCH_BACKLOG_CONTAINER_MIB (1024; 0 leaves it out): a memory cgroup
 * (bench/lib/memory-cgroup.ts), from which Node sizes its default heap as it does in a Kubernetes pod
 * with that limit (549 MB of heap under 1 GiB, against 4 345 MB on the bare 24 GiB machine); where
 * no writable memory cgroup exists (not root), the bench says so and leaves those two runs out.
 * BENCH_WORKER_NODE_ARGS: node flags for
 * both workers (profiling, --trace-gc); BENCH_WORKER_LOG_LEVEL: the workers' log level, their
 * stdout shown (default warn, stdout dropped).
 *
 * Target (issue #16 item 4), on the run with Node's default heap: peak RSS < 300 MB (10^6 bytes,
 * = 286.1 MiB) and flat, taken as a least-squares trend over the second half of at most
 * FLAT_MB_PER_MINUTE (1 % of the budget per minute). Both go into the summary block
 * (bench/lib/result-format.ts) in MB; the result keeps the MiB figures.
 *
 *   npm run bench -- backlog
 */
import { spawn, spawnSync } from 'node:child_process';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { buildTopology, generateWorkload, TABLES, type TableName } from './lib/cdc-workload.js';
import { compiled } from './lib/compiled.js';
import { memoryCgroup, type MemoryCgroup } from './lib/memory-cgroup.js';
import { cpuSeconds, createTopic, grouped, packageVersion, positiveInt, rssMiB, sleep, streamsLag, writeResult, deleteTopics } from './lib/harness.js';
import type { BenchSummary, Measure, Target } from './lib/result-format.js';

const BROKERS = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const MONGODB_URL = process.env['MONGODB_URL'] ?? 'mongodb://127.0.0.1:27017/?directConnection=true';
const EVENTS = positiveInt('BENCH_BACKLOG_EVENTS', 1_000_000);
const SECONDS = positiveInt('BENCH_BACKLOG_SECONDS', 120);
const PARTITIONS = 6;
const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
const PREFIX = `bench.backlog.${RUN}.`;
const NAME = `bench-backlog-${RUN}`;
const DATABASE = `bench_backlog_${RUN}`;
const sourceTopic = (table: TableName) => `${PREFIX}${table}`;
/** Worker heap settings, one catch-up run each on the same backlog (fresh groups): 0 = Node's default sizing. */
const HEAPS = (process.env['BENCH_BACKLOG_HEAPS_MB'] ?? '0,160').split(',').map(Number);
/** The memory limit of the container the last two catch-ups run in (MiB; 0 = none). */
const CONTAINER_MIB = Number(process.env['BENCH_BACKLOG_CONTAINER_MIB'] ?? '1024');
/** The raw baseline's run (BENCH_BACKLOG_RAW=0 leaves it out of an ad-hoc run). */
const RAW = process.env['BENCH_BACKLOG_RAW'] !== '0';
/** Every database a catch-up wrote, dropped at the end. */
const databases: string[] = [];
const TARGET_MB = 300;
/** "Flat": the second half's trend at most 1 % of the budget per minute. */
const FLAT_MB_PER_MINUTE = 3;
const MB_PER_MIB = 1.048576;
const toMB = (mib: number) => Math.round(mib * MB_PER_MIB * 10) / 10;

type CatchUp = NonNullable<Awaited<ReturnType<typeof catchUp>>>;

/** The summary block the report reads: peak RSS and trend per heap setting, the target on Node's default heap. */
function summaryBlock(results: readonly CatchUp[]): BenchSummary {
  const measures: Measure[] = [];
  const targets: Target[] = [];
  // The raw loop's catch-up under the same heap setting (and container), the baseline of each measure.
  const rawOf = (r: CatchUp) => results.find((x) => x.worker === 'raw' && x.heap === r.heap);
  for (const r of results) {
    if (r.worker === 'raw') continue;
    const raw = rawOf(r);
    const key = r.containerMiB ? `container${r.containerMiB}` : r.heapMb ? `heap${r.heapMb}` : 'default';
    measures.push(
      {
        id: `peak-rss-${key}`,
        label: `peak RSS of \`tributary run --only ingest\` catching up on ${grouped(r.backlog)} waiting events, heap ${r.heap}`,
        unit: 'MB',
        better: 'lower',
        value: toMB(r.peakRssMiB),
        detail: `${r.peakRssMiB} MiB; ${grouped(r.processed)} events in ${r.seconds} s (${r.perSecond}/s${r.drainedAfterSeconds === null ? '' : ', all caught up'})${r.containerMiB ? `; Node's heap limit there ${r.heapLimitMB} MB, the container's limit hit ${r.limitHits ?? '?'} times` : ''}${r.exited ? `; the worker exited early (${r.exited})` : ''}`,
        chart: Object.entries(r.rssAt).map(([at, mib]) => [`RSS at ${at} of the run (MB)`, toMB(mib ?? 0)] as const),
        ...(raw ? { baselines: [{ id: 'raw-ingest', label: `${RAW_LABEL}: peak RSS (${raw.perSecond}/s)`, value: toMB(raw.peakRssMiB) }] } : {}),
      },
      { id: `rss-trend-${key}`, label: `RSS trend over the second half, heap ${r.heap}`, unit: 'MB/min', better: 'lower', value: toMB(r.slopeSecondHalfMiBPerMinute) },
      {
        id: `cpu-per-event-${key}`,
        label: `CPU (user + system) of the catching-up worker per event, heap ${r.heap}`,
        unit: 'µs',
        better: 'lower',
        value: r.cpuMicrosPerEvent,
        ...(raw ? { baselines: [{ id: 'raw-ingest', label: RAW_LABEL, value: raw.cpuMicrosPerEvent }] } : {}),
      },
    );
  }
  if (results.some((r) => r.heap === 'Node default')) {
    targets.push({
      id: 'rss',
      label: `catching up on ${grouped(results[0]?.backlog ?? EVENTS)} waiting events: RSS < ${TARGET_MB} MB with Node's default heap, flat (trend ≤ ${FLAT_MB_PER_MINUTE} MB/min)`,
      source: 'issue #16 item 4',
      checks: [
        { measure: 'peak-rss-default', op: '<', threshold: TARGET_MB, label: 'peak RSS' },
        { measure: 'rss-trend-default', op: '<=', threshold: FLAT_MB_PER_MINUTE, label: 'trend' },
      ],
    });
  }
  return { measures, targets };
}

const RAW_LABEL = 'bare kafkajs eachBatch → JSON.parse → bulkWrite of each key\'s last record (bench/lib/raw-ingest.ts), a process of its own';

/** Which process catches up: Tributary's worker, or the raw loop of bench/lib/raw-ingest-worker.ts. */
type Worker = 'tributary' | 'raw';

/** Node flags of a catch-up's process: BENCH_WORKER_NODE_ARGS (profiling flags, say), then the heap cap. */
const nodeArgsOf = (setting: Setting) => [...(process.env['BENCH_WORKER_NODE_ARGS'] ?? '').split(' ').filter(Boolean), ...(setting.heapMb ? [`--max-old-space-size=${setting.heapMb}`] : [])];

/** How one catch-up's process is started: a heap cap (0 = Node's default sizing) and a container memory limit (0 = none). */
interface Setting {
  readonly heapMb: number;
  readonly containerMiB: number;
}
const tagOf = (s: Setting) => `h${s.heapMb}${s.containerMiB ? `c${s.containerMiB}` : ''}`;

/** The child process of one catch-up and the consumer groups whose lag says how far it got. */
function startWorker(worker: Worker, setting: Setting, cgroup: MemoryCgroup | undefined) {
  const nodeArgs = nodeArgsOf(setting);
  const stdio = ['ignore', process.env['BENCH_WORKER_LOG_LEVEL'] ? 'inherit' : 'ignore', 'inherit'] as const;
  const database = `${DATABASE}_${worker}_${tagOf(setting)}`;
  const databaseEnv = { KAFKA_BROKERS: BROKERS.join(','), MONGODB_URL };
  const start = (args: readonly string[], env: NodeJS.ProcessEnv) => {
    const [file, argv] = cgroup ? cgroup.command(process.execPath, [...nodeArgs, ...args]) : [process.execPath, [...nodeArgs, ...args]];
    return spawn(file, argv, { env: { ...process.env, ...databaseEnv, ...env }, stdio: [...stdio] });
  };
  if (worker === 'raw') {
    const groupId = `${NAME}-raw-${tagOf(setting)}`;
    const child = start([compiled('bench/lib/raw-ingest-worker.ts')], { RAW_TOPIC_PREFIX: PREFIX, RAW_GROUP_ID: groupId, RAW_DATABASE: database });
    return { child, database, groups: [{ groupId, topics: TABLES.map((x) => sourceTopic(x.name)) }] };
  }
  const name = `${NAME}-${tagOf(setting)}`;
  const child = start([compiled('src/cli/main.ts'), 'run', compiled('bench/lib/bench-topology.ts'), '--only', 'ingest', '--http-port', '0'], {
    LOG_LEVEL: process.env['BENCH_WORKER_LOG_LEVEL'] ?? 'warn',
    BENCH_TOPIC_PREFIX: PREFIX,
    BENCH_TOPOLOGY_NAME: name,
    MONGODB_DATABASE: database,
  });
  return { child, database, groups: buildTopology(name, PREFIX, sourceTopic).streams().filter((s) => s.name.startsWith('ingest:')) };
}

/** The heap limit Node gives itself (MB) when started as the catch-up is: its flags, inside its container. */
function heapLimitMB(setting: Setting, cgroup: MemoryCgroup | undefined): number {
  const probe = [...nodeArgsOf(setting), '-p', 'Math.round(require("node:v8").getHeapStatistics().heap_size_limit / 1e6)'];
  const [file, argv] = cgroup ? cgroup.command(process.execPath, probe) : [process.execPath, probe];
  return Number(spawnSync(file, argv, { encoding: 'utf8' }).stdout.trim());
}

/** One worker catching up for SECONDS, its RSS sampled every second; undefined when the container cannot be made here. */
async function catchUp(admin: Admin, worker: Worker, backlog: number, setting: Setting) {
  const made = setting.containerMiB ? memoryCgroup(`${RUN}-${worker}`, setting.containerMiB) : undefined;
  if (made && 'unavailable' in made) {
    console.log(`  ${worker === 'raw' ? 'raw loop' : 'worker'} in a ${setting.containerMiB} MiB container: not measured, ${made.unavailable}`);
    return undefined;
  }
  const cgroup = made;
  const heapLimit = heapLimitMB(setting, cgroup);
  const { child, database, groups } = startWorker(worker, setting, cgroup);
  databases.push(database);
  const samples: Array<readonly [number, number]> = [];
  const began = performance.now();
  // The window ends when the backlog is caught up (every group's lag 0, checked every 2 s) or after
  // SECONDS: what is measured is the catch-up, not an idle worker after it (on a fast machine the
  // million events drain well inside the window, and the idle tail made "flat" meaningless).
  let drainedAfter: number | undefined;
  while (performance.now() - began < SECONDS * 1000 && child.exitCode === null && child.signalCode === null) {
    await sleep(1_000);
    const at = (performance.now() - began) / 1000;
    const rss = rssMiB(child.pid as number);
    if (rss !== undefined) samples.push([at, rss]);
    if (samples.length % 2 === 0 && (await streamsLag(admin, groups)) === 0) {
      drainedAfter = Math.round(at * 10) / 10;
      break;
    }
  }
  const seconds = drainedAfter ?? SECONDS;
  // A worker that died inside the window (the container's OOM killer, a crash) is reported, not averaged in silently.
  const exited = child.exitCode !== null || child.signalCode !== null ? `exit ${child.exitCode ?? child.signalCode}` : undefined;
  const left = drainedAfter === undefined ? await streamsLag(admin, groups) : 0;
  // Before the signal: what the catch-up cost, not the shutdown.
  const cpu = cpuSeconds(child.pid as number) ?? Number.NaN;
  child.kill('SIGTERM');
  if (!exited) await new Promise((resolve) => child.once('exit', resolve));
  const limitHits = cgroup?.limitHits();
  cgroup?.remove();
  const processed = backlog - left;
  const peak = Math.max(...samples.map(([, y]) => y));
  const heap = setting.heapMb ? `--max-old-space-size=${setting.heapMb}` : setting.containerMiB ? `Node default in a ${setting.containerMiB} MiB container` : 'Node default';
  const result = {
    worker,
    heap,
    heapMb: setting.heapMb,
    containerMiB: setting.containerMiB,
    /** Node's heap limit as started (`v8.getHeapStatistics().heap_size_limit`), MB. */
    heapLimitMB: heapLimit,
    limitHits,
    exited,
    backlog,
    /** How long the catch-up was measured: until the backlog was drained, at most SECONDS. */
    seconds,
    drainedAfterSeconds: drainedAfter ?? null,
    processed,
    perSecond: Math.round(processed / seconds),
    peakRssMiB: peak,
    /** The worker's CPU (user + system) for the whole window, per event caught up. */
    cpuMicrosPerEvent: Math.round((cpu * 1e6) / Math.max(1, processed)),
    rssAt: Object.fromEntries([0.25, 0.5, 0.75, 1].map((q) => [`${q * 100}%`, samples[Math.min(samples.length - 1, Math.floor(q * samples.length) - 1)]?.[1] ?? null])),
    slopeSecondHalfMiBPerMinute: slopePerMinute(samples.filter(([x]) => x >= seconds / 2)),
    underTarget: toMB(peak) < TARGET_MB,
    samples: samples.map(([x, y]) => [Math.round(x), y]),
  };
  console.log(
    `  ${worker === 'raw' ? 'raw loop' : 'worker'} (${result.heap}, heap limit ${heapLimit} MB) RSS: peak ${peak} MiB = ${toMB(peak)} MB (target < ${TARGET_MB} MB), second-half trend ${result.slopeSecondHalfMiBPerMinute} MiB/min; ${processed} of ${backlog} events in ${seconds} s${drainedAfter === undefined ? ' (the whole window)' : ' (drained)'} = ${result.perSecond}/s; CPU ${result.cpuMicrosPerEvent} µs per event${limitHits === undefined ? '' : `; the container's limit hit ${limitHits} times`}${exited ? `; EXITED EARLY (${exited})` : ''}`,
  );
  return result;
}

/** Least-squares slope of (seconds, MiB) in MiB per minute. */
function slopePerMinute(points: ReadonlyArray<readonly [number, number]>): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const num = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const den = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return den === 0 ? 0 : Math.round((num / den) * 60 * 10) / 10;
}

async function main(): Promise<void> {
  const kafka = new Kafka({ clientId: 'bench-backlog', brokers: BROKERS, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const topics = TABLES.map((t) => sourceTopic(t.name));
  const t = buildTopology(NAME, PREFIX, sourceTopic);
  try {
    for (const topic of [...topics, ...t.fastData.projections.map((p) => t.fastData.topics.prUpdate(p))]) await createTopic(admin, topic, PARTITIONS);
    const producing = performance.now();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5, allowAutoTopicCreation: false });
    await producer.connect();
    // Generated and produced in slices, so the bench process itself stays small.
    const slice = 100_000;
    for (let done = 0, seed = 0; done < EVENTS; done += slice, seed++) {
      const { records } = generateWorkload({ customers: 2_000, events: Math.min(slice, EVENTS - done) });
      for (const table of TABLES) {
        const messages = records.filter((r) => r.table === table.name).map((r) => ({ key: JSON.stringify(r.key), value: JSON.stringify(r.value) }));
        for (let i = 0; i < messages.length; i += 10_000) await producer.sendBatch({ topicMessages: [{ topic: sourceTopic(table.name), messages: messages.slice(i, i + 10_000) }], acks: -1 });
      }
      process.stdout.write(`\r  producing the backlog: ${Math.min(EVENTS, done + slice)}/${EVENTS}`);
    }
    await producer.disconnect();
    const backlog = await streamsLag(admin, t.streams().filter((s) => s.name.startsWith('ingest:')));
    console.log(`\n  backlog: ${backlog} events in ${topics.length} topics x ${PARTITIONS} partitions (produced in ${((performance.now() - producing) / 1000).toFixed(0)} s)`);

    // The raw loop first (Node's default heap), then Tributary once per heap setting, then both in a
    // container; fresh groups each.
    const results: CatchUp[] = [];
    const run = async (worker: Worker, setting: Setting) => {
      const r = await catchUp(admin, worker, backlog, setting);
      if (r) results.push(r);
    };
    if (RAW) await run('raw', { heapMb: 0, containerMiB: 0 });
    for (const heapMb of HEAPS) await run('tributary', { heapMb, containerMiB: 0 });
    if (CONTAINER_MIB > 0) {
      if (RAW) await run('raw', { heapMb: 0, containerMiB: CONTAINER_MIB });
      await run('tributary', { heapMb: 0, containerMiB: CONTAINER_MIB });
    }
    // `result` (the headline): Tributary with Node's default heap sizing, as users start it.
    await writeResult('backlog', {
      parameters: { events: EVENTS, seconds: SECONDS, partitions: PARTITIONS, heaps: HEAPS, containerMiB: CONTAINER_MIB, raw: RAW ? RAW_LABEL : null, targetMB: TARGET_MB, flatMBPerMinute: FLAT_MB_PER_MINUTE, kafkajs: packageVersion('kafkajs'), mongodb: packageVersion('mongodb') },
      result: results.find((r) => r.worker === 'tributary'),
      results,
      summary: summaryBlock(results),
    });
  } finally {
    const streams = t.streams();
    await deleteTopics(admin, [...streams.flatMap((s) => s.topics), ...t.fastData.projections.map((p) => t.fastData.topics.prUpdate(p)), ...[...HEAPS.map((heapMb) => ({ heapMb, containerMiB: 0 })), { heapMb: 0, containerMiB: CONTAINER_MIB }].map((setting) => `${NAME}-${tagOf(setting)}.control`)]);
    await admin.disconnect();
    const client = new MongoClient(MONGODB_URL);
    for (const database of databases) await client.db(database).dropDatabase().catch(() => undefined);
    await client.close();
  }
}

await main();
