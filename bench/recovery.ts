/**
 * Recovery after a crash: a worker (bench/lib/recovery-worker.ts, a pass-through topology) runs
 * under a steady load, is SIGKILLed (no leave, no commit: its group membership just goes silent) and
 * restarted at once, as a supervisor would. Measured from the restart (spawn of the new process):
 *   firstMovingMs  until the group commits progress on any partition
 *   allMovingMs    until it has committed progress on every partition ("partitions moving again")
 * for each configuration of the Kafka client:
 *   kafkajs                 classic group protocol, no static membership (the old default)
 *   platformatic-classic    classic protocol, no static membership
 *   platformatic-static     classic protocol + static membership (group.instance.id kept across the restart)
 *   platformatic-kip848     KIP-848 consumer group protocol
 *   platformatic-kip848-static  KIP-848 + static membership
 * The dead member's session is what the restart waits for without static membership: kafkajs'
 * classic rebalance waits out its 30 s session; a static member that comes back under the same id
 * takes its place at once. Target: allMovingMs ≤ 5 000 for the default configuration.
 *
 *   npm run bench -- recovery
 *
 * Env: KAFKA_BROKERS, BENCH_RECOVERY_CONFIGS (comma list of the names above, default all),
 * BENCH_RECOVERY_RATE (records/s fed, 600), BENCH_RECOVERY_DEADLINE_MS (120000).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { compiled } from './lib/compiled.js';
import { createTopic, positiveInt, sleep, writeResult, deleteTopics } from './lib/harness.js';

const BROKERS = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',').map((b) => b.trim());
const RATE = positiveInt('BENCH_RECOVERY_RATE', 600);
const DEADLINE_MS = positiveInt('BENCH_RECOVERY_DEADLINE_MS', 120_000);
const PARTITIONS = 6;
const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
const WORKER = compiled('bench/lib/recovery-worker.ts');

interface Config {
  readonly name: string;
  readonly client: 'kafkajs' | 'platformatic';
  readonly groupProtocol: 'classic' | 'consumer';
  readonly staticMembership: boolean;
}

const CONFIGS: readonly Config[] = [
  { name: 'kafkajs', client: 'kafkajs', groupProtocol: 'classic', staticMembership: false },
  { name: 'platformatic-classic', client: 'platformatic', groupProtocol: 'classic', staticMembership: false },
  { name: 'platformatic-static', client: 'platformatic', groupProtocol: 'classic', staticMembership: true },
  { name: 'platformatic-kip848', client: 'platformatic', groupProtocol: 'consumer', staticMembership: false },
  { name: 'platformatic-kip848-static', client: 'platformatic', groupProtocol: 'consumer', staticMembership: true },
];
const SELECTED = (process.env['BENCH_RECOVERY_CONFIGS'] ?? CONFIGS.map((c) => c.name).join(',')).split(',').map((s) => s.trim());

interface Result {
  readonly config: string;
  readonly client: string;
  readonly groupProtocol: string;
  readonly staticMembership: boolean;
  /** Restart → the new process printed 'started' (its streams have joined their group). */
  readonly startedMs: number | null;
  readonly firstMovingMs: number | null;
  readonly allMovingMs: number | null;
  readonly metTarget: boolean;
}

function startWorker(config: Config, topics: { input: string; output: string; group: string }): { child: ChildProcess; started: Promise<number> } {
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, [WORKER], {
    env: {
      ...process.env,
      KAFKA_BROKERS: BROKERS.join(','),
      RECOVERY_INPUT: topics.input,
      RECOVERY_OUTPUT: topics.output,
      RECOVERY_GROUP: topics.group,
      RECOVERY_CLIENT: config.client,
      RECOVERY_GROUP_PROTOCOL: config.groupProtocol,
      RECOVERY_INSTANCE_ID: config.staticMembership ? `bench-recovery-worker-1` : '',
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const started = new Promise<number>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('started')) resolve(performance.now() - spawnedAt);
    });
    child.once('exit', (code, signal) => reject(new Error(`worker exited (${code ?? signal}) before it started`)));
  });
  started.catch(() => undefined);
  return { child, started };
}

async function committed(admin: Admin, group: string, topic: string): Promise<Map<number, bigint>> {
  const [entry] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  return new Map((entry?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
}

/** Feeds RATE records/s, spread evenly over the partitions, until stopped. */
function feed(kafka: Kafka, topic: string): { stop(): Promise<void> } {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  let running = true;
  const done = (async () => {
    await producer.connect();
    const perTick = Math.max(PARTITIONS, Math.round(RATE / 20));
    let n = 0;
    while (running) {
      const messages = Array.from({ length: perTick }, () => ({ partition: n % PARTITIONS, key: `k${n}`, value: `v${n++}` }));
      await producer.send({ topic, messages, acks: -1 });
      await sleep(50);
    }
    await producer.disconnect();
  })();
  return {
    async stop() {
      running = false;
      await done;
    },
  };
}

async function measure(kafka: Kafka, admin: Admin, config: Config): Promise<Result> {
  const topics = { input: `bench.recovery.${RUN}.${config.name}.in`, output: `bench.recovery.${RUN}.${config.name}.out`, group: `bench.recovery.${RUN}.${config.name}` };
  await createTopic(admin, topics.input, PARTITIONS);
  await createTopic(admin, topics.output, PARTITIONS);
  const feeder = feed(kafka, topics.input);
  let worker = startWorker(config, topics);
  try {
    await worker.started;
    // Warm: every partition has committed progress at least once.
    const warmDeadline = Date.now() + DEADLINE_MS;
    while ((await committed(admin, topics.group, topics.input)).size < PARTITIONS || [...(await committed(admin, topics.group, topics.input)).values()].some((o) => o <= 0n)) {
      if (Date.now() > warmDeadline) throw new Error(`${config.name}: the first worker never committed on every partition`);
      await sleep(200);
    }
    await sleep(2_000);
    worker.child.kill('SIGKILL');
    await new Promise((resolve) => worker.child.once('exit', resolve));
    const before = await committed(admin, topics.group, topics.input);
    const restartedAt = performance.now();
    worker = startWorker(config, topics);
    let firstMovingMs: number | null = null;
    let allMovingMs: number | null = null;
    while (performance.now() - restartedAt < DEADLINE_MS) {
      const now = await committed(admin, topics.group, topics.input);
      const moved = [...before].filter(([p, at]) => (now.get(p) ?? -1n) > at).length;
      if (moved > 0 && firstMovingMs === null) firstMovingMs = Math.round(performance.now() - restartedAt);
      if (moved === PARTITIONS) {
        allMovingMs = Math.round(performance.now() - restartedAt);
        break;
      }
      await sleep(100);
    }
    const startedMs = await Promise.race([worker.started.then(Math.round), sleep(1).then(() => null)]);
    const result = { config: config.name, client: config.client, groupProtocol: config.groupProtocol, staticMembership: config.staticMembership, startedMs, firstMovingMs, allMovingMs, metTarget: allMovingMs !== null && allMovingMs <= 5_000 };
    console.log(`  ${config.name.padEnd(28)} restart → started ${startedMs ?? '—'} ms, first partition moving ${firstMovingMs ?? '—'} ms, all ${PARTITIONS} moving ${allMovingMs ?? `not within ${DEADLINE_MS} ms`}`);
    return result;
  } finally {
    worker.child.kill('SIGTERM');
    await Promise.race([new Promise((resolve) => worker.child.once('exit', resolve)), sleep(15_000)]);
    worker.child.kill('SIGKILL');
    await feeder.stop();
    await deleteTopics(admin, [topics.input, topics.output]);
  }
}

async function main(): Promise<void> {
  console.log(`recovery: SIGKILL a worker under ${RATE} records/s over ${PARTITIONS} partitions, restart it at once; brokers ${BROKERS.join(',')}`);
  const kafka = new Kafka({ clientId: 'bench-recovery', brokers: BROKERS, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const results: Result[] = [];
  try {
    for (const config of CONFIGS.filter((c) => SELECTED.includes(c.name))) results.push(await measure(kafka, admin, config));
  } finally {
    await admin.disconnect();
  }
  await writeResult('recovery', {
    environment: { node: process.version, cpus: os.cpus().length, loadAverage: os.loadavg(), kafka: '4.3.1 single broker (KRaft, scripts/infra)' },
    parameters: { ratePerSecond: RATE, partitions: PARTITIONS, deadlineMs: DEADLINE_MS, targetMs: 5_000, sessionTimeoutMs: 30_000 },
    results,
  });
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
