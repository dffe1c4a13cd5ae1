import pino from 'pino';
import type { DestinationStream, Level, LevelWithSilent, Logger } from 'pino';
import type { LogEntry, logCreator, logLevel } from 'kafkajs';
import { TributaryError } from '../errors.js';
import { Redactor } from './secrets.js';

export type { Logger } from 'pino';

export interface LoggerOptions {
  /**
   * Minimum level. Default `info`. The logger reads no environment variable: the CLI's configuration
   * module reads `LOG_LEVEL` with every other setting.
   */
  level?: string;
  /** Written as `name` on every line. Default `tributary`. */
  name?: string;
  /** Where lines go. Default: JSON to stdout. Tests pass a stream that captures lines. */
  destination?: DestinationStream;
  /** Extra redaction paths, added to {@link DEFAULT_REDACT_PATHS} (never replacing them). */
  redact?: readonly string[];
  /**
   * Secret values (passwords, tokens) replaced by `***` wherever they appear in a line, including
   * messages and error stacks from libraries: redaction paths only catch fields we know the name of.
   */
  secrets?: readonly string[];
  /**
   * The redaction every line goes through (src/ops/secrets.ts): connection-string passwords and
   * credential options, sensitive fields, and its registered secrets. Default: a Redactor of
   * `secrets`. Pass the process's own so secrets registered later are scrubbed too.
   */
  redactor?: Redactor;
}

/**
 * Fields that are removed from every log line. Connection configs (SASL, HTTP headers) end up in
 * logs by accident far more often than on purpose; removing the key entirely keeps even the
 * secret's length out of the log store.
 */
export const DEFAULT_REDACT_PATHS: readonly string[] = [
  'password',
  'sasl.password',
  '*.password',
  'authorization',
  '*.authorization',
];

const LEVELS: readonly LevelWithSilent[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Creates the framework's structured JSON logger. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = parseLevel(options.level ?? 'info');
  const config = {
    level,
    name: options.name ?? 'tributary',
    redact: { paths: [...DEFAULT_REDACT_PATHS, ...(options.redact ?? [])], remove: true },
  };
  const destination = options.destination ?? pino.destination(1);
  const redactor = (options.redactor ?? new Redactor()).add(...(options.secrets ?? []));
  // Every line, not only those with a known secret: a URL with a password can come from anywhere.
  return pino(config, { write: (line: string) => destination.write(redactor.redact(line)) });
}

/** A typo in LOG_LEVEL should stop startup with a clear message, not a pino stack trace. */
function parseLevel(raw: string): LevelWithSilent {
  const level = raw.trim().toLowerCase();
  const known = LEVELS.find((candidate) => candidate === level);
  if (known === undefined) {
    throw new TributaryError('TRB_CONFIG', `unknown log level '${raw}' (expected one of ${LEVELS.join(', ')})`, { context: { level: raw } });
  }
  return known;
}

// kafkajs's `logLevel` is a runtime enum in a CommonJS module; its numeric values are fixed by
// kafkajs's API, so they are mirrored here instead of importing the module at runtime.
const KAFKAJS_NOTHING = 0 as logLevel;
const KAFKAJS_ERROR = 1 as logLevel;
const KAFKAJS_WARN = 2 as logLevel;
const KAFKAJS_INFO = 4 as logLevel;
const KAFKAJS_DEBUG = 5 as logLevel;

const PINO_LEVEL_OF = new Map<logLevel, Level>([
  [KAFKAJS_ERROR, 'error'],
  [KAFKAJS_WARN, 'warn'],
  [KAFKAJS_INFO, 'info'],
  [KAFKAJS_DEBUG, 'debug'],
]);

/** Keys pino writes itself; a kafkajs field with one of these names is renamed, not duplicated. */
const PINO_OWN_KEYS = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name']);

/**
 * The kafkajs level that lets through exactly what `logger` would print, for the client's
 * `logLevel` option. kafkajs filters before calling the log creator, so without this a pino logger
 * at `debug` would never see kafkajs debug lines.
 */
export function kafkajsLogLevel(logger: Logger): logLevel {
  const value = logger.levelVal;
  if (value <= pino.levels.values['debug']!) return KAFKAJS_DEBUG;
  if (value <= pino.levels.values['info']!) return KAFKAJS_INFO;
  if (value <= pino.levels.values['warn']!) return KAFKAJS_WARN;
  if (value <= pino.levels.values['fatal']!) return KAFKAJS_ERROR;
  return KAFKAJS_NOTHING;
}

/**
 * A kafkajs `logCreator` that writes kafkajs's entries through `logger`: same JSON format, same
 * redaction, same level filter. Each line carries `component: 'kafkajs'` and the kafkajs
 * `namespace` (e.g. `Connection`, `ConsumerGroup`); the remaining kafkajs fields become fields.
 */
export function kafkajsLogCreator(logger: Logger): logCreator {
  const child = logger.child({ component: 'kafkajs' });
  return () =>
    ({ namespace, level, log }: LogEntry): void => {
      const pinoLevel = PINO_LEVEL_OF.get(level);
      if (pinoLevel === undefined) return;
      const { message, timestamp: _timestamp, ...rest } = log;
      const fields: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(rest)) fields[PINO_OWN_KEYS.has(key) ? `kafkajs_${key}` : key] = value;
      fields['namespace'] = namespace;
      child[pinoLevel](fields, typeof message === 'string' ? message : String(message));
    };
}
