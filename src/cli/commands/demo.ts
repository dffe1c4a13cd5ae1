/**
 * The demo: customer-360 end to end. A seeded generator plays four source tables' CDC history
 * (every kind of change, duplicates and replays included) into the topology, on the embedded engine
 * (nothing to install, no network) or on real services, and the result is checked against two
 * references: the oracle (views recomputed from the projections) and the generated source tables.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { TributaryError } from '../../errors.js';
import { createLogger } from '../../ops/logger.js';
import { createMetrics, type Metrics } from '../../ops/metrics.js';
import type { Row } from '../../fastdata/cdc/change-event.js';
import type { FastDataTopology } from '../../fastdata/fast-data.js';
import type { SingleView } from '../../fastdata/singleview/single-view.js';
import { MongoDocumentStore } from '../../store/mongo/mongo-store.js';
import type { DocumentStore } from '../../store/types.js';
import { runTopology } from '../../stream/runtime/runner.js';
import { confluentRegistry, type SchemaRegistryClient } from '../../stream/serdes/registry.js';
import { kafkaTransport } from '../../stream/transport/kafka/kafka-transport.js';
import type { OutgoingMessage, Transport } from '../../stream/transport/types.js';
import { computeViews, storedViews } from '../../testing/oracle.js';
import { TestDriver } from '../../testing/test-driver.js';
import { loadConfig, type ConfigSource } from '../config.js';

/** A Fast Data topology as the demo runs it: its source topics, every topic it uses, the view it shows. */
export interface DemoTopology extends FastDataTopology {
  readonly sourceTopics: Readonly<Record<string, string>>;
  readonly allTopics: readonly string[];
  readonly view: SingleView;
}

/** CDC records in the order the sources wrote them. */
export type DemoHistory = ReadonlyArray<{ readonly topic: string; readonly key: unknown; readonly value: unknown }>;

/**
 * What the demo runs, handed to it by the CLI (the example lives in topologies/, the command
 * imports none): a topology, a seeded CDC history for it, and what the sources hold at the end.
 */
export interface DemoExample<T extends DemoTopology = DemoTopology, H extends DemoHistory = DemoHistory> {
  readonly name: string;
  /** The topology's file, for the next steps printed at the end. */
  readonly file: string;
  /** The standard topology, or (`run` given) one on topics and groups of its own. */
  topology(run?: { readonly id: string }): T;
  history(t: T, options: { readonly seed: number; readonly customers: number; readonly events: number; readonly keyUpdates?: boolean }): H;
  produce(producer: { send(messages: readonly OutgoingMessage[]): Promise<void> }, registry: SchemaRegistryClient, history: H): Promise<void>;
  /** What each projection must hold once the history is applied (live documents, declared fields). */
  expectedProjections(history: H): Record<string, Row[]>;
  /** What each projection holds, in the same shape. */
  liveProjections(t: T, store: DocumentStore): Promise<Record<string, Row[]>>;
  /** A few views worth printing, different from one another. */
  sample(views: readonly Row[]): Row[];
  show(view: Row): string[];
}

/** The generator's seed: the same history on every run, so the demo's numbers are reproducible. */
export const DEMO_SEED = 360;
/** The package root from this file: src/cli/commands in a checkout, dist/src/cli/commands once built. */
const PACKAGE_ROOT = import.meta.url.includes('/dist/src/') ? '../../../../' : '../../../';
const LOCAL = { registry: 'http://127.0.0.1:8081/apis/ccompat/v7', mongo: 'mongodb://127.0.0.1:27017/?directConnection=true' };

interface Engine {
  readonly label: string;
  readonly store: DocumentStore;
  readonly registry: SchemaRegistryClient;
  readonly metrics: Metrics;
  send(messages: readonly OutgoingMessage[]): Promise<void>;
  /** Resolves once every stream committed everything; throws after `timeoutMs`. */
  settle(timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

function count(flags: ConfigSource, name: string, fallback: number, max: number): number {
  const value = flags[name];
  const n = Number(value ?? fallback);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new TributaryError('TRB_CONFIG', `invalid --${name}=${JSON.stringify(value)}: expected an integer from 1 to ${max}`);
  return n;
}

export async function demoCommand<T extends DemoTopology, H extends DemoHistory>(
  flags: ConfigSource,
  print: (line: string) => void,
  example: DemoExample<T, H>,
  env: ConfigSource = process.env,
): Promise<void> {
  if (flags.cdc !== undefined) return cdcDemo();
  const events = count(flags, 'events', 20_000, 5_000_000);
  const customers = count(flags, 'customers', 500, 1_000_000);
  const real = flags.real !== undefined || [flags.kafka, flags['kafka-brokers'], flags.registry, flags.mongo, flags.config].some((f) => f !== undefined);
  // Validated before anything connects; environment variables only with --real.
  const config = loadConfig(flags.real !== undefined ? env : {}, { 'kafka-brokers': flags.kafka ?? flags['kafka-brokers'], registry: flags.registry, mongo: flags.mongo, config: flags.config });
  const run = `demo${Date.now().toString(36)}`;
  const t = real ? example.topology({ id: run }) : example.topology();
  const history = example.history(t, { seed: DEMO_SEED, customers, events });

  const engine = real
    ? await realEngine(t, { brokers: config.kafkaBrokers, registry: config.registryUrl ?? LOCAL.registry, mongo: config.mongoUrl ?? LOCAL.mongo, database: run.replace(/[^A-Za-z0-9_]/g, '_') })
    : await embeddedEngine(t);
  try {
    print(`${example.name} on ${engine.label}`);
    const bySource = Object.entries(t.sourceTopics).map(([table, topic]) => `${table} ${history.filter((r) => r.topic === topic).length}`);
    print(`${history.length} CDC records generated (seed ${DEMO_SEED}, ${customers} customers at snapshot): ${bySource.join(', ')}`);
    const started = performance.now();
    await example.produce({ send: (m) => engine.send(m) }, engine.registry, history);
    await engine.settle(real ? 600_000 : 900_000);
    const seconds = (performance.now() - started) / 1000;

    const views = await storedViews(t.view, engine.store);
    const oracle = await computeViews(t.view, engine.store);
    const projections = await example.liveProjections(t, engine.store);
    print(`\nSome views of ${t.view.name}:`);
    for (const v of example.sample([...views.values()])) for (const line of example.show(v)) print(`  ${line}`);
    const deadLetters = await total(engine.metrics, 'tributary_dead_letters_total');
    const rows = Object.entries(projections).map(([name, docs]) => `${name} ${docs.length}`);
    print(
      `\nSummary: ${history.length} events in, projections ${rows.join(', ')} (live rows), ${views.size} views, ${deadLetters} dead letters, ` +
        `${seconds.toFixed(2)} s (${Math.round(history.length / seconds).toLocaleString('en-US')} events/s on ${real ? 'real services' : 'the embedded engine'})`,
    );
    const viewsOk = isDeepStrictEqual(Object.fromEntries(views), Object.fromEntries(oracle));
    const projectionsOk = isDeepStrictEqual(projections, example.expectedProjections(history));
    const differing = [...new Set([...views.keys(), ...oracle.keys()])].filter((k) => !isDeepStrictEqual(views.get(k), oracle.get(k)));
    print(viewsOk ? `Check: views match the oracle (${views.size} of ${oracle.size})` : `Check: views DIFFER from the oracle: ${differing.length} of ${oracle.size}, e.g. ${differing.slice(0, 3).join(' ')}`);
    print(projectionsOk ? 'Check: projections match the source tables' : 'Check: projections DIFFER from the source tables');
    if (!viewsOk || !projectionsOk) throw new TributaryError('TRB_PROCESS', 'the demo did not build what the sources hold (see the checks above)');
    for (const line of nextSteps(example, real)) print(line);
  } finally {
    await engine.stop();
  }
}

/** Where to go from here, with paths that work from the current directory (a clone or a project that installed the package). */
function nextSteps(example: { readonly file: string }, real: boolean): string[] {
  const here = (path: string) => relative(process.cwd(), path) || '.';
  const tutorial = here(fileURLToPath(new URL(`${PACKAGE_ROOT}docs/tutorial.md`, import.meta.url)));
  const file = here(example.file);
  const steps: Array<[string, string]> = [
    [`npx tributary describe ${file} --format mermaid`, 'the topology that built these views, as a graph'],
    real
      ? [`npx tributary serve ${file} --mongo <url> --mongo-database <the database above>`, 'read the views over HTTP']
      : ['npx tributary demo --real', 'the same on Kafka, a schema registry and MongoDB (see --help)'],
    [tutorial, 'build your own: a bookstore from nothing, tested on the embedded engine, then on Kafka'],
  ];
  const width = Math.max(...steps.map(([command]) => command.length));
  return ['', 'Next steps:', ...steps.map(([command, what]) => `  ${command.padEnd(width)}   ${what}`)];
}

async function embeddedEngine(t: DemoTopology): Promise<Engine> {
  const driver = await TestDriver.start(t, { partitions: Object.fromEntries(t.allTopics.map((topic) => [topic, 3])) });
  return {
    label: 'the embedded engine (in-memory broker, schema registry and store; 3 partitions per topic)',
    store: driver.store,
    registry: driver.registry,
    metrics: driver.running.metrics,
    send: async (messages) => driver.broker.append(messages),
    settle: (timeoutMs) => driver.idle(timeoutMs),
    stop: () => driver.close(),
  };
}

async function realEngine(t: DemoTopology, at: { brokers: readonly string[]; registry: string; mongo: string; database: string }): Promise<Engine> {
  const control = kafkaTransport({ brokers: at.brokers, clientId: 'tributary-demo' });
  await control.connect();
  await control.admin.createTopics(t.allTopics.map((topic) => ({ topic, partitions: 3 })));
  const producer = await control.producer();
  const registry = confluentRegistry({ url: at.registry });
  const store = new MongoDocumentStore({ url: at.mongo, database: at.database, clientOptions: { serverSelectionTimeoutMS: 10_000 } });
  const metrics = createMetrics({ defaultMetrics: false });
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'warn' });
  const running = await runTopology(t, { transport: kafkaTransport({ brokers: at.brokers, clientId: t.name, logger }), registry, store, metrics, logger, consumer: { maxWaitMs: 100 } });
  return {
    label: `Kafka ${at.brokers.join(',')} (topics ${String(Object.values(t.sourceTopics)[0]).split('.')[0]}.*), registry ${at.registry}, database ${at.database}`,
    store,
    registry,
    metrics,
    send: (messages) => producer.send(messages),
    async settle(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      // Two empty checks in a row: an upstream commit and its downstream records land in either order.
      for (let quiet = 0; quiet < 2; ) {
        if (!running.health().ok) throw new TributaryError('TRB_PROCESS', `a stream failed: ${JSON.stringify(running.health().checks)}`);
        if (Date.now() > deadline) throw new TributaryError('TRB_ABORTED', `not caught up after ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 500));
        quiet = (await pending(control, t)) === 0 ? quiet + 1 : 0;
      }
    },
    async stop() {
      await running.stop();
      await control.disconnect();
      await store.close();
    },
  };
}

/** Records not yet committed, over every stream's group and topics. */
async function pending(control: Transport, t: DemoTopology): Promise<number> {
  let behind = 0;
  for (const s of t.streams()) {
    for (const topic of s.topics) {
      const committed = new Map((await control.admin.committedOffsets(s.groupId, topic)).map((o) => [o.partition, BigInt(o.offset)]));
      for (const { partition, high } of await control.admin.topicOffsets(topic)) {
        const at = committed.get(partition) ?? 0n; // -1: nothing committed yet
        behind += Number(BigInt(high) - (at > 0n ? at : 0n));
      }
    }
  }
  return behind;
}

async function total(metrics: Metrics, name: string): Promise<number> {
  const metric = await metrics.registry.getSingleMetric(name)?.get();
  return (metric?.values ?? []).reduce((n, v) => n + v.value, 0);
}

/** The real-CDC demo lives with its SQL under scripts/services/cdc: start the services, then run it with their addresses. */
function cdcDemo(): void {
  const root = fileURLToPath(new URL(PACKAGE_ROOT, import.meta.url));
  const infra = join(root, 'scripts', 'infra');
  if (!existsSync(infra)) throw new TributaryError('TRB_CONFIG', '--cdc needs the Tributary repository (scripts/infra and scripts/services/cdc)');
  const up = spawnSync('bash', [infra, 'up', '--cdc'], { stdio: 'inherit' });
  if (up.status !== 0) throw new TributaryError('TRB_CONNECT', 'scripts/infra up --cdc failed (see above)');
  const exported = spawnSync('bash', [infra, 'env'], { encoding: 'utf8' }).stdout;
  const env: Record<string, string | undefined> = { ...process.env };
  for (const [, name, value] of exported.matchAll(/^export (\w+)=(.*)$/gm)) env[name as string] = (value as string).replace(/\\(.)/g, '$1');
  const demo = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'scripts', 'services', 'cdc', 'demo.ts')], { stdio: 'inherit', env, cwd: root });
  if (demo.status !== 0) throw new TributaryError('TRB_PROCESS', `the CDC demo exited with ${demo.status ?? demo.signal}`);
}
