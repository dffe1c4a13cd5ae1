/**
 * What every fault scenario shares: a customer-360 instance with its own topics, groups and
 * database; the worker as a real `tributary run` process (so SIGKILL is real); the end check
 * (views = oracle, projections = source tables, DLQ = exactly what was injected, worker healthy).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Kafka, logLevel, type IHeaders } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { MongoDocumentStore } from '../../src/store/mongo/mongo-store.js';
import { confluentRegistry } from '../../src/stream/serdes/registry.js';
import { kafkaTransport } from '../../src/stream/transport/kafka/kafka-transport.js';
import type { Transport } from '../../src/stream/transport/types.js';
import { computeViews, storedViews } from '../../src/testing/index.js';
import { customer360 } from '../../topologies/customer-360.js';
import { expectedProjections, liveProjections, type History } from '../../topologies/customer-360.generator.js';
import { caughtUp } from '../integration/kafka-env.js';
import { services, uniqueName } from '../integration/services.js';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface Worker {
  readonly child: ChildProcess;
  readonly port: number;
  readonly exited: Promise<number | null>;
  output(): string;
}

export interface DeadLetter {
  readonly topic: string;
  readonly value: Buffer | null;
  readonly headers: Record<string, string>;
}

export class Scenario {
  readonly prefix: string;
  readonly name: string;
  readonly database: string;
  readonly t: ReturnType<typeof customer360>;
  readonly store: MongoDocumentStore;
  readonly registry = confluentRegistry({ url: services.registryUrl });
  readonly control: Transport;
  readonly logs: string[] = [];
  worker: Worker | undefined;

  constructor(label: string) {
    this.prefix = `${uniqueName(`fault-${label}`)}.`;
    this.name = this.prefix.slice(0, -1);
    this.database = this.name.replace(/[^A-Za-z0-9_]/g, '_');
    this.t = customer360({ topicPrefix: this.prefix, name: this.name });
    this.store = new MongoDocumentStore({ url: services.mongoUrl, database: this.database, clientOptions: { serverSelectionTimeoutMS: 30_000 } });
    this.control = kafkaTransport({ brokers: services.kafkaBrokers, clientId: `${label}-control` });
  }

  async setUp(): Promise<void> {
    await this.control.connect();
    await this.control.admin.createTopics(this.t.allTopics.map((topic) => ({ topic, partitions: 3 })));
  }

  /** `tributary run` of customer-360 with this scenario's names, as an OS process. */
  async startWorker(): Promise<Worker> {
    const port = await freePort();
    const child = spawn(process.execPath, ['bin/tributary.js', 'run', 'test/integration/fixtures/customer-360-scaled.ts', '--http-port', String(port)], {
      env: { ...process.env, LOG_LEVEL: 'warn', C360_PREFIX: this.prefix, C360_NAME: this.name, MONGODB_DATABASE: this.database, KAFKA_BROKERS: services.kafkaBrokers.join(','), SCHEMA_REGISTRY_URL: services.registryUrl, MONGODB_URL: services.mongoUrl },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let output = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.length > 200_000) output = output.slice(-100_000);
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    this.worker = { child, port, exited, output: () => output };
    return this.worker;
  }

  /** Waits until the worker's streams have all joined (/-/ready answers 200). */
  async ready(timeoutMs = 90_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${this.worker?.port}/-/ready`).then((r) => r.ok, () => false);
      if (ok) return;
      assert.ok(Date.now() < deadline, `worker not ready after ${timeoutMs} ms\n${this.worker?.output().slice(-3000) ?? ''}`);
      await sleep(250);
    }
  }

  async killWorker(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.logs.push(worker.output());
    worker.child.kill(signal);
    await worker.exited;
    this.worker = undefined;
  }

  /** Every group committed everything (twice in a row: an upstream commit and its downstream records land in either order). */
  async caughtUp(deadlineMs: number): Promise<void> {
    await caughtUp(this.control, this.t.streams(), {
      deadlineMs,
      // A stream stopped by an error will never catch up: say so now, with its status, not at the deadline.
      check: async () => {
        const health = this.worker ? await fetch(`http://127.0.0.1:${this.worker.port}/-/healthz`).then(async (r) => (r.status === 503 ? await r.text() : undefined), () => undefined) : undefined;
        assert.equal(health, undefined, `the worker reports a failed stream: ${health}`);
      },
      describe: async () => {
        const status = this.worker ? await fetch(`http://127.0.0.1:${this.worker.port}/status`).then((r) => r.text(), (e: unknown) => String(e)) : 'no worker';
        return `worker /status: ${status}\n${this.worker?.output().slice(-3000) ?? ''}`;
      },
    });
  }

  /** Every record of the dead-letter topics of the source topics. */
  async deadLetters(): Promise<DeadLetter[]> {
    const kafka = new Kafka({ brokers: services.kafkaBrokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const existing = new Set(await admin.listTopics());
    const topics = Object.values(this.t.sourceTopics).map((topic) => `${topic}.dlq`).filter((topic) => existing.has(topic));
    let total = 0;
    for (const topic of topics) for (const o of await admin.fetchTopicOffsets(topic)) total += Number(o.high) - Number(o.low);
    await admin.disconnect();
    if (total === 0) return [];
    const letters: DeadLetter[] = [];
    const consumer = kafka.consumer({ groupId: uniqueName('dlq-reader') });
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ topic, message }) => void letters.push({ topic, value: message.value, headers: text(message.headers) }) });
    const deadline = Date.now() + 30_000;
    while (letters.length < total && Date.now() < deadline) await sleep(200);
    await consumer.disconnect();
    return letters;
  }

  /** The end state every scenario must reach. */
  async assertConverged(history: History, expectedDeadLetters = 0): Promise<DeadLetter[]> {
    const views = Object.fromEntries(await storedViews(this.t.customerView, this.store));
    assert.deepStrictEqual(views, Object.fromEntries(await computeViews(this.t.customerView, this.store)), 'views differ from the oracle');
    assert.ok(Object.keys(views).length > 0, 'no views at all');
    // Projections equal the final source rows: none is older than its newest event, none is missing.
    assert.deepStrictEqual(await liveProjections(this.t, this.store), expectedProjections(history.truth), 'a projection differs from its source table');
    const letters = await this.deadLetters();
    assert.equal(letters.length, expectedDeadLetters, `dead letters: ${letters.map((l) => `${l.topic} ${l.headers['tributary.error.code']}`).join(', ')}`);
    if (this.worker) {
      const health = await fetch(`http://127.0.0.1:${this.worker.port}/-/healthz`);
      assert.equal(health.status, 200, `worker unhealthy: ${await health.text()}`);
    }
    return letters;
  }

  async tearDown(): Promise<void> {
    await this.killWorker('SIGTERM').catch(() => undefined);
    await this.control.disconnect().catch(() => undefined);
    await this.store.close().catch(() => undefined);
    const client = new MongoClient(services.mongoUrl, { serverSelectionTimeoutMS: 30_000 });
    try {
      await client.db(this.database).dropDatabase();
    } finally {
      await client.close();
    }
  }
}

function text(headers: IHeaders | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k, Array.isArray(v) ? String(v[0]) : String(v ?? '')]));
}

/**
 * Restarts one of our local services through the project's own script. scripts/infra leaves a
 * service alone when its variable (KAFKA_BROKERS, MONGODB_URL) is set, treating it as external, so
 * the variable is removed for the call; a suite pointed at someone else's service cannot restart
 * it and fails here, saying so.
 */
export async function restartService(service: 'kafka' | 'mongo'): Promise<void> {
  const local = service === 'kafka' ? '127.0.0.1:9092' : 'mongodb://127.0.0.1:27017/?directConnection=true';
  const configured = service === 'kafka' ? services.kafkaBrokers.join(',') : services.mongoUrl;
  assert.equal(configured, local, `the fault suite restarts the local ${service} of scripts/infra; it is configured as ${configured}`);
  const env = { ...process.env };
  delete env[service === 'kafka' ? 'KAFKA_BROKERS' : 'MONGODB_URL'];
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn('bash', ['scripts/infra', 'restart', service], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (c: Buffer) => (text += c.toString()));
    child.stderr.on('data', (c: Buffer) => (text += c.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`scripts/infra restart ${service} exited ${code}:\n${text}`))));
  });
  assert.match(output, new RegExp(`${service}: ready in`), `scripts/infra did not restart ${service}:\n${output}`);
}
