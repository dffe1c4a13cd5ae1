/**
 * All runtime configuration is read and validated here, from flags over environment variables
 * over defaults. A bad value stops the process before it connects anywhere, with a message that
 * names the setting, the value and what is accepted.
 */
import { TributaryError } from '../errors.js';

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

/** `flags` use the CLI's names (kebab-case); `env` the documented environment variables. */
export function loadConfig(env: ConfigSource, flags: ConfigSource = {}): RuntimeConfig {
  const pick = (flag: string, variable: string): [string, string | undefined] =>
    flags[flag] !== undefined ? [`--${flag}`, flags[flag]] : [variable, env[variable]];

  const [brokerSetting, brokerValue] = pick('kafka-brokers', 'KAFKA_BROKERS');
  const [registrySetting, registryValue] = pick('registry', 'SCHEMA_REGISTRY_URL');
  const [mongoSetting, mongoValue] = pick('mongo', 'MONGODB_URL');
  const [dbSetting, dbValue] = pick('mongo-database', 'MONGODB_DATABASE');
  const [hostSetting, hostValue] = pick('http-host', 'HTTP_HOST');
  const [portSetting, portValue] = pick('http-port', 'HTTP_PORT');
  const [levelSetting, levelValue] = pick('log-level', 'LOG_LEVEL');
  const [pausedSetting, pausedValue] = pick('paused', 'TRIBUTARY_START_PAUSED');

  const logLevel = (levelValue ?? 'info').toLowerCase();
  if (!LOG_LEVELS.includes(logLevel)) bad(levelSetting, levelValue ?? '', LOG_LEVELS.join(', '));
  const database = dbValue ?? 'tributary';
  if (!/^[A-Za-z0-9_-]{1,63}$/.test(database)) bad(dbSetting, database, 'letters, digits, "_" or "-", at most 63 characters');
  const httpHost = hostValue ?? '127.0.0.1';
  if (!/^[A-Za-z0-9.:-]+$/.test(httpHost)) bad(hostSetting, httpHost, 'a host name or IP address');

  return {
    kafkaBrokers: brokers(brokerSetting, brokerValue ?? '127.0.0.1:9092'),
    registryUrl: url(registrySetting, registryValue, ['http:', 'https:']),
    mongoUrl: url(mongoSetting, mongoValue, ['mongodb:', 'mongodb+srv:']),
    mongoDatabase: database,
    httpHost,
    httpPort: port(portSetting, portValue ?? '9464'),
    logLevel,
    controlToken: env.TRIBUTARY_CONTROL_TOKEN || undefined,
    startPaused: boolean(pausedSetting, pausedValue),
  };
}
