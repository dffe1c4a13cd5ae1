/**
 * All configuration of every command is read and validated here (and in config/*), from flags
 * over environment variables over the config file over defaults, before anything connects. Each
 * command asks for its own configuration (runConfig, serveConfig, …), which reads only the settings
 * that command uses: a bad value names the setting, the value (secrets shown as ***) and what is
 * accepted, and is a TRB_CONFIG error (exit code 2).
 *
 *   runConfig(new SettingSource(process.env, flags))
 *     --> { kafka, registry?, mongo?, ops, logLevel, only?, startPaused, consumer, producer, redactor }
 */
import { Redactor } from '../ops/secrets.js';
import { usageError } from './command.js';
import {
  readConsumerTuning,
  readKafka,
  readLogLevel,
  readMongo,
  readOps,
  readProducerTuning,
  readRegistry,
  readToken,
  type ConsumerTuning,
  type KafkaSettings,
  type LogLevel,
  type MongoSettings,
  type OpsSettings,
  type ProducerTuning,
  type RegistrySettings,
} from './config/sections.js';
import { SettingSource, type Env, type Flags } from './config/source.js';
import { bad, bindHost, boolean, integer, list, oneOf, port } from './config/values.js';

export { SettingSource } from './config/source.js';
export type { Env, Flags } from './config/source.js';
/** Environment variables or flags as plain values (the demo's parameters). */
export type ConfigSource = Env;

/** Where the configuration comes from: the environment, the parsed flags, and the Redactor collecting secrets. */
export function configSource(env: Env, flags: Flags = {}, redactor: Redactor = new Redactor()): SettingSource {
  return new SettingSource(env, flags, redactor);
}

export interface RunConfig {
  readonly kafka: KafkaSettings;
  readonly registry?: RegistrySettings;
  readonly mongo?: MongoSettings;
  readonly ops: OpsSettings;
  readonly logLevel: LogLevel;
  /** Only these streams or stages; undefined = all. */
  readonly only?: readonly string[];
  /** Start every stream paused (Fast Data's initial-load semantic); resumed through the control API. */
  readonly startPaused: boolean;
  readonly consumer: ConsumerTuning;
  readonly producer: ProducerTuning;
  /** Every secret read: the logger, the error printer and the ops server redact with it. */
  readonly redactor: Redactor;
}

/** `tributary run`. */
export function runConfig(source: SettingSource): RunConfig {
  const registry = readRegistry(source);
  const mongo = readMongo(source);
  const only = list(source.get('only'), 'stream names or stages');
  return {
    kafka: readKafka(source),
    ...(registry ? { registry } : {}),
    ...(mongo ? { mongo } : {}),
    ops: readOps(source),
    logLevel: readLogLevel(source),
    ...(only ? { only } : {}),
    startPaused: boolean(source.get('paused'), false),
    consumer: readConsumerTuning(source),
    producer: readProducerTuning(source, { sinks: true }),
    redactor: source.redactor,
  };
}

/**
 * The connection settings of `run`, flat (the demo's view): validated like runConfig's, with the
 * addresses as strings.
 */
export function loadConfig(env: Env, flags: Flags = {}): RunConfig & { kafkaBrokers: readonly string[]; registryUrl: string | undefined; mongoUrl: string | undefined } {
  const config = runConfig(configSource(env, flags));
  return { ...config, kafkaBrokers: config.kafka.brokers, registryUrl: config.registry?.url, mongoUrl: config.mongo?.url };
}

export interface ServeConfig {
  readonly mongo: MongoSettings;
  readonly host: string;
  readonly port: number;
  readonly logLevel: LogLevel;
  readonly redactor: Redactor;
}

/** `tributary serve`: the document store and the read API's address; nothing of Kafka. */
export function serveConfig(source: SettingSource): ServeConfig {
  const host = bindHost(source.get('host'), '127.0.0.1');
  const listenPort = port(source.get('port'), 3000);
  const logLevel = readLogLevel(source);
  const mongo = readMongo(source);
  if (!mongo) throw usageError('serve', 'serve needs the document store: set MONGODB_URL or --mongo');
  source.secret('cursor-key'); // checked by createReadApi (SERVE_CURSOR_KEY); registered here so no output shows it
  return { mongo, host, port: listenPort, logLevel, redactor: source.redactor };
}

export interface RefreshConfig {
  readonly kafka: KafkaSettings;
  readonly registry?: RegistrySettings;
  readonly mongo: MongoSettings;
  readonly producer: ProducerTuning;
  readonly logLevel: LogLevel;
  readonly batchSize: number;
  readonly ratePerSecond: number;
  readonly checkpoint?: string;
  readonly restart: boolean;
  readonly redactor: Redactor;
}

/** `tributary refresh`. Logs at warn unless LOG_LEVEL says otherwise: the progress bar is the output. */
export function refreshConfig(source: SettingSource): RefreshConfig {
  const kafka = readKafka(source);
  const registry = readRegistry(source);
  const mongo = readMongo(source);
  const batchSize = integer(source.get('batch-size'), 500, { min: 1, max: 100_000 });
  const ratePerSecond = integer(source.get('rate'), 1000, { min: 0 });
  const [, checkpoint] = source.get('checkpoint');
  if (!mongo) throw usageError('refresh', 'refresh reads the base projection: set MONGODB_URL or --mongo');
  return {
    kafka,
    ...(registry ? { registry } : {}),
    mongo,
    producer: readProducerTuning(source),
    logLevel: readLogLevel(source, 'warn'),
    batchSize,
    ratePerSecond,
    ...(checkpoint !== undefined ? { checkpoint } : {}),
    restart: boolean(source.get('restart'), false),
    redactor: source.redactor,
  };
}

export interface ClientConfig {
  readonly url: URL;
  /** The control token (pause/resume), else for status the ops token. */
  readonly token?: string;
}

/** `tributary pause|resume|status`: the instance's ops server and the token to present. */
export function clientConfig(source: SettingSource, command: 'pause' | 'resume' | 'status'): ClientConfig {
  const [urlSetting, urlValue] = source.get('url');
  let url: URL;
  try {
    url = new URL(urlValue ?? 'http://127.0.0.1:9464');
  } catch {
    return bad(urlSetting, urlValue ?? '', 'a URL such as http://127.0.0.1:9464');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') bad(urlSetting, urlValue ?? '', 'an http:// or https:// URL');
  const [, token] = source.secret('token');
  const opsToken = command === 'status' ? readToken(source, 'client-ops-token') : undefined;
  const chosen = token ?? opsToken;
  return { url, ...(chosen !== undefined ? { token: chosen } : {}) };
}

export const TOPICS_FORMATS = ['text', 'json'] as const;

export interface TopicsConfig {
  readonly kafka?: KafkaSettings;
  readonly logLevel: LogLevel;
  readonly create: boolean;
  readonly partitions?: number;
  readonly replicationFactor?: number;
  readonly format: (typeof TOPICS_FORMATS)[number];
  readonly only?: readonly string[];
  readonly redactor: Redactor;
}

/** `tributary topics`; without a broker (`--offline`) nothing of Kafka is read. */
export function topicsConfig(source: SettingSource): TopicsConfig {
  const offline = boolean(source.get('offline'), false);
  const create = boolean(source.get('create'), false);
  if (offline && create) bad('--create', 'true', 'not with --offline (creating topics needs the broker)');
  const partitions = integer(source.get('partitions'), undefined, { min: 1, max: 100_000 });
  const replicationFactor = integer(source.get('replication-factor'), undefined, { min: 1, max: 100 });
  const only = list(source.get('only'), 'stream names or stages');
  return {
    ...(offline ? {} : { kafka: readKafka(source) }),
    logLevel: readLogLevel(source, 'warn'),
    create,
    ...(partitions !== undefined ? { partitions } : {}),
    ...(replicationFactor !== undefined ? { replicationFactor } : {}),
    format: oneOf(source.get('format'), 'text', TOPICS_FORMATS),
    ...(only ? { only } : {}),
    redactor: source.redactor,
  };
}

export const DESCRIBE_FORMATS = ['text', 'mermaid', 'json', 'dot'] as const;

/** `tributary describe`. */
export function describeConfig(source: SettingSource): { format: (typeof DESCRIBE_FORMATS)[number] } {
  return { format: oneOf(source.get('format'), 'text', DESCRIBE_FORMATS) };
}

/**
 * `tributary infra`: the service addresses the config file or environment gives (the script leaves
 * those services alone), as the variables the script reads.
 */
export function infraEnv(source: SettingSource): Record<string, string> {
  const kafka = source.get('kafka-brokers')[1];
  const registry = source.get('registry')[1];
  const mongo = source.get('mongo')[1];
  if (mongo !== undefined) readMongo(source); // validated, and its credentials registered
  return {
    ...(kafka !== undefined ? { KAFKA_BROKERS: readKafka(source).brokers.join(',') } : {}),
    ...(registry !== undefined ? { SCHEMA_REGISTRY_URL: registry } : {}),
    ...(mongo !== undefined ? { MONGODB_URL: mongo } : {}),
  };
}

/** The configuration as `/status` shows it: passwords, tokens and keys left out, URLs redacted. */
export function redactedConfig(config: RunConfig): Record<string, unknown> {
  const { sasl, tls } = config.kafka.security;
  const redact = (text: string) => config.redactor.redact(text);
  return {
    kafkaBrokers: config.kafka.brokers,
    ...(config.kafka.clientId ? { kafkaClientId: config.kafka.clientId } : {}),
    ...(sasl ? { kafkaSasl: { mechanism: sasl.mechanism, username: sasl.username } } : {}),
    ...(tls ? { kafkaTls: { caFile: tls.caFile, certFile: tls.certFile, keyFile: tls.keyFile, rejectUnauthorized: tls.rejectUnauthorized } } : {}),
    registryUrl: config.registry ? redact(config.registry.url) : undefined,
    ...(config.registry?.auth ? { registryUsername: config.registry.auth.username } : {}),
    mongoUrl: config.mongo ? redact(config.mongo.url) : undefined,
    mongoDatabase: config.mongo?.database,
    startPaused: config.startPaused,
    only: config.only,
    consumer: config.consumer,
    producer: config.producer,
    controlApi: config.ops.controlToken ? 'enabled (bearer token)' : 'disabled (no TRIBUTARY_CONTROL_TOKEN)',
    readRoutes: config.ops.readToken ? 'token required (TRIBUTARY_OPS_TOKEN)' : 'open',
  };
}
