/** `tributary serve <topology-file>`: the read-only REST API over a Fast Data topology's projections and single views. */
import { TributaryError } from '../../errors.js';
import { createLogger } from '../../ops/logger.js';
import { createReadApi, type ReadApiOptions } from '../../serve/read-api.js';
import { MongoDocumentStore } from '../../store/mongo/mongo-store.js';
import { stopOnSignals } from '../../stream/runtime/lifecycle.js';
import type { CommandSpec } from '../command.js';
import { serveConfig } from '../config.js';
import { GENERAL, MONGO } from '../config/settings.js';
import type { SettingSource } from '../config/source.js';
import { loadTopology } from '../load-topology.js';

export const serveSpec: CommandSpec = {
  name: 'serve',
  summary: 'read-only REST API (CRUD Service compatible) over its projections and views',
  positionals: ['<topology-file>'],
  description: `Serves the projections and single views of a Fast Data topology over a read-only HTTP API that
CRUD Service clients understand (GET /<collection>/, /:id, /count, /export, /schema; /-/schemas,
/-/healthz, /-/ready, /-/metrics; OpenAPI at /documentation/json). Connects only to the document
store, never to Kafka, so read traffic scales apart from the pipeline. Runs until SIGTERM/SIGINT.`,
  sections: [
    { title: 'Read API', keys: ['host', 'port'] },
    { title: 'Read API (environment only)', keys: ['cursor-key', 'max-time-ms'] },
    { ...MONGO, note: `${MONGO.note ?? ''} MONGODB_URL is required.`.trim() },
    GENERAL,
  ],
  footer: 'See docs/serve.md for the routes and the query parameters.',
};

/** Starts the read API and returns once it listens (the process then runs until a signal). */
export async function serveCommand(file: string, source: SettingSource): Promise<void> {
  const config = serveConfig(source); // only what serve uses: a bad KAFKA_BROKERS cannot stop it
  const topology = await loadTopology(file);
  if (!('fastData' in topology)) {
    throw new TributaryError('TRB_CONFIG', `${file} is not a Fast Data topology (fastData(...)): serve exposes projections and single views`);
  }
  const logger = createLogger({ level: config.logLevel, name: 'tributary-serve', redactor: config.redactor });
  const store = new MongoDocumentStore({ url: config.mongo.url, database: config.mongo.database });
  await store.connect();
  const api = await createReadApi({ topology: topology as unknown as NonNullable<ReadApiOptions['topology']>, store, logger, env: source.env }); // SERVE_CURSOR_KEY, SERVE_MAX_TIME_MS
  const url = await api.listen({ port: config.port, host: config.host });
  logger.info({ url, collections: api.endpoints.map((e) => `${e.path}/`) }, 'read API listening');
  stopOnSignals({ stop: async () => (await api.close(), await store.close()) }, { logger, stopping: 'finishing requests in flight' });
}
