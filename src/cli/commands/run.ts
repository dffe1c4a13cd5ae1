/**
 * `tributary run <topology-file>`: the topology against Kafka (and the registry and MongoDB when
 * configured) until SIGTERM/SIGINT, with the ops server (metrics, health, status, dashboard,
 * control). Before each start attempt the brokers are asked for the topics the streams read: a
 * missing one stops the start at once, naming it and the command that creates it, instead of
 * kafkajs retrying "This server does not host this topic-partition" for ever.
 */
import { TributaryError } from '../../errors.js';
import { createLogger, type Logger } from '../../ops/logger.js';
import { createMetrics, type Metrics } from '../../ops/metrics.js';
import { startOpsServer, type OpsServer } from '../../ops/http-server.js';
import { isLoopbackHost } from '../../ops/ops-auth.js';
import { MongoDocumentStore } from '../../store/mongo/mongo-store.js';
import type { DocumentStore } from '../../store/types.js';
import { FastDataTopology } from '../../fastdata/fast-data.js';
import { definitionStatus } from '../../fastdata/singleview/definitions.js';
import { stopOnSignals } from '../../stream/runtime/lifecycle.js';
import { runTopology, type RunningTopology } from '../../stream/runtime/runner.js';
import { confluentRegistry } from '../../stream/serdes/registry.js';
import type { KafkaTransportOptions } from '../../stream/transport/kafka/kafka-transport.js';
import type { Topology } from '../../stream/topology.js';
import { createDashboard, type Dashboard } from '../../dashboard/index.js';
import type { CommandSpec } from '../command.js';
import { redactedConfig, runConfig, type RunConfig } from '../config.js';
import { GENERAL, KAFKA_CLIENT, KAFKA_CONNECTION, MONGO, REGISTRY, TUNING } from '../config/settings.js';
import { readKafkaClient, runControlPlane, runTransport } from '../config/kafka-client-settings.js';
import type { SettingSource } from '../config/source.js';
import { kafkaTransportOptions } from '../kafka-client.js';
import { loadTopology } from '../load-topology.js';
import { inspectTopics } from '../topic-admin.js';
import { topicPlan, topicsRead } from '../topic-plan.js';
import { controlRoutes } from './control.js';

export const runSpec: CommandSpec = {
  name: 'run',
  summary: 'run a topology against Kafka (+ registry, MongoDB)',
  positionals: ['<topology-file>'],
  description: `Runs the topology against Kafka (and the schema registry and MongoDB when configured) until
SIGTERM/SIGINT: the first signal drains in-flight batches, commits and exits 0; a second exits now.
Every topic the streams read must exist ("tributary topics <file> --create" creates them); a
missing one stops the start with exit code 2. A start that fails on something transient
(TRB_CONNECT: a broker or database not up yet, or restarting) is retried with growing pauses for
up to 2 minutes; anything else exits at once. The ops server serves /metrics, /-/healthz,
/-/ready, /topology, /status, the live /dashboard, and the control API (POST /control/pause and
/control/resume with {"target": "<stream|stage|*>"}; see "tributary pause --help").`,
  sections: [
    { title: 'Run', keys: ['only', 'paused'] },
    { title: 'Ops server', keys: ['http-host', 'http-port', 'control-token', 'ops-token'], note: 'Bound beyond loopback (e.g. 0.0.0.0 for Kubernetes probes), set TRIBUTARY_OPS_TOKEN: the read routes show topics, streams and errors.' },
    KAFKA_CONNECTION,
    KAFKA_CLIENT,
    REGISTRY,
    MONGO,
    TUNING,
    GENERAL,
  ],
  footer: 'Exit codes: 0 stopped by a signal after draining, 1 failed, 2 bad configuration or missing topics, 130 a second signal (exit without draining).',
};

/**
 * The ops server of `run`: metrics, probes, topology, status (with the configuration, redacted),
 * control and dashboard routes, the tokens, and the process's Redactor over every body.
 */
export async function startRunOpsServer(options: {
  config: RunConfig;
  topology: Topology;
  metrics: Metrics;
  logger: Logger;
  running: () => RunningTopology | undefined;
  /** The store of the current start attempt, for the dashboard's single-view definitions. */
  store?: () => DocumentStore | undefined;
}): Promise<{ server: OpsServer; dashboard: Dashboard }> {
  const { config, topology, metrics, logger, running } = options;
  const notStarted = { ok: false, checks: { topology: { ok: false, detail: 'starting' } } };
  // Single-view definitions (blue/green): which one is live, and whether this process writes.
  const views = topology instanceof FastDataTopology ? topology.fastData.singleViews : [];
  const store = options.store;
  const definitions = views.length > 0 && store ? async () => { const current = store(); return current ? definitionStatus(views, current) : []; } : undefined;
  const dashboard = createDashboard(topology, running, definitions ? { definitions } : {});
  try {
    const server = await startOpsServer({
      host: config.ops.host,
      port: config.ops.port,
      metrics,
      health: () => running()?.health() ?? { ok: true, checks: {} },
      readiness: () => running()?.readiness() ?? notStarted,
      topology: () => ({ ...topology.describe().toJSON(), status: running()?.status() ?? [] }),
      ...(config.ops.controlToken ? { controlToken: config.ops.controlToken } : {}),
      ...(config.ops.readToken ? { readToken: config.ops.readToken } : {}),
      redactor: config.redactor,
      onError: (error, request) => logger.error({ err: error, ...request }, 'ops server request failed'),
      routes: [...controlRoutes(running, () => redactedConfig(config)), ...dashboard.routes],
    });
    return { server, dashboard };
  } catch (error) {
    dashboard.close();
    throw error;
  }
}

/** How long `run` keeps retrying a start that fails on something transient (a broker or database not up yet, or restarting). */
const START_TIMEOUT_MS = 120_000;

export async function runCommand(file: string, source: SettingSource): Promise<void> {
  const config = runConfig(source); // validated before anything connects
  const topology = await loadTopology(file);
  const client = readKafkaClient(source, topology.name);
  const logger = createLogger({ level: config.logLevel, redactor: config.redactor });
  const metrics = createMetrics();
  if (!isLoopbackHost(config.ops.host) && !config.ops.readToken) {
    logger.warn({ host: config.ops.host }, 'the ops server is bound beyond loopback without TRIBUTARY_OPS_TOKEN: /metrics, /topology, /status and /dashboard are open to anyone who reaches it');
  }
  // The ops server starts first, so /-/ready answers 503 while the streams join their groups.
  const live: { running?: RunningTopology } = {};
  const stores: { current?: DocumentStore } = {};
  const { server, dashboard } = await startRunOpsServer({ config, topology, metrics, logger, running: () => live.running, store: () => stores.current });
  const transportOptions = (): KafkaTransportOptions => kafkaTransportOptions(config.kafka, { clientId: topology.name, logger, producer: config.producer });
  // Each attempt gets fresh clients: a failed start has closed the previous ones.
  const attempt = async (n: number) => {
    await checkTopics(topology, file, config, transportOptions(), n === 1 ? logger : undefined);
    const transport = runTransport(client, transportOptions(), config.kafka.brokers);
    const desiredState = runControlPlane(client, transport);
    return runTopology(topology, {
      transport,
      ...(desiredState ? { desiredState } : {}),
      metrics,
      logger,
      ...(config.registry ? { registry: confluentRegistry({ url: config.registry.url, ...(config.registry.auth ? { auth: config.registry.auth } : {}) }) } : {}),
      ...(config.mongo ? { store: (stores.current = new MongoDocumentStore({ url: config.mongo.url, database: config.mongo.database, onClientReplaced: (cause) => logger.warn({ err: cause }, 'MongoDB client replaced (no server for a whole server-selection timeout, a call past operationTimeoutMs, or the client closed under the store); the next try uses a fresh client') })) } : {}),
      ...(config.only ? { only: config.only } : {}),
      ...(config.startPaused ? { startPaused: true } : {}),
      ...(Object.keys(config.consumer).length ? { consumer: config.consumer } : {}),
      ...(config.producer.maxMessageBytes !== undefined ? { maxMessageBytes: config.producer.maxMessageBytes } : {}),
    });
  };
  const cancelled = { value: false };
  const starting = startWithRetries(attempt, { logger, deadlineMs: START_TIMEOUT_MS, cancelled });
  // Handlers go in before the streams have all joined: a SIGTERM during start-up (a scale-in right
  // after a scale-out) waits for the start to finish, then drains and commits like any other.
  stopOnSignals({ stop: async () => ((cancelled.value = true), await (await starting.catch(() => undefined))?.stop(), dashboard.close(), await server.close()) }, { logger });
  try {
    live.running = await starting;
  } catch (error) {
    // A start that fails (bad credentials, a missing topic) must end the process: without this the
    // ops server and the signal handlers would keep it alive, serving a /-/ready that never turns.
    dashboard.close();
    await server.close().catch(() => undefined);
    throw error;
  }
  logger.info({ url: server.url }, 'ops server listening');
}

/**
 * Refuses to start while a topic the selected streams read is missing (TRB_CONFIG, naming each
 * and "tributary topics … --create"); warns (with `logger`) about missing topics they only write,
 * which work only where the brokers create topics on first write.
 */
async function checkTopics(topology: Topology, file: string, config: RunConfig, options: KafkaTransportOptions, logger: Logger | undefined): Promise<void> {
  const description = topology.describe().toJSON();
  const plan = topicPlan(description, config.only);
  const states = await inspectTopics(options, plan.map((t) => t.topic));
  const stages = new Map(description.subTopologies.map((s) => [s.name, s.stage]));
  const read = new Set(topicsRead(plan, stages, config.only).map((t) => t.topic));
  const missing = plan.filter((t) => states.get(t.topic) === undefined);
  const missingRead = missing.filter((t) => read.has(t.topic));
  const create = `tributary topics ${file}${config.only ? ` --only ${config.only.join(',')}` : ''} --create`;
  if (missingRead.length > 0) {
    const list = missingRead.map((t) => `${t.topic} (${t.role}, read by ${t.readBy.join(', ')})`).join('; ');
    throw new TributaryError('TRB_CONFIG', `${missingRead.length} topic${missingRead.length > 1 ? 's' : ''} the streams read ${missingRead.length > 1 ? 'are' : 'is'} missing on the brokers: ${list}. Create them with: ${create}`, {
      context: { missing: missingRead.map((t) => t.topic) },
    });
  }
  const missingWritten = missing.filter((t) => !read.has(t.topic)).map((t) => t.topic);
  if (missingWritten.length > 0) logger?.warn({ topics: missingWritten }, `topics written but missing: they work only if the brokers create topics on first write; else create them with: ${create}`);
}

/**
 * Starts the topology, retrying while the failure is transient (TRB_CONNECT: a broker restarting
 * during a deploy, a database not up yet) with a growing pause, up to `deadlineMs`. Anything not
 * retriable (refused credentials, a missing topic, a bad topology) fails at once.
 */
async function startWithRetries(attempt: (n: number) => Promise<RunningTopology>, options: { logger: Logger; deadlineMs: number; cancelled: { value: boolean } }): Promise<RunningTopology> {
  const deadline = Date.now() + options.deadlineMs;
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      const retriable = error instanceof TributaryError && error.retriable;
      if (!retriable || options.cancelled.value || Date.now() > deadline) throw error;
      const pauseMs = Math.min(10_000, 500 * 2 ** (n - 1));
      options.logger.warn({ code: error.code, attempt: n, pauseMs }, `start failed, retrying: ${error.message}`);
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }
}
