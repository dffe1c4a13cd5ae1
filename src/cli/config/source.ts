/**
 * Where a setting's value comes from: its flag, else its environment variable (an empty one counts
 * as unset: shells and CI templates export empty values), else the config file (`--config <file>`
 * or TRIBUTARY_CONFIG), else the reader's default. Each value comes with where it was found, so a
 * refusal names the flag, the variable or the file and key the user has to change.
 *
 *   new SettingSource({ KAFKA_BROKERS: 'b1:9092' }, { 'kafka-brokers': 'b2:9092' }).get('kafka-brokers')
 *     --> ['--kafka-brokers', 'b2:9092']
 */
import { readFileSync } from 'node:fs';
import { TributaryError } from '../../errors.js';
import { Redactor, isSensitiveName } from '../../ops/secrets.js';
import { FILE_KEYS, SETTINGS, type Setting, type SettingKey } from './settings.js';
import { bad, type Found } from './values.js';

export type Env = Readonly<Record<string, string | undefined>>;
/** Parsed flags by setting key; boolean flags are 'true'. */
export type Flags = Readonly<Record<string, string | undefined>>;

export interface ConfigFile {
  readonly path: string;
  readonly values: Readonly<Record<string, string>>;
}

/**
 * Reads the optional JSON config file: an object whose keys are setting keys (flag names) and
 * whose values are strings, numbers or booleans. A missing file, bad JSON or an unknown key is a
 * TRB_CONFIG error naming the file.
 */
export function readConfigFile(path: string): ConfigFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new TributaryError('TRB_CONFIG', `cannot read config file ${path}: ${(error as Error).message}`, { cause: error, context: { file: path } });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) bad(`config file ${path}`, JSON.stringify(parsed) ?? '', 'a JSON object of settings');
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed)) {
    const secret = isSensitiveName(key);
    if (!(FILE_KEYS as readonly string[]).includes(key)) {
      const known: Setting | undefined = (Object.keys(SETTINGS) as SettingKey[]).includes(key as SettingKey) ? SETTINGS[key as SettingKey] : undefined;
      const only = known?.flag === false ? `the environment variable ${known.env ?? ''}` : `the flag --${key}`;
      const why = known ? `no such key in a config file: it is ${only} only` : `one of the settings ${FILE_KEYS.join(', ')}`;
      bad(`${path}: "${key}"`, JSON.stringify(value) ?? '', why, { secret });
    }
    if (!['string', 'number', 'boolean'].includes(typeof value)) bad(`${path}: "${key}"`, JSON.stringify(value) ?? '', 'a string, number or boolean', { secret });
    values[key] = String(value);
  }
  return { path, values };
}

export class SettingSource {
  readonly file: ConfigFile | undefined;

  /**
   * `redactor` collects every secret read (passwords, tokens, credentials inside connection
   * strings): the process's logger, its error printer and its ops server all redact with it.
   */
  constructor(
    readonly env: Env,
    readonly flags: Flags = {},
    readonly redactor: Redactor = new Redactor(),
  ) {
    const path = flags['config'] ?? (env['TRIBUTARY_CONFIG'] || undefined);
    this.file = path === undefined ? undefined : readConfigFile(path);
  }

  /** The value of `key` and where it was found; `[name of the variable, undefined]` when unset. */
  get(key: SettingKey): Found {
    const setting: Setting = SETTINGS[key];
    const flag = this.flags[key];
    if (flag !== undefined && setting.flag !== false) return [`--${key}`, flag];
    const variable = setting.env;
    if (variable !== undefined && (this.env[variable] ?? '') !== '') return [variable, this.env[variable]];
    const fromFile = setting.file === false ? undefined : this.file?.values[key];
    if (fromFile !== undefined && this.file) return [`${this.file.path}: "${key}"`, fromFile];
    return [variable ?? `--${key}`, undefined];
  }

  /** Like get(), and the value is registered as a secret. */
  secret(key: SettingKey): Found {
    const found = this.get(key);
    this.redactor.add(found[1]);
    return found;
  }
}
