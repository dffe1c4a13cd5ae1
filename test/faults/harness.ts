/**
 * What every fault scenario shares: a customer-360 instance with its own topics, groups and
 * database; the worker as a real `tributary run` process (so SIGKILL is real) whose log lines are
 * counted by message; fault windows (the records a fault may have had handled twice); the end
 * check (views = oracle, projections = source tables, DLQ = exactly what was injected, every
 * change published within the at-least-once bound, worker healthy).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Kafka, logLevel, type IHeaders } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { MongoDocumentStore } from '../../src/store/mongo/mongo-store.js';
import { confluentRegistry } from '../../src/stream/serdes/registry.js';
import { DEFAULT_KAFKA_CLIENT, type KafkaClient } from '../../src/stream/transport/kafka-client.js';
import { kafkaTransport } from '../../src/stream/transport/kafka/kafka-transport.js';
import type { Transport } from '../../src/stream/transport/types.js';
import { computeViews, storedViews } from '../../src/testing/index.js';
import { customer360 } from '../../topologies/customer-360.js';
import { expectedProjections, liveProjections, type History } from '../../topologies/customer-360.generator.js';
import { caughtUp } from '../integration/kafka-env.js';
import { services, uniqueName } from '../integration/services.js';
import { canonicalKey, checkDelivery, deadLetterChange, prUpdateChange, svUpdateChange, versionOf, type ConsumedRecord, type DeliveryReport, type FaultWindow } from './delivery.js';

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

export interface TopicRecord extends ConsumedRecord {
  readonly partition: number;
  readonly offset: bigint;
}

export interface ScenarioOptions {
  /** The brokers the worker and the checks use (default: the suite's, KAFKA_BROKERS). */
  readonly brokers?: readonly string[];
  /** The worker's Kafka client (default: the default client, DEFAULT_KAFKA_CLIENT). */
  readonly client?: KafkaClient;
}

export class Scenario {
  readonly prefix: string;
  readonly name: string;
  readonly database: string;
  readonly brokers: readonly string[];
  readonly client: KafkaClient;
  readonly t: ReturnType<typeof customer360>;
  readonly store: MongoDocumentStore;
  readonly registry = confluentRegistry({ url: services.registryUrl });
  readonly control: Transport;
  readonly logs: string[] = [];
  /** The re-delivery windows the scenario's faults opened (delivery.ts). */
  readonly windows: FaultWindow[] = [];
  faults = 0;
  worker: Worker | undefined;
  /** How many times each log message (pino `msg`) appeared, over every worker of the scenario. */
  readonly #messages = new Map<string, number>();
  #started = 0;

  constructor(label: string, options: ScenarioOptions = {}) {
    this.prefix = `${uniqueName(`fault-${label}`)}.`;
    this.name = this.prefix.slice(0, -1);
    this.database = this.name.replace(/[^A-Za-z0-9_]/g, '_');
    this.brokers = options.brokers ?? services.kafkaBrokers;
    this.client = options.client ?? DEFAULT_KAFKA_CLIENT;
    this.t = customer360({ topicPrefix: this.prefix, name: this.name });
    this.store = new MongoDocumentStore({ url: services.mongoUrl, database: this.database, clientOptions: { serverSelectionTimeoutMS: 30_000 } });
    this.control = kafkaTransport({ brokers: this.brokers, clientId: `${label}-control` });
  }

  async setUp(): Promise<void> {
    await this.control.connect();
    // Right after a broker restart (the previous scenario's) a new topic's metadata can lag: kafkajs
    // then fails createTopics with UNKNOWN_TOPIC_OR_PARTITION (retriable). Existing topics are skipped.
    await retrying(() => this.control.admin.createTopics(this.t.allTopics.map((topic) => ({ topic, partitions: 3 }))));
  }

  /** The topics the worker writes (pr-update, sv-trigger, sv-update): every topic but the sources. */
  get outputTopics(): string[] {
    const sources = new Set(Object.values(this.t.sourceTopics));
    return this.t.allTopics.filter((topic) => !sources.has(topic));
  }

  /** `tributary run` of customer-360 with this scenario's names, as an OS process; its log lines (stdout) are counted. */
  async startWorker(): Promise<Worker> {
    const port = await freePort();
    const child = spawn(process.execPath, ['bin/tributary.js', 'run', 'test/integration/fixtures/customer-360-scaled.ts', '--http-port', String(port)], {
      env: { ...process.env, LOG_LEVEL: 'warn', KAFKA_CLIENT: this.client, C360_PREFIX: this.prefix, C360_NAME: this.name, MONGODB_DATABASE: this.database, KAFKA_BROKERS: this.brokers.join(','), SCHEMA_REGISTRY_URL: services.registryUrl, MONGODB_URL: services.mongoUrl },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let partial = '';
    const keep = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.length > 200_000) output = output.slice(-100_000);
    };
    child.stdout?.on('data', (chunk: Buffer) => {
      keep(chunk);
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) this.#count(line);
    });
    child.stderr?.on('data', keep);
    // FAULTS_LOG_DIR keeps every worker's whole output, one file per process, for a failure's post-mortem.
    const logDir = process.env['FAULTS_LOG_DIR'];
    if (logDir) {
      mkdirSync(logDir, { recursive: true });
      const file = createWriteStream(join(logDir, `${this.name}-worker-${++this.#started}.log`));
      child.stdout?.pipe(file);
      child.stderr?.pipe(file);
    }
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    this.worker = { child, port, exited, output: () => output };
    return this.worker;
  }

  #count(line: string): void {
    if (!line.startsWith('{')) return;
    try {
      const msg = (JSON.parse(line) as { msg?: unknown }).msg;
      if (typeof msg === 'string') this.#messages.set(msg, (this.#messages.get(msg) ?? 0) + 1);
    } catch {
      // not a log line
    }
  }

  /** How many log lines of the scenario's workers had a message matching `pattern`. */
  logged(pattern: RegExp): number {
    let n = 0;
    for (const [msg, count] of this.#messages) if (pattern.test(msg)) n += count;
    return n;
  }

  /** Waits until the worker's streams have all joined (/-/ready answers 200). */
  async ready(timeoutMs = 90_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${this.worker?.port}/-/ready`).then((r) => r.ok, () => false);
      if (ok) return;
      assert.equal(this.worker?.child.exitCode ?? null, null, `the worker exited before it was ready\n${this.worker?.output().slice(-3000) ?? ''}`);
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

  /** SIGKILL of the worker as a fault: its window is what the group had not committed when it died. */
  async crashWorker(label: string): Promise<void> {
    await this.killWorker('SIGKILL');
    const { committed, ends } = await this.positions();
    this.#open(label, committed, ends);
  }

  /**
   * A fault of a service: `inject` crashes or stops something and brings it back; the window runs
   * from the ingest groups' committed offsets before it to the partitions' ends once the worker has
   * caught up after it (a producer the broker forgot fails on its next send, after the restart).
   */
  async fault(label: string, inject: () => Promise<void>, deadlineMs: number): Promise<void> {
    const { committed } = await this.positions();
    await inject();
    await this.caughtUp(deadlineMs);
    const { ends } = await this.positions();
    this.#open(label, committed, ends);
  }

  #open(label: string, committed: ReadonlyMap<string, bigint>, ends: ReadonlyMap<string, bigint>): void {
    this.faults++;
    for (const [at, to] of ends) {
      const [topic, partition] = splitAt(at);
      this.windows.push({ fault: label, topic, partition, from: committed.get(at) ?? 0n, to });
    }
  }

  /** Per source partition (`topic/partition`): the ingest group's committed offset, and the partition's end. */
  async positions(): Promise<{ committed: Map<string, bigint>; ends: Map<string, bigint> }> {
    const committed = new Map<string, bigint>();
    const ends = new Map<string, bigint>();
    for (const topic of Object.values(this.t.sourceTopics)) {
      const stream = this.t.streams().find((s) => s.topics.includes(topic));
      assert.ok(stream, `no stream reads ${topic}`);
      for (const o of await this.control.admin.committedOffsets(stream.groupId, topic)) if (BigInt(o.offset) >= 0n) committed.set(`${topic}/${o.partition}`, BigInt(o.offset));
      for (const o of await this.control.admin.topicOffsets(topic)) ends.set(`${topic}/${o.partition}`, BigInt(o.high));
    }
    return { committed, ends };
  }

  /** Every group committed everything (twice in a row: an upstream commit and its downstream records land in either order). */
  async caughtUp(deadlineMs: number): Promise<void> {
    await caughtUp(this.control, this.t.streams(), {
      deadlineMs,
      // A stream stopped by an error will never catch up: say so now, with its status, not at the deadline.
      check: async () => {
        const code = this.worker?.child.exitCode ?? null;
        assert.equal(code, null, `the worker exited (${code}) while the run was catching up:\n${this.worker?.output().slice(-4000) ?? ''}`);
        const health = this.worker ? await fetch(`http://127.0.0.1:${this.worker.port}/-/healthz`).then(async (r) => (r.status === 503 ? await r.text() : undefined), () => undefined) : undefined;
        assert.equal(health, undefined, `the worker reports a failed stream: ${health}`);
      },
      describe: async () => {
        const status = this.worker ? await fetch(`http://127.0.0.1:${this.worker.port}/status`).then((r) => r.text(), (e: unknown) => String(e)) : 'no worker';
        return `behind, per group: ${await this.behind().catch((e: unknown) => String(e))}\nworker /status: ${status}\n${this.worker?.output().slice(-3000) ?? ''}`;
      },
    });
  }

  /** Which groups have not committed what (a stuck stream named in a failure). */
  async behind(): Promise<string> {
    const lines: string[] = [];
    for (const stream of this.t.streams()) {
      for (const topic of stream.topics) {
        const committed = new Map((await this.control.admin.committedOffsets(stream.groupId, topic)).map((o) => [o.partition, BigInt(o.offset)]));
        for (const { partition, high } of await this.control.admin.topicOffsets(topic)) {
          const at = committed.get(partition) ?? -1n;
          if (BigInt(high) > (at < 0n ? 0n : at)) lines.push(`${stream.name} ${topic}/${partition}: committed ${at}, end ${high}`);
        }
      }
    }
    return lines.join('; ') || 'none';
  }

  /** Every record of `topics` (those that exist), read from the beginning. */
  async read(topics: readonly string[]): Promise<TopicRecord[]> {
    const kafka = new Kafka({ brokers: [...this.brokers], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((topic) => existing.has(topic));
    let total = 0;
    for (const topic of present) for (const o of await admin.fetchTopicOffsets(topic)) total += Number(o.high) - Number(o.low);
    await admin.disconnect();
    if (total === 0) return [];
    const records: TopicRecord[] = [];
    const consumer = kafka.consumer({ groupId: uniqueName('fault-reader'), maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topics: present, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => void records.push({ topic, partition, offset: BigInt(message.offset), key: message.key, value: message.value, headers: text(message.headers) }),
    });
    const deadline = Date.now() + 60_000;
    while (records.length < total && Date.now() < deadline) await sleep(200);
    await consumer.disconnect();
    assert.equal(records.length, total, `read ${records.length} of the ${total} records of ${present.join(', ')}`);
    return records;
  }

  /** Every record of the dead-letter topics of the source topics. */
  deadLetters(): Promise<TopicRecord[]> {
    return this.read(Object.values(this.t.sourceTopics).map((topic) => `${topic}.dlq`));
  }

  /**
   * What consumers saw: each pr-update, sv-update and dead letter named by its change, counted
   * against the at-least-once bound (delivery.ts); and nothing lost — every stored projection
   * document's version was announced by a pr-update.
   */
  async assertDelivery(): Promise<DeliveryReport> {
    const { prUpdate, svUpdate } = this.t.fastData.topics;
    const projections = [this.t.customers, this.t.orders, this.t.orderLines, this.t.preferences];
    const prRecords = await this.read(projections.map(prUpdate));
    const prUpdates = prRecords.map(prUpdateChange);
    const svUpdates = (await this.read([svUpdate(this.t.customerView)])).map(svUpdateChange);
    const letters = (await this.deadLetters()).map(deadLetterChange);
    const report = checkDelivery([...prUpdates, ...svUpdates, ...letters], this.windows, this.faults);
    assert.deepEqual(report.violations.slice(0, 20), [], `${report.violations.length} changes published more often than the at-least-once bound allows`);
    // A version (the last event applied to a document) is announced by the pr-update whose `after` it is.
    const announced = new Set(prUpdates.map((p, i) => `${prRecords[i]?.topic} ${canonicalKey(prRecords[i]?.key ?? null)} ${p.announces}`));
    const unannounced: string[] = [];
    for (const p of projections) {
      for (const doc of await this.store.collection(p.name).find({})) {
        const info = doc['__internal__kafkaInfo'] as { topic: string; partition: number; offset: string };
        const version = `${prUpdate(p)} ${JSON.stringify(Object.fromEntries(p.primaryKey.map((k) => [k, doc[k]])))} ${versionOf({ topic: info.topic, partition: info.partition, offset: BigInt(info.offset) })}`;
        if (!announced.has(version)) unannounced.push(version);
      }
    }
    assert.deepEqual(unannounced.slice(0, 20), [], `${unannounced.length} stored projection versions never reached the pr-update consumers`);
    return report;
  }

  /** The end state every scenario must reach; returns the dead letters. */
  async assertConverged(history: History, expectedDeadLetters = 0): Promise<TopicRecord[]> {
    const views = Object.fromEntries(await storedViews(this.t.customerView, this.store));
    assert.deepStrictEqual(views, Object.fromEntries(await computeViews(this.t.customerView, this.store)), 'views differ from the oracle');
    assert.ok(Object.keys(views).length > 0, 'no views at all');
    // Projections equal the final source rows: none is older than its newest event, none is missing.
    assert.deepStrictEqual(await liveProjections(this.t, this.store), expectedProjections(history.truth), 'a projection differs from its source table');
    const letters = await this.deadLetters();
    const distinct = new Set(letters.map((l) => deadLetterChange(l).change));
    assert.equal(distinct.size, expectedDeadLetters, `dead letters: ${letters.map((l) => `${l.topic} ${l.headers['tributary.error.code']}`).join(', ')}`);
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

/** `action`, tried again (up to 5 times, a second apart) while it fails with a retriable error. */
export async function retrying<T>(action: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await action();
    } catch (error) {
      const retriable = (error as { retriable?: unknown }).retriable === true || (error as { cause?: { retriable?: unknown } }).cause?.retriable === true;
      if (!retriable || attempt >= 5) throw error;
      await sleep(1_000);
    }
  }
}

function splitAt(at: string): [string, number] {
  const slash = at.lastIndexOf('/');
  return [at.slice(0, slash), Number(at.slice(slash + 1))];
}

function text(headers: IHeaders | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k, Array.isArray(v) ? String(v[0]) : String(v ?? '')]));
}
