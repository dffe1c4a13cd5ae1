import { TributaryError } from '../../errors.js';
import { createLogger } from '../../ops/logger.js';
import { createMetrics } from '../../ops/metrics.js';
import { startOpsServer } from '../../ops/http-server.js';
import { MongoDocumentStore } from '../../store/mongo/mongo-store.js';
import { stopOnSignals } from '../../stream/runtime/lifecycle.js';
import { runTopology, type RunningTopology } from '../../stream/runtime/runner.js';
import { confluentRegistry } from '../../stream/serdes/registry.js';
import { kafkaTransport } from '../../stream/transport/kafka/kafka-transport.js';
import { loadConfig, redactedConfig, type ConfigSource } from '../config.js';
import { kafkaSecurityOptions } from '../security-config.js';
import { loadTopology } from '../load-topology.js';
import { createDashboard } from '../../dashboard/index.js';
import { controlRoutes } from './control.js';

export const runHelp = `Usage: tributary run <topology-file> [options]

Runs the topology against Kafka (and the schema registry and MongoDB when configured) until
SIGTERM/SIGINT: the first signal drains in-flight batches, commits and exits 0; a second exits now.
A start that fails on something transient (TRB_CONNECT: a broker or database not up yet, or
restarting) is retried with growing pauses for up to 2 minutes; anything else exits 1 at once.
Serves /metrics, /-/healthz, /-/ready, /topology, /status and the live /dashboard on the ops HTTP server, and the control
API (POST /control/pause and /control/resume with {"target": "<stream|stage|*>"}; bearer token
TRIBUTARY_CONTROL_TOKEN, disabled without one): see "tributary pause --help".

Options (each also an environment variable):
  --config <file.json>      TRIBUTARY_CONFIG     settings below by flag name, e.g. {"kafka-brokers": "...", "paused": true};
                            flags win over environment variables, which win over the file
  --only <a,b>              TRIBUTARY_ONLY       run only these streams or stages (ingest, trigger, aggregate, or a stream name)
  --paused                  TRIBUTARY_START_PAUSED=true  start with every stream paused (initial load); resume via the control API
  --kafka-brokers <list>    KAFKA_BROKERS        default 127.0.0.1:9092
  --registry <url>          SCHEMA_REGISTRY_URL  Confluent-compatible registry (needed for avro())
  --mongo <url>             MONGODB_URL          document store (needed for toCollection())
  --mongo-database <name>   MONGODB_DATABASE     default tributary
  --http-host <host>        HTTP_HOST            default 127.0.0.1
  --http-port <port>        HTTP_PORT            default 9464 (0 = any free port)
  --log-level <level>       LOG_LEVEL            fatal|error|warn|info|debug|trace|silent, default info

Security (passwords only from the environment, a *_FILE or the config file, never a flag):
  --kafka-sasl-mechanism <m>         KAFKA_SASL_MECHANISM       plain | scram-sha-256 | scram-sha-512
  --kafka-sasl-username <user>       KAFKA_SASL_USERNAME
                                     KAFKA_SASL_PASSWORD        or KAFKA_SASL_PASSWORD_FILE / --kafka-sasl-password-file <file>
  --kafka-tls                        KAFKA_TLS=true             TLS to the brokers (implied by any file below)
  --kafka-tls-ca-file <pem>          KAFKA_TLS_CA_FILE          CA certificate(s) to trust, default the system store
  --kafka-tls-cert-file <pem>        KAFKA_TLS_CERT_FILE        client certificate (mutual TLS), with:
  --kafka-tls-key-file <pem>         KAFKA_TLS_KEY_FILE         its private key
  --kafka-tls-reject-unauthorized <b> KAFKA_TLS_REJECT_UNAUTHORIZED  default true
  --registry-username <user>         SCHEMA_REGISTRY_USERNAME   registry basic auth (or user:password@ in the URL)
                                     SCHEMA_REGISTRY_PASSWORD   or SCHEMA_REGISTRY_PASSWORD_FILE / --registry-password-file <file>
  MongoDB credentials go in the URL (mongodb://user:password@host/...). Secrets never appear in
  logs (scrubbed from every line), /status or describe.`;

export async function runCommand(file: string | undefined, flags: ConfigSource, env: ConfigSource): Promise<void> {
  if (!file) throw new TributaryError('TRB_CONFIG', `missing <topology-file>\n\n${runHelp}`);
  const config = loadConfig(env, flags); // validated before anything connects
  const topology = await loadTopology(file);
  const logger = createLogger({ level: config.logLevel, secrets: config.secrets });
  const metrics = createMetrics();
  const only = config.only;
  // The ops server starts first, so /-/ready answers 503 while the streams join their groups.
  const live: { running?: RunningTopology } = {};
  const notStarted = { ok: false, checks: { topology: { ok: false, detail: 'starting' } } };
  const dashboard = createDashboard(topology, () => live.running);
  const server = await startOpsServer({
    host: config.httpHost,
    port: config.httpPort,
    metrics: async () => ({ contentType: metrics.contentType, body: await metrics.text() }),
    health: () => live.running?.health() ?? { ok: true, checks: {} },
    readiness: () => live.running?.readiness() ?? notStarted,
    topology: () => ({ ...topology.describe().toJSON(), status: live.running?.status() ?? [] }),
    ...(config.controlToken ? { controlToken: config.controlToken } : {}),
    routes: [...controlRoutes(() => live.running, () => redactedConfig(config)), ...dashboard.routes],
  });
  // Each attempt gets fresh clients: a failed start has closed the previous ones.
  const attempt = () =>
    runTopology(topology, {
      transport: kafkaTransport({ brokers: config.kafkaBrokers, clientId: topology.name, logger, ...kafkaSecurityOptions(config.kafkaSecurity) }),
      metrics,
      logger,
      ...(config.registryUrl ? { registry: confluentRegistry({ url: config.registryUrl, ...(config.registryAuth ? { auth: config.registryAuth } : {}) }) } : {}),
      ...(config.mongoUrl ? { store: new MongoDocumentStore({ url: config.mongoUrl, database: config.mongoDatabase, onClientReplaced: (cause) => logger.warn({ err: cause }, 'MongoDB client replaced (no server for a whole server-selection timeout, a call past operationTimeoutMs, or the client closed under the store); the next try uses a fresh client') }) } : {}),
      ...(only ? { only } : {}),
      ...(config.startPaused ? { startPaused: true } : {}),
    });
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

/** How long `run` keeps retrying a start that fails on something transient (a broker or database not up yet, or restarting). */
const START_TIMEOUT_MS = 120_000;

/**
 * Starts the topology, retrying while the failure is transient (TRB_CONNECT: a broker restarting
 * during a deploy, a database not up yet) with a growing pause, up to `deadlineMs`. Anything not
 * retriable (refused credentials, a bad topology) fails at once.
 */
async function startWithRetries(
  attempt: () => Promise<RunningTopology>,
  options: { logger: ReturnType<typeof createLogger>; deadlineMs: number; cancelled: { value: boolean } },
): Promise<RunningTopology> {
  const deadline = Date.now() + options.deadlineMs;
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      const retriable = error instanceof TributaryError && error.retriable;
      if (!retriable || options.cancelled.value || Date.now() > deadline) throw error;
      const pauseMs = Math.min(10_000, 500 * 2 ** (n - 1));
      options.logger.warn({ code: error.code, attempt: n, pauseMs }, `start failed, retrying: ${error.message}`);
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }
}
