/** What the CLI tests share: running `bin/tributary.js`, a free port, waiting for a condition, the echo fixture's topics. */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createServer } from 'node:net';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { services, uniqueName } from '../integration/services.js';

export const cli = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, ['bin/tributary.js', ...args], { encoding: 'utf8', env: { ...process.env, LOG_LEVEL: 'warn', ...env }, timeout: 60_000 });

/** `tributary <args>` as a child process; its output is collected and `exited` resolves with its exit code. */
export function startCli(args: readonly string[], env: Record<string, string | undefined>): CliChild {
  const child = spawn(process.execPath, ['bin/tributary.js', ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // 'close' comes after both streams ended: everything printed has been read.
  const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, output: () => output, stdout: () => stdout, stderr: () => stderr, exited, closed };
}

export interface CliChild {
  readonly child: ChildProcessWithoutNullStreams;
  /** stdout and stderr as they came. */
  readonly output: () => string;
  readonly stdout: () => string;
  readonly stderr: () => string;
  readonly exited: Promise<number | null>;
  readonly closed: Promise<number | null>;
}

/** How a CLI child ended and what it printed. */
export interface CliRun {
  /** The exit code; null when it was killed (its time limit, or a signal). */
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `tributary <args>` to its end, killed after `timeoutMs`. Asynchronous on purpose: a topology
 * running in the test's own process keeps fetching and heartbeating meanwhile (a `spawnSync` froze
 * it for the child's whole run, long enough for its group session to lapse).
 */
export async function runCli(args: readonly string[], env: Record<string, string | undefined>, timeoutMs = 120_000): Promise<CliRun> {
  const run = startCli(args, env);
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    run.child.kill('SIGKILL');
  }, timeoutMs);
  try {
    const status = await run.closed;
    return { status, stdout: run.stdout(), stderr: killed ? `${run.stderr()}\n[killed after ${timeoutMs} ms]` : run.stderr() };
  } finally {
    clearTimeout(timer);
  }
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** An echo fixture's two topics, created on the plain listener, with ten JSON records waiting in the input. */
export interface EchoTopics {
  readonly input: string;
  readonly output: string;
  readonly admin: Admin;
  /** Records in the output so far (summed over partitions). */
  outputCount(): Promise<number>;
  /** Deletes both topics and disconnects. */
  remove(): Promise<void>;
}

export async function echoTopics(label: string): Promise<EchoTopics> {
  const input = uniqueName(`e2e-${label}-in`);
  const output = uniqueName(`e2e-${label}-out`);
  const kafka = new Kafka({ brokers: services.kafkaBrokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [input, output].map((topic) => ({ topic, numPartitions: 2 })), waitForLeaders: true });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: input, messages: Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: JSON.stringify({ i }) })) });
  await producer.disconnect();
  return {
    input,
    output,
    admin,
    outputCount: async () => (await admin.fetchTopicOffsets(output)).reduce((n, p) => n + Number(p.high), 0),
    remove: async () => {
      await admin.deleteTopics({ topics: [input, output] }).catch(() => undefined);
      await admin.disconnect();
    },
  };
}
