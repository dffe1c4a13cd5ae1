/**
 * The runtime as deployed: worker processes (test/fixtures/pass-through-worker.ts) on the real
 * broker, killed, stopped and scaled while they work. Every check waits for a condition with a
 * deadline; nothing asserts how long anything took.
 */
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { OutgoingMessage, TransportAdmin } from '../../src/stream/transport/types.js';
import { committedByPartition, committedToEnd, endOffsets, offsetsSnapshot, waitFor } from '../contract/helpers.js';
import { kafkaIo, type KafkaIo } from './kafka-env.js';
import { services, uniqueName } from './services.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
let io: KafkaIo;
let admin: TransportAdmin;

before(async () => {
  io = await kafkaIo();
  admin = io.control.admin;
});
after(async () => {
  await io.close();
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

interface Worker {
  readonly name: string;
  readonly url: string;
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The worker's stdout and stderr, for failure messages. */
  log(): string;
}

interface WorkerEnv {
  input: string;
  output: string;
  groupId: string;
  delayMs?: number;
}

async function spawnWorker(t: TestContext, name: string, env: WorkerEnv): Promise<Worker> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/pass-through-worker.ts'], {
    cwd: root,
    env: {
      ...process.env,
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
      KAFKA_BROKERS: services.kafkaBrokers.join(','),
      INPUT_TOPIC: env.input,
      OUTPUT_TOPIC: env.output,
      GROUP_ID: env.groupId,
      OPS_PORT: String(port),
      RECORD_DELAY_MS: String(env.delayMs ?? 0),
      WORKER_NAME: name,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: string[] = [];
  child.stdout?.on('data', (d: Buffer) => chunks.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => chunks.push(d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  return { name, url: `http://127.0.0.1:${port}`, child, exited, log: () => chunks.join('').slice(-4000) };
}

/** HTTP status of a GET, or undefined while nothing listens yet. */
async function status(url: string): Promise<number | undefined> {
  try {
    const response = await fetch(url);
    await response.arrayBuffer();
    return response.status;
  } catch {
    return undefined;
  }
}

/** Sum of every series of a metric in a Prometheus scrape (0 when absent or unreachable). */
async function metric(worker: Worker, name: string): Promise<number> {
  let body: string;
  try {
    const response = await fetch(`${worker.url}/metrics`);
    body = await response.text();
  } catch {
    return 0;
  }
  let total = 0;
  for (const line of body.split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

function records(input: string, from: number, count: number, partitions: number): OutgoingMessage[] {
  return Array.from({ length: count }, (_, i) => ({ topic: input, key: Buffer.from(`key-${from + i}`), value: Buffer.from(`value-${from + i}`), partition: (from + i) % partitions }));
}

async function topics(partitions: number) {
  const input = uniqueName('proc-in');
  const output = uniqueName('proc-out');
  await admin.createTopics([
    { topic: input, partitions },
    { topic: output, partitions },
  ]);
  return { input, output, groupId: uniqueName('proc-group') };
}

/** Every key of the output topic, once the output holds at least `count` records. */
async function outputKeys(output: string, count: number): Promise<Map<string, number>> {
  let read: Awaited<ReturnType<KafkaIo['read']>> = [];
  await waitFor(`${count} records in ${output}`, async () => (read = await io.read(output)).length >= count, { timeoutMs: 60_000, detail: () => read.length });
  const keys = new Map<string, number>();
  for (const r of read) {
    const key = r.key?.toString() ?? '';
    keys.set(key, (keys.get(key) ?? 0) + 1);
    assert.equal(r.value?.toString(), key.replace('key-', 'value-'), 'value copied with its key');
  }
  return keys;
}

function assertEveryKey(keys: Map<string, number>, count: number): void {
  const missing = Array.from({ length: count }, (_, i) => `key-${i}`).filter((k) => !keys.has(k));
  assert.deepEqual(missing, [], 'every input key reached the output');
}

describe('runtime in worker processes (kafka)', () => {
  it('a worker killed with SIGKILL mid-batch re-processes that batch after a restart and loses nothing', async (t) => {
    const { input, output, groupId } = await topics(3);
    const total = 240;
    await io.produce(records(input, 0, total, 3));

    const first = await spawnWorker(t, 'killed', { input, output, groupId, delayMs: 25 });
    await waitFor('the first worker started its batches', async () => (await metric(first, 'tributary_records_in_total')) > 0, { timeoutMs: 60_000, detail: first.log });
    first.child.kill('SIGKILL');
    const exit = await first.exited;
    assert.equal(exit.signal, 'SIGKILL');

    const ends = await endOffsets(admin, input);
    const atKill = await committedByPartition(admin, groupId, input);
    const unfinished = [...ends].reduce((n, [p, end]) => n + Number(end - ((atKill.get(p) ?? -1n) < 0n ? 0n : (atKill.get(p) as bigint))), 0);
    assert.ok(unfinished > 0, `the kill interrupted work in flight (committed ${JSON.stringify(Object.fromEntries([...atKill].map(([p, o]) => [p, String(o)])))})`);

    const second = await spawnWorker(t, 'restarted', { input, output, groupId });
    await waitFor('the restarted worker committed everything', () => committedToEnd(admin, groupId, input), {
      timeoutMs: 60_000,
      detail: async () => ({ offsets: await offsetsSnapshot(admin, groupId, input), log: second.log() }),
    });
    assert.ok((await metric(second, 'tributary_records_in_total')) >= unfinished, 'the restarted worker read every record not committed at the kill');
    assertEveryKey(await outputKeys(output, total), total);

    second.child.kill('SIGTERM');
    assert.equal((await second.exited).code, 0);
  });

  it('SIGTERM drains the batches in flight, commits them and exits 0; /metrics moves, /-/ready and /-/healthz answer', async (t) => {
    const { input, output, groupId } = await topics(3);
    const total = 150;
    await io.produce(records(input, 0, total, 3));

    const worker = await spawnWorker(t, 'drained', { input, output, groupId, delayMs: 20 });
    await waitFor('ops server listening', async () => (await status(`${worker.url}/-/healthz`)) !== undefined, { timeoutMs: 60_000, detail: worker.log });
    assert.equal(await status(`${worker.url}/-/healthz`), 200, 'alive while starting');
    await waitFor('/-/ready answers 200', async () => (await status(`${worker.url}/-/ready`)) === 200, { timeoutMs: 60_000, detail: worker.log });
    await waitFor('tributary_records_in_total moves', async () => (await metric(worker, 'tributary_records_in_total')) > 0, { timeoutMs: 60_000 });
    const topologyJson = (await (await fetch(`${worker.url}/topology`)).json()) as { subTopologies: Array<{ sources: Array<{ topic: string }> }> };
    assert.equal(topologyJson.subTopologies[0]?.sources[0]?.topic, input, '/topology describes the running topology');

    assert.equal(await committedToEnd(admin, groupId, input), false, 'batches still in flight when SIGTERM is sent');
    worker.child.kill('SIGTERM');
    const exit = await worker.exited;
    assert.equal(exit.code, 0, `exit code 0 after SIGTERM\n${worker.log()}`);
    const offsets = await offsetsSnapshot(admin, groupId, input);
    assert.deepEqual(offsets.committed, offsets.end, 'the drained batches were committed: committed offsets equal the input end offsets');
    assertEveryKey(await outputKeys(output, total), total);
  });

  it('two workers in one group share the partitions; stopping one mid-stream loses nothing; a joining worker is not ready until assigned', async (t) => {
    const partitions = 4;
    const { input, output, groupId } = await topics(partitions);
    let produced = 0;
    const produce = async (n: number) => {
      await io.produce(records(input, produced, n, partitions));
      produced += n;
    };
    await produce(200);

    const a = await spawnWorker(t, 'worker-a', { input, output, groupId, delayMs: 5 });
    await waitFor('a is ready', async () => (await status(`${a.url}/-/ready`)) === 200, { timeoutMs: 60_000, detail: a.log });
    await waitFor('a owns every partition', async () => (await metric(a, 'tributary_assigned_partitions')) === partitions, { timeoutMs: 60_000 });

    const b = await spawnWorker(t, 'worker-b', { input, output, groupId, delayMs: 5 });
    const readiness: number[] = [];
    await waitFor('b becomes ready', async () => {
      const code = await status(`${b.url}/-/ready`);
      if (code !== undefined) readiness.push(code);
      return code === 200;
    }, { timeoutMs: 60_000, intervalMs: 20, detail: b.log });
    assert.equal(readiness[0], 503, `b answered 503 before its assignment (answers: ${[...new Set(readiness)].join(', ')})`);
    await waitFor('a and b share the partitions', async () => {
      const [pa, pb] = await Promise.all([metric(a, 'tributary_assigned_partitions'), metric(b, 'tributary_assigned_partitions')]);
      return pa > 0 && pb > 0 && pa + pb === partitions;
    }, { timeoutMs: 60_000 });

    await produce(200);
    await waitFor('both workers consume', async () => (await metric(b, 'tributary_records_in_total')) > 0, { timeoutMs: 60_000 });
    const aBefore = await metric(a, 'tributary_records_in_total');
    assert.ok(aBefore > 0, 'a consumed');

    // Stop a while records keep arriving.
    await produce(200);
    a.child.kill('SIGTERM');
    await produce(200);
    assert.equal((await a.exited).code, 0, `a exited cleanly\n${a.log()}`);
    await produce(100);

    await waitFor('b took over every partition', async () => (await metric(b, 'tributary_assigned_partitions')) === partitions, { timeoutMs: 60_000 });
    await waitFor('the group committed everything', () => committedToEnd(admin, groupId, input), {
      timeoutMs: 60_000,
      detail: async () => ({ offsets: await offsetsSnapshot(admin, groupId, input), log: b.log() }),
    });
    assertEveryKey(await outputKeys(output, produced), produced);

    b.child.kill('SIGTERM');
    assert.equal((await b.exited).code, 0);
  });
});
