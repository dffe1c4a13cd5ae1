import { TributaryError } from '../../errors.js';
import { createLogger } from '../../ops/logger.js';
import { createMetrics } from '../../ops/metrics.js';
import { startOpsServer } from '../../ops/http-server.js';
import { MongoDocumentStore } from '../../store/mongo/mongo-store.js';
import { stopOnSignals } from '../../stream/runtime/lifecycle.js';
import { runTopology, type RunningTopology } from '../../stream/runtime/runner.js';
import { confluentRegistry } from '../../stream/serdes/registry.js';
import { kafkaTransport } from '../../stream/transport/kafka/kafka-transport.js';
import { loadConfig, type ConfigSource } from '../config.js';
import { loadTopology } from '../load-topology.js';
import { controlRoutes } from './control.js';

export const runHelp = `Usage: tributary run <topology-file> [options]

Runs the topology against Kafka (and the schema registry and MongoDB when configured) until
SIGTERM/SIGINT: the first signal drains in-flight batches, commits and exits 0; a second exits now.
Serves /metrics, /-/healthz, /-/ready, /topology and /status on the ops HTTP server, and the control
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
  --log-level <level>       LOG_LEVEL            fatal|error|warn|info|debug|trace|silent, default info`;

export async function runCommand(file: string | undefined, flags: ConfigSource, env: ConfigSource): Promise<void> {
  if (!file) throw new TributaryError('TRB_CONFIG', `missing <topology-file>\n\n${runHelp}`);
  const config = loadConfig(env, flags); // validated before anything connects
  const topology = await loadTopology(file);
  const logger = createLogger({ level: config.logLevel });
  const metrics = createMetrics();
  const only = config.only;
  // The ops server starts first, so /-/ready answers 503 while the streams join their groups.
  const live: { running?: RunningTopology } = {};
  const notStarted = { ok: false, checks: { topology: { ok: false, detail: 'starting' } } };
  const server = await startOpsServer({
    host: config.httpHost,
    port: config.httpPort,
    metrics: async () => ({ contentType: metrics.contentType, body: await metrics.text() }),
    health: () => live.running?.health() ?? { ok: true, checks: {} },
    readiness: () => live.running?.readiness() ?? notStarted,
    topology: () => ({ ...topology.describe().toJSON(), status: live.running?.status() ?? [] }),
    ...(config.controlToken ? { controlToken: config.controlToken } : {}),
    routes: controlRoutes(() => live.running),
  });
  const starting = runTopology(topology, {
    transport: kafkaTransport({ brokers: config.kafkaBrokers, clientId: topology.name, logger }),
    metrics,
    logger,
    ...(config.registryUrl ? { registry: confluentRegistry({ url: config.registryUrl }) } : {}),
    ...(config.mongoUrl ? { store: new MongoDocumentStore({ url: config.mongoUrl, database: config.mongoDatabase }) } : {}),
    ...(only ? { only } : {}),
    ...(config.startPaused ? { startPaused: true } : {}),
  });
  // Handlers go in before the streams have all joined: a SIGTERM during start-up (a scale-in right
  // after a scale-out) waits for the start to finish, then drains and commits like any other.
  stopOnSignals({ stop: async () => (await (await starting.catch(() => undefined))?.stop(), await server.close()) }, { logger });
  live.running = await starting;
  logger.info({ url: server.url }, 'ops server listening');
}
