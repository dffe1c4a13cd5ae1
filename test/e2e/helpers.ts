/** What the CLI tests share: running `bin/tributary.js`, a free port, waiting for a condition, the echo fixture's topics. */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createServer } from 'node:net';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { services, uniqueName } from '../integration/services.js';

export const cli = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, ['bin/tributary.js', ...args], { encoding: 'utf8', env: { ...process.env, LOG_LEVEL: 'warn', ...env }, timeout: 60_000 });

/** `tributary <args>` as a child process; its output is collected and `exited` resolves with its exit code. */
export function startCli(args: string[], env: Record<string, string | undefined>): { child: ChildProcessWithoutNullStreams; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['bin/tributary.js', ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
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
