import { TributaryError } from '../../errors.js';
import { createLogger } from '../../ops/logger.js';
import { createReadApi, type ReadApiOptions } from '../../serve/read-api.js';
import { MongoDocumentStore } from '../../store/mongo/mongo-store.js';
import { stopOnSignals } from '../../stream/runtime/lifecycle.js';
import { loadConfig } from '../config.js';
import { loadTopology } from '../load-topology.js';

export const serveHelp = `Usage: tributary serve <topology-file> [options]

Serves the projections and single views of a Fast Data topology over a read-only HTTP API that
CRUD Service clients understand (GET /<collection>/, /:id, /count, /export, /schema; /-/schemas,
/-/healthz, /-/ready, /-/metrics; OpenAPI at /documentation/json). Connects only to the document
store, never to Kafka, so read traffic scales apart from the pipeline. Runs until SIGTERM/SIGINT.

Options (each also an environment variable):
  --mongo <url>             MONGODB_URL          document store (required)
  --mongo-database <name>   MONGODB_DATABASE     default tributary
  --host <host>             SERVE_HOST           default 127.0.0.1
  --port <port>             SERVE_PORT           default 3000 (0 = any free port)
  --log-level <level>       LOG_LEVEL            fatal|error|warn|info|debug|trace|silent, default info

See docs/serve.md for the routes and the query parameters.`;

/** Starts the read API and returns once it listens (the process then runs until a signal). */
export async function serveCommand(file: string | undefined, flags: Record<string, string | undefined>, env: Record<string, string | undefined>): Promise<void> {
  if (!file) throw new TributaryError('TRB_CONFIG', `missing <topology-file>\n\n${serveHelp}`);
  const [portSetting, portText] = flags['port'] !== undefined ? ['--port', flags['port']] : ['SERVE_PORT', env['SERVE_PORT'] ?? '3000'];
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    throw new TributaryError('TRB_CONFIG', `invalid ${portSetting}=${JSON.stringify(portText)}: expected an integer port from 0 to 65535`, { context: { setting: portSetting } });
  }
  // Only the settings serve uses are read, so an unrelated bad variable (KAFKA_BROKERS) cannot stop it.
  const config = loadConfig(
    { MONGODB_URL: env['MONGODB_URL'], MONGODB_DATABASE: env['MONGODB_DATABASE'], LOG_LEVEL: env['LOG_LEVEL'], HTTP_HOST: env['SERVE_HOST'], HTTP_PORT: portText },
    { mongo: flags['mongo'], 'mongo-database': flags['mongo-database'], 'log-level': flags['log-level'], 'http-host': flags['host'] },
  );
  if (!config.mongoUrl) throw new TributaryError('TRB_CONFIG', `serve needs the document store: set MONGODB_URL or --mongo\n\n${serveHelp}`);
  const topology = await loadTopology(file);
  if (!('fastData' in topology)) {
    throw new TributaryError('TRB_CONFIG', `${file} is not a Fast Data topology (fastData(...)): serve exposes projections and single views`);
  }
  const logger = createLogger({ level: config.logLevel, name: 'tributary-serve', secrets: config.secrets });
  const store = new MongoDocumentStore({ url: config.mongoUrl, database: config.mongoDatabase });
  await store.connect();
  const api = await createReadApi({ topology: topology as unknown as NonNullable<ReadApiOptions['topology']>, store, logger });
  const url = await api.listen({ port: config.httpPort, host: config.httpHost });
  logger.info({ url, collections: api.endpoints.map((e) => `${e.path}/`) }, 'read API listening');
  stopOnSignals({ stop: async () => (await api.close(), await store.close()) }, { logger });
}
