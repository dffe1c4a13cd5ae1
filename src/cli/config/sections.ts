/**
 * Readers of groups of settings that several commands share: Kafka, the registry, the document
 * store, the ops server, logging, consumer and producer tuning. Each takes a SettingSource, checks
 * every value (config/values.ts) and returns a typed object; commands call the readers they need,
 * so a bad value of a setting a command does not use never stops it.
 */
import type { KafkaTransportOptions } from '../../stream/transport/kafka/kafka-transport.js';
import type { RunOptions } from '../../stream/runtime/runner.js';
import { COMPRESSIONS } from '../../stream/transport/codecs.js';
import { MIN_TOKEN_LENGTH } from '../../ops/ops-auth.js';
import { kafkaBrokers, mongoUrl, urlCredentials } from './connection-strings.js';
import { kafkaSecurity, registryAuth, type KafkaSecurity, type RegistryAuth } from './security.js';
import type { SettingSource } from './source.js';
import type { SettingKey } from './settings.js';
import { bad, bindHost, boolean, integer, oneOf, port } from './values.js';

export const DEFAULT_BROKERS = ['127.0.0.1:9092'];
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface KafkaSettings {
  readonly brokers: readonly string[];
  /** Undefined: the command picks one (the topology's name). */
  readonly clientId?: string;
  readonly connectionTimeoutMs?: number;
  readonly security: KafkaSecurity;
}

export function readKafka(source: SettingSource): KafkaSettings {
  const [clientSetting, clientId] = source.get('kafka-client-id');
  if (clientId !== undefined && !/^[A-Za-z0-9._-]{1,249}$/.test(clientId)) bad(clientSetting, clientId, "letters, digits, '.', '_' or '-'");
  const connectionTimeoutMs = integer(source.get('kafka-connection-timeout-ms'), undefined, { min: 1, max: 600_000 });
  return {
    brokers: kafkaBrokers(source.get('kafka-brokers'), DEFAULT_BROKERS),
    ...(clientId !== undefined ? { clientId } : {}),
    ...(connectionTimeoutMs !== undefined ? { connectionTimeoutMs } : {}),
    security: kafkaSecurity(source),
  };
}

export interface RegistrySettings {
  /** Without the user info, which is in `auth`. */
  readonly url: string;
  readonly auth?: RegistryAuth;
}

export function readRegistry(source: SettingSource): RegistrySettings | undefined {
  const [setting, value] = source.get('registry');
  if (value !== undefined) source.redactor.add(...urlCredentials(value));
  let url: URL | undefined;
  if (value !== undefined) {
    try {
      url = new URL(value);
    } catch {
      bad(setting, value, 'an http:// or https:// URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') bad(setting, value, 'a URL starting with http: or https:');
  }
  const registry = registryAuth(source, value);
  return registry.url === undefined ? undefined : { url: registry.url, ...(registry.auth ? { auth: registry.auth } : {}) };
}

export interface MongoSettings {
  readonly url: string;
  readonly database: string;
}

export function readMongo(source: SettingSource): MongoSettings | undefined {
  const url = mongoUrl(source.get('mongo'), source.redactor);
  const [dbSetting, dbValue] = source.get('mongo-database');
  const database = dbValue ?? 'tributary';
  if (!/^[A-Za-z0-9_-]{1,63}$/.test(database)) bad(dbSetting, database, 'letters, digits, "_" or "-", at most 63 characters');
  return url === undefined ? undefined : { url, database };
}

export function readLogLevel(source: SettingSource, fallback: LogLevel = 'info'): LogLevel {
  return oneOf(source.get('log-level'), fallback, LOG_LEVELS);
}

/** A token of the ops server (TRIBUTARY_CONTROL_TOKEN, TRIBUTARY_OPS_TOKEN): long enough, no spaces; registered as a secret. */
export function readToken(source: SettingSource, key: SettingKey): string | undefined {
  const [setting, token] = source.secret(key);
  if (token !== undefined && (token.length < MIN_TOKEN_LENGTH || /\s/.test(token))) {
    bad(setting, token, `a token of at least ${MIN_TOKEN_LENGTH} characters without spaces (it has ${token.length}); e.g. openssl rand -hex 24`, { secret: true });
  }
  return token;
}

export interface OpsSettings {
  readonly host: string;
  readonly port: number;
  readonly controlToken?: string;
  readonly readToken?: string;
}

export function readOps(source: SettingSource): OpsSettings {
  const controlToken = readToken(source, 'control-token');
  const readTokenValue = readToken(source, 'ops-token');
  return {
    host: bindHost(source.get('http-host'), '127.0.0.1'),
    port: port(source.get('http-port'), 9464),
    ...(controlToken !== undefined ? { controlToken } : {}),
    ...(readTokenValue !== undefined ? { readToken: readTokenValue } : {}),
  };
}

export type ConsumerTuning = NonNullable<RunOptions['consumer']>;

/** Consumer settings shared by every stream; unset ones keep the transport's defaults. */
export function readConsumerTuning(source: SettingSource): ConsumerTuning {
  const MiB = 1024 * 1024;
  const tuning = {
    maxBytesPerPartition: integer(source.get('consumer-max-bytes-per-partition'), undefined, { min: 1024, max: 1024 * MiB }),
    maxBytes: integer(source.get('consumer-max-bytes'), undefined, { min: 1024, max: 1024 * MiB }),
    maxWaitMs: integer(source.get('consumer-max-wait-ms'), undefined, { min: 0, max: 60_000 }),
    minBytes: integer(source.get('consumer-min-bytes'), undefined, { min: 1, max: 64 * MiB }),
    maxBatchRecords: integer(source.get('consumer-max-batch-records'), undefined, { min: 1, max: 1_000_000 }),
    combinePartitions: source.get('consumer-combine-partitions')[1] === undefined ? undefined : boolean(source.get('consumer-combine-partitions'), true),
    maxBufferedRecords: integer(source.get('consumer-max-buffered-records'), undefined, { min: 1, max: 10_000_000 }),
    sessionTimeoutMs: integer(source.get('consumer-session-timeout-ms'), undefined, { min: 1_000, max: 3_600_000 }),
    heartbeatIntervalMs: integer(source.get('consumer-heartbeat-interval-ms'), undefined, { min: 100, max: 3_600_000 }),
    partitionsConcurrently: integer(source.get('consumer-partitions-concurrently'), undefined, { min: 1, max: 1024 }),
  };
  const session = tuning.sessionTimeoutMs ?? 30_000;
  const heartbeat = source.get('consumer-heartbeat-interval-ms');
  if (tuning.heartbeatIntervalMs !== undefined && tuning.heartbeatIntervalMs >= session) {
    bad(heartbeat[0], heartbeat[1] ?? '', `an interval below the session timeout (${session} ms), a third of it or less as Kafka advises`);
  }
  return Object.fromEntries(Object.entries(tuning).filter(([, v]) => v !== undefined)) as ConsumerTuning;
}

export type Compression = NonNullable<KafkaTransportOptions['compression']>;
/** The codecs the Kafka transports can produce with (every one is read whatever this says). */
export { COMPRESSIONS };

export interface ProducerTuning {
  readonly compression?: Compression;
  readonly maxRequestBytes?: number;
  /** Largest record a sink may produce (RunOptions.maxMessageBytes; run only, not a client option). */
  readonly maxMessageBytes?: number;
}

/**
 * The producer settings of the Kafka client (compression, request size). With `sinks` (run) also
 * producer-max-message-bytes, which is no client option: the runtime checks every record a sink
 * produces against it (RunOptions.maxMessageBytes), so commands that run no sink do not read it.
 */
export function readProducerTuning(source: SettingSource, options: { sinks?: boolean } = {}): ProducerTuning {
  const [compressionSetting, compressionValue] = source.get('producer-compression');
  const compression = compressionValue === undefined ? undefined : oneOf([compressionSetting, compressionValue], 'none', COMPRESSIONS);
  const maxRequestBytes = integer(source.get('producer-max-request-bytes'), undefined, { min: 1024, max: 100 * 1024 * 1024 });
  const maxMessageBytes = options.sinks ? integer(source.get('producer-max-message-bytes'), undefined, { min: 1024, max: 100 * 1024 * 1024 }) : undefined;
  return {
    ...(compression !== undefined ? { compression } : {}),
    ...(maxRequestBytes !== undefined ? { maxRequestBytes } : {}),
    ...(maxMessageBytes !== undefined ? { maxMessageBytes } : {}),
  };
}
