/**
 * All runtime configuration is read and validated here, from flags over environment variables
 * over defaults. A bad value stops the process before it connects anywhere, with a message that
 * names the setting, the value and what is accepted.
 */
import { readFileSync } from 'node:fs';
import { TributaryError } from '../errors.js';
import { redactUrl } from '../ops/secrets.js';
import { loadSecurity, type KafkaSecurity, type Pick, type SecurityConfig } from './security-config.js';

export interface RuntimeConfig {
  readonly kafkaBrokers: readonly string[];
  readonly registryUrl: string | undefined;
  readonly mongoUrl: string | undefined;
  readonly mongoDatabase: string;
  readonly httpHost: string;
  readonly httpPort: number;
  readonly logLevel: string;
  readonly controlToken: string | undefined;
  /** Start every stream paused (Fast Data's initial-load semantic); resumed through the control API. */
  readonly startPaused: boolean;
  /** Only these streams or stages; undefined = all. */
  readonly only: readonly string[] | undefined;
  /** Kafka SASL and TLS (security-config.ts). */
  readonly kafkaSecurity: KafkaSecurity;
  /** Registry basic auth (from SCHEMA_REGISTRY_USERNAME/_PASSWORD or the URL's userinfo, which `registryUrl` no longer carries). */
  readonly registryAuth: SecurityConfig['registryAuth'];
  /** Every secret value read (passwords, the control token): the logger scrubs them from every line. */
  readonly secrets: readonly string[];
}

export type ConfigSource = Readonly<Record<string, string | undefined>>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function bad(setting: string, value: string, accepted: string): never {
  throw new TributaryError('TRB_CONFIG', `invalid ${setting}=${JSON.stringify(value)}: expected ${accepted}`, { context: { setting, value, accepted } });
}

function brokers(setting: string, value: string): string[] {
  const list = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (list.length === 0) bad(setting, value, 'a comma-separated list of host:port');
  for (const b of list) if (!/^[A-Za-z0-9._-]+:\d{1,5}$/.test(b)) bad(setting, value, 'a comma-separated list of host:port, e.g. 127.0.0.1:9092');
  return list;
}

function url(setting: string, value: string | undefined, protocols: string[]): string | undefined {
  if (value === undefined || value === '') return undefined;
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    return bad(setting, value, `a URL (${protocols.join(' or ')})`);
  }
  if (!protocols.includes(parsed.protocol)) bad(setting, value, `a URL starting with ${protocols.join(' or ')}`);
  return value;
}

function boolean(setting: string, value: string | undefined): boolean {
  if (value === undefined || value === '') return false;
  const v = value.toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  return bad(setting, value, 'true or false');
}

function port(setting: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) bad(setting, value, 'an integer port from 0 to 65535');
  return n;
}

/** The settings a config file may hold: its keys are the flags' names. */
export const FILE_SETTINGS = [
  'kafka-brokers', 'registry', 'mongo', 'mongo-database', 'http-host', 'http-port', 'log-level', 'paused', 'only',
  'kafka-sasl-mechanism', 'kafka-sasl-username', 'kafka-sasl-password', 'kafka-sasl-password-file',
  'kafka-tls', 'kafka-tls-ca-file', 'kafka-tls-cert-file', 'kafka-tls-key-file', 'kafka-tls-reject-unauthorized',
  'registry-username', 'registry-password', 'registry-password-file',
] as const;

/**
 * An optional JSON config file (`--config <file>` or TRIBUTARY_CONFIG): an object whose keys are
 * flag names (FILE_SETTINGS) and values strings, numbers or booleans. Read before anything connects;
 * a missing file, bad JSON or an unknown key is a TRB_CONFIG error that names the file.
 */
export function loadConfigFile(env: ConfigSource, flags: ConfigSource = {}): { file: string; values: Record<string, string> } | undefined {
  const file = flags['config'] ?? env['TRIBUTARY_CONFIG'];
  if (file === undefined || file === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new TributaryError('TRB_CONFIG', `cannot read config file ${file}: ${(error as Error).message}`, { cause: error, context: { file } });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) bad(`config file ${file}`, JSON.stringify(parsed), 'a JSON object');
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (!(FILE_SETTINGS as readonly string[]).includes(key)) bad(`${file}: "${key}"`, JSON.stringify(value), `one of the settings ${FILE_SETTINGS.join(', ')}`);
    if (!['string', 'number', 'boolean'].includes(typeof value)) bad(`${file}: "${key}"`, JSON.stringify(value), 'a string, number or boolean');
    values[key] = String(value);
  }
  return { file, values };
}

/** `flags` use the CLI's names (kebab-case); `env` the documented environment variables; then the config file; then defaults. */
export function loadConfig(env: ConfigSource, flags: ConfigSource = {}): RuntimeConfig {
  const fromFile = loadConfigFile(env, flags);
  // An empty environment variable counts as unset (shells and CI templates export empty values).
  const pick: Pick = (flag, variable) =>
    flags[flag] !== undefined
      ? [`--${flag}`, flags[flag]]
      : (env[variable] ?? '') !== '' || fromFile?.values[flag] === undefined
        ? [variable, env[variable] || undefined]
        : [`${fromFile.file}: "${flag}"`, fromFile.values[flag]];

  const [brokerSetting, brokerValue] = pick('kafka-brokers', 'KAFKA_BROKERS');
  const [registrySetting, registryValue] = pick('registry', 'SCHEMA_REGISTRY_URL');
  const [mongoSetting, mongoValue] = pick('mongo', 'MONGODB_URL');
  const [dbSetting, dbValue] = pick('mongo-database', 'MONGODB_DATABASE');
  const [hostSetting, hostValue] = pick('http-host', 'HTTP_HOST');
  const [portSetting, portValue] = pick('http-port', 'HTTP_PORT');
  const [levelSetting, levelValue] = pick('log-level', 'LOG_LEVEL');
  const [pausedSetting, pausedValue] = pick('paused', 'TRIBUTARY_START_PAUSED');
  const [onlySetting, onlyValue] = pick('only', 'TRIBUTARY_ONLY');
  const only = onlyValue?.split(',').map((x) => x.trim()).filter(Boolean);
  if (only !== undefined && only.length === 0) bad(onlySetting, onlyValue ?? '', 'a comma-separated list of stream names or stages');

  const logLevel = (levelValue ?? 'info').toLowerCase();
  if (!LOG_LEVELS.includes(logLevel)) bad(levelSetting, levelValue ?? '', LOG_LEVELS.join(', '));
  const database = dbValue ?? 'tributary';
  if (!/^[A-Za-z0-9_-]{1,63}$/.test(database)) bad(dbSetting, database, 'letters, digits, "_" or "-", at most 63 characters');
  const httpHost = hostValue ?? '127.0.0.1';
  if (!/^[A-Za-z0-9.:-]+$/.test(httpHost)) bad(hostSetting, httpHost, 'a host name or IP address');

  const mongoUrl = url(mongoSetting, mongoValue, ['mongodb:', 'mongodb+srv:']);
  const security = loadSecurity(pick, url(registrySetting, registryValue, ['http:', 'https:']), mongoUrl);
  const controlToken = env.TRIBUTARY_CONTROL_TOKEN || undefined;

  return {
    kafkaBrokers: brokers(brokerSetting, brokerValue ?? '127.0.0.1:9092'),
    registryUrl: security.registryUrl,
    mongoUrl,
    mongoDatabase: database,
    httpHost,
    httpPort: port(portSetting, portValue ?? '9464'),
    logLevel,
    controlToken,
    startPaused: boolean(pausedSetting, pausedValue),
    only,
    kafkaSecurity: security.kafka,
    registryAuth: security.registryAuth,
    secrets: controlToken ? [...security.secrets, controlToken] : security.secrets,
  };
}

/** The configuration as `/status` shows it: every password, token and key left out. */
export function redactedConfig(config: RuntimeConfig): Record<string, unknown> {
  const { sasl, tls } = config.kafkaSecurity;
  return {
    kafkaBrokers: config.kafkaBrokers,
    ...(sasl ? { kafkaSasl: { mechanism: sasl.mechanism, username: sasl.username } } : {}),
    ...(tls ? { kafkaTls: { caFile: tls.caFile, certFile: tls.certFile, keyFile: tls.keyFile, rejectUnauthorized: tls.rejectUnauthorized } } : {}),
    registryUrl: config.registryUrl,
    ...(config.registryAuth ? { registryUsername: config.registryAuth.username } : {}),
    mongoUrl: config.mongoUrl === undefined ? undefined : redactUrl(config.mongoUrl),
    mongoDatabase: config.mongoDatabase,
    startPaused: config.startPaused,
    only: config.only,
    controlApi: config.controlToken ? 'enabled (bearer token)' : 'disabled (no TRIBUTARY_CONTROL_TOKEN)',
  };
}
