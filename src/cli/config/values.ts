/**
 * Checks for single values. Every refusal is a TRB_CONFIG error that names where the value came
 * from (`--flag`, `ENV_VAR` or `file.json: "key"`), the value — redacted, never a secret — and what
 * is accepted:
 *
 *   integer('KAFKA_CONSUMER_MAX_WAIT_MS', 'soon', { min: 0 })
 *     --> TRB_CONFIG 'invalid KAFKA_CONSUMER_MAX_WAIT_MS="soon": expected an integer ≥ 0'
 */
import { TributaryError } from '../../errors.js';
import { REDACTED, redactText } from '../../ops/secrets.js';

export interface Refusal {
  /** The value is a secret: the message shows *** instead. */
  readonly secret?: boolean;
}

export function bad(setting: string, value: string, accepted: string, options: Refusal = {}): never {
  const shown = options.secret && value !== '' ? REDACTED : redactText(value);
  throw new TributaryError('TRB_CONFIG', `invalid ${setting}=${JSON.stringify(shown)}: expected ${accepted}`, { context: { setting, value: shown, accepted } });
}

/** Where a value came from (for messages) and the value; undefined = not set anywhere. */
export type Found = readonly [setting: string, value: string | undefined];

export function integer([setting, value]: Found, fallback: number, range: { min: number; max?: number }): number;
export function integer([setting, value]: Found, fallback: undefined, range: { min: number; max?: number }): number | undefined;
export function integer([setting, value]: Found, fallback: number | undefined, range: { min: number; max?: number }): number | undefined {
  if (value === undefined) return fallback;
  const n = Number(value);
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  if (value.trim() === '' || !Number.isInteger(n) || n < range.min || n > max) {
    bad(setting, value, range.max === undefined ? `an integer ≥ ${range.min}` : `an integer from ${range.min} to ${range.max}`);
  }
  return n;
}

export function boolean([setting, value]: Found, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  const v = value.toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  return bad(setting, value, 'true or false');
}

export function oneOf<T extends string>([setting, value]: Found, fallback: T, accepted: readonly T[]): T {
  if (value === undefined) return fallback;
  const v = value.toLowerCase();
  const match = accepted.find((a) => a === v);
  if (match === undefined) bad(setting, value, accepted.join(', '));
  return match;
}

export function port(found: Found, fallback: number): number {
  if (found[1] !== undefined && !/^\d{1,5}$/.test(found[1])) bad(found[0], found[1], 'an integer port from 0 to 65535');
  return integer(found, fallback, { min: 0, max: 65535 });
}

/** An interface to bind: a host name, an IPv4 address or an IPv6 address (brackets optional). */
export function bindHost([setting, value]: Found, fallback: string): string {
  if (value === undefined) return fallback;
  const bare = value.replace(/^\[(.*)\]$/, '$1');
  if (!/^[A-Za-z0-9._-]+$/.test(bare) && !/^[0-9A-Fa-f:.]+$/.test(bare)) bad(setting, value, 'a host name or an IPv4 or IPv6 address');
  return bare;
}

/** A comma-separated list with at least one entry. */
export function list([setting, value]: Found, what: string): string[] | undefined {
  if (value === undefined) return undefined;
  const items = value.split(',').map((x) => x.trim()).filter(Boolean);
  if (items.length === 0) bad(setting, value, `a comma-separated list of ${what}`);
  return items;
}
