/**
 * Where a value sits in a Fast Data config file, and the errors that name it:
 *
 *   new Where('aggregation.json').key('config').key('SV_CONFIG').key('dependencies')
 *     --> "aggregation.json $.config.SV_CONFIG.dependencies"
 *   configError(where, "'on' must be a string", "'_identifier' or an erSchema.json condition name")
 *     --> TributaryError TRB_CONFIG "aggregation.json $.config...: 'on' must be a string (accepted: ...)"
 */
import { TributaryError } from '../../errors.js';

export type Json = Record<string, unknown>;

export class Where {
  constructor(
    readonly file: string,
    readonly path: string = '$',
  ) {}

  key(k: string | number): Where {
    if (typeof k === 'number') return new Where(this.file, `${this.path}[${k}]`);
    return new Where(this.file, /^[A-Za-z_$][\w$-]*$/.test(k) ? `${this.path}.${k}` : `${this.path}[${JSON.stringify(k)}]`);
  }

  toString(): string {
    return `${this.file} ${this.path}`;
  }
}

export function configError(where: Where, message: string, accepted?: string): TributaryError {
  return new TributaryError('TRB_CONFIG', `${where.toString()}: ${message}${accepted ? ` (accepted: ${accepted})` : ''}`, {
    context: { file: where.file, path: where.path, ...(accepted ? { accepted } : {}) },
  });
}

export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return `${typeof value} ${String(value)}`;
}

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function expectObject(value: unknown, where: Where, what = 'an object'): Json {
  if (!isObject(value)) throw configError(where, `expected ${what}, got ${describeValue(value)}`, what);
  return value;
}

export function expectString(value: unknown, where: Where, accepted = 'a non-empty string'): string {
  if (typeof value !== 'string' || value === '') throw configError(where, `expected ${accepted}, got ${describeValue(value)}`, accepted);
  return value;
}

export function expectArray(value: unknown, where: Where, what = 'an array'): unknown[] {
  if (!Array.isArray(value)) throw configError(where, `expected ${what}, got ${describeValue(value)}`, what);
  return value;
}

export function optionalBoolean(value: unknown, where: Where, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw configError(where, `expected a boolean, got ${describeValue(value)}`, 'true or false');
  return value;
}

/** Rejects keys not in `known`, so a typo is an error rather than a silently ignored setting. */
export function onlyKeys(object: Json, where: Where, known: readonly string[]): void {
  for (const k of Object.keys(object)) {
    if (!known.includes(k)) throw configError(where.key(k), `unknown or unsupported key '${k}'`, known.map((x) => `'${x}'`).join(', '));
  }
}

/** `{ "version": "1.0.0", "config": {...} }` --> the config object, after checking the version. */
export function versioned(document: unknown, where: Where, versions: readonly string[]): Json {
  const root = expectObject(document, where, `an object { "version", "config" }`);
  const version = root['version'];
  if (typeof version !== 'string' || !versions.includes(version)) {
    throw configError(where.key('version'), `unsupported version ${describeValue(version)}`, versions.map((v) => `"${v}"`).join(', '));
  }
  return expectObject(root['config'], where.key('config'));
}
