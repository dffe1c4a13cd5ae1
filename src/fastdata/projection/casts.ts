/**
 * Cast functions: turn a source value into the value stored in a projection field.
 *
 * The nine Fast Data built-ins keep their Real-Time Updater names (`casts.defaultCastToInteger`)
 * and their Projection Storer names (`psCasts.castToInteger`). Like Fast Data, a cast never throws
 * on bad input: it returns `undefined`, and the field is stored as null.
 *
 *   casts.defaultCastToInteger('12.7')   --> 12
 *   casts.defaultCastToInteger('abc')    --> undefined   (stored as null)
 *
 * The Debezium helpers decode the connector's default JSON encodings (see docs on CDC, §5.3):
 *
 *   debeziumDecimal(2)('BNI=')                       --> '12.34'   (precise mode: base64 bytes)
 *   debeziumDecimal(0)({ scale: 5, value: 'BMsv' }) --> '3.14159'   (VariableScaleDecimal)
 *   epochDaysToDate(7441)                            --> Date 1990-05-17T00:00:00Z
 *   microTimestampToDate(1767323045123456)           --> Date 2026-01-02T03:04:05.123Z
 *   jsonString('{"a":1}')                            --> { a: 1 }
 */
import { TributaryError } from '../../errors.js';

/** `fieldName` is the source field the value was read from (as in Fast Data, for logging). */
export type CastFunction = (value: unknown, fieldName: string) => unknown;

/** Objects that are not arrays, dates, buffers, maps...: JSON objects and decoded Avro records. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  return Object.prototype.toString.call(value) === '[object Object]';
}

/** A finite number from a number, a bigint or a non-empty numeric string; otherwise undefined. */
function toFiniteNumber(value: unknown): number | undefined {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'bigint') n = Number(value);
  else if (typeof value === 'string' && value.trim() !== '') n = Number(value);
  else return undefined;
  return Number.isFinite(n) ? n : undefined;
}

function validDate(date: Date): Date | undefined {
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Any value --> the same value. */
export function defaultIdentity(value: unknown, _fieldName?: string): unknown {
  return value;
}

/** 'a' --> 'a', 12 --> '12', { a: 1 } --> '{"a":1}', Date --> ISO string, bytes --> base64, null --> undefined. */
export function defaultCastToString(value: unknown, _fieldName?: string): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return validDate(value)?.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (typeof value === 'object' && value !== null) {
    try {
      return JSON.stringify(value);
    } catch {
      return undefined; // cycles, bigints inside
    }
  }
  return undefined;
}

/**
 * `Number()` then integer part: '12.7' --> 12, -3.9 --> -3, '1e3' --> 1000; 'abc', '', null,
 * booleans, NaN, Infinity --> undefined. (Math.trunc rather than parseInt, which breaks on 1e21.)
 */
export function defaultCastToInteger(value: unknown, _fieldName?: string): number | undefined {
  const n = toFiniteNumber(value);
  return n === undefined ? undefined : Math.trunc(n);
}

/** '12.5' --> 12.5, 3 --> 3; 'abc', '', null, NaN, Infinity --> undefined. */
export function defaultCastToFloat(value: unknown, _fieldName?: string): number | undefined {
  return toFiniteNumber(value);
}

/** Unix time in ms (number or numeric string) --> ISO string: 0 --> '1970-01-01T00:00:00.000Z'; a Date passes as ISO; else undefined. */
export function defaultCastUnitTimestampToISOString(value: unknown, _fieldName?: string): string | undefined {
  if (value instanceof Date) return validDate(value)?.toISOString();
  const ms = toFiniteNumber(value);
  return ms === undefined ? undefined : validDate(new Date(ms))?.toISOString();
}

/** 'true' --> true, 'false' --> false, booleans pass; anything else ('TRUE', 1, 'yes') --> undefined. */
export function defaultCastStringToBoolean(value: unknown, _fieldName?: string): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  return undefined;
}

/** ISO / date strings and ms numbers --> Date; a Date is copied; invalid dates, null, objects --> undefined. */
export function defaultCastToDate(value: unknown, _fieldName?: string): Date | undefined {
  if (value instanceof Date) return validDate(new Date(value.getTime()));
  if (typeof value === 'number') return Number.isFinite(value) ? validDate(new Date(value)) : undefined;
  if (typeof value === 'string' && value.trim() !== '') return validDate(new Date(value));
  return undefined;
}

/** '{"a":1}' --> { a: 1 }; a plain object passes; arrays, '[1]', 'x', null --> undefined. */
export function defaultCastToObject(value: unknown, _fieldName?: string): Record<string, unknown> | undefined {
  const parsed = typeof value === 'string' ? parseJson(value) : value;
  return isPlainObject(parsed) ? parsed : undefined;
}

/** '[{"a":1}]' --> [{ a: 1 }]; an array of plain objects passes; [1], '{}', null --> undefined. */
export function defaultCastToArrayOfObject(value: unknown, _fieldName?: string): Array<Record<string, unknown>> | undefined {
  const parsed = typeof value === 'string' ? parseJson(value) : value;
  return Array.isArray(parsed) && parsed.every(isPlainObject) ? (parsed as Array<Record<string, unknown>>) : undefined;
}

/** The Real-Time Updater built-ins, by `castFunctionId`. */
export const casts = {
  defaultIdentity,
  defaultCastToString,
  defaultCastToInteger,
  defaultCastToFloat,
  defaultCastUnitTimestampToISOString,
  defaultCastStringToBoolean,
  defaultCastToDate,
  defaultCastToObject,
  defaultCastToArrayOfObject,
} as const satisfies Record<string, CastFunction>;

/** The same built-ins under their Projection Storer names. */
export const psCasts = {
  identity: defaultIdentity,
  castToString: defaultCastToString,
  castToInteger: defaultCastToInteger,
  castToFloat: defaultCastToFloat,
  castUnixTimestampToISOString: defaultCastUnitTimestampToISOString,
  castStringToBoolean: defaultCastStringToBoolean,
  castToDate: defaultCastToDate,
  castToObject: defaultCastToObject,
  castToArrayOfObject: defaultCastToArrayOfObject,
} as const satisfies Record<string, CastFunction>;

// ---------------------------------------------------------------------------------------------
// Debezium encodings (PostgreSQL connector defaults: decimal.handling.mode=precise, adaptive time)

/**
 * Connect `Decimal`: big-endian two's-complement unscaled integer, with the scale from the schema.
 *   decimalFromBytes(Buffer.from('BNI=', 'base64'), 2) --> '12.34';  (/gw=, 2) --> '-5.00'
 */
export function decimalFromBytes(bytes: Uint8Array, scale: number): string {
  let n = 0n;
  for (const byte of bytes) n = (n << 8n) | BigInt(byte);
  const first = bytes[0];
  if (first !== undefined && (first & 0x80) !== 0) n -= 1n << BigInt(8 * bytes.length);
  const negative = n < 0n;
  const digits = (negative ? -n : n).toString().padStart(scale + 1, '0');
  const text = scale > 0 ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
  return negative ? `-${text}` : text;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const DECIMAL_TEXT = /^[+-]?\d+(?:\.\d+)?$/;

function decodeDecimal(value: unknown, scale: number): string | undefined {
  if (value instanceof Uint8Array) return value.length === 0 ? undefined : decimalFromBytes(value, scale);
  if (typeof value !== 'string' || value === '' || !BASE64.test(value)) return undefined;
  return decimalFromBytes(Buffer.from(value, 'base64'), scale);
}

/** The connector's `decimal.handling.mode`, or 'auto' to accept the inputs of all three. */
export type DebeziumDecimalMode = 'auto' | 'precise' | 'string' | 'double';

export interface DebeziumDecimalOptions {
  /**
   * 'auto' (default): whatever the value looks like (see `debeziumDecimal`). 'precise': base64,
   * bytes or a VariableScaleDecimal struct only. 'string': decimal text only. 'double': numbers only.
   */
  readonly mode?: DebeziumDecimalMode;
}

const MODES: readonly DebeziumDecimalMode[] = ['auto', 'precise', 'string', 'double'];

/**
 * A Debezium decimal column --> its exact decimal string, or undefined (stored as null) for
 * anything else. What each mode accepts:
 *   'precise'  base64 or bytes of the unscaled two's-complement integer, `scale` from the schema
 *                'BNI=' --> '12.34', '0000' --> '-29293.56'
 *              a VariableScaleDecimal struct (its own scale wins)   { scale: 5, value: 'BMsv' } --> '3.14159'
 *   'string'   decimal text, returned as written                    '-29293.56' --> '-29293.56'
 *   'double'   a number, written with `scale` decimals              -29293.56 --> '-29293.56'
 *   'auto'     all of the above. A string that is valid base64 is read as base64 (precise is
 *              Debezium's default), so digit-only text whose length is a multiple of 4 ('1234')
 *              is ambiguous: name the mode when the connector uses decimal.handling.mode=string.
 */
export function debeziumDecimal(scale: number, options: DebeziumDecimalOptions = {}): (value: unknown) => string | undefined {
  if (!Number.isInteger(scale) || scale < 0) throw new TributaryError('TRB_CONFIG', `debeziumDecimal: scale must be an integer >= 0, got ${scale}`);
  const mode = options.mode ?? 'auto';
  if (!MODES.includes(mode)) throw new TributaryError('TRB_CONFIG', `debeziumDecimal: mode must be one of ${MODES.join(', ')}, got ${JSON.stringify(mode)}`);
  const precise = mode === 'auto' || mode === 'precise';
  return (value) => {
    if (typeof value === 'number') return mode === 'auto' || mode === 'double' ? (Number.isFinite(value) ? value.toFixed(scale) : undefined) : undefined;
    if (mode === 'string') return typeof value === 'string' && DECIMAL_TEXT.test(value) ? value : undefined;
    if (!precise) return undefined;
    if (isPlainObject(value) && 'scale' in value && 'value' in value) {
      const own = value['scale'];
      return typeof own === 'number' && Number.isInteger(own) && own >= 0 ? decodeDecimal(value['value'], own) : undefined;
    }
    // Base64 before decimal text: '0000' is the precise encoding of -29293.56, not the number 0.
    const decoded = decodeDecimal(value, scale);
    if (decoded !== undefined || mode === 'precise') return decoded;
    return typeof value === 'string' && DECIMAL_TEXT.test(value) ? value : undefined;
  };
}

/** `io.debezium.time.Date` (days since epoch) --> Date at UTC midnight: 7441 --> 1990-05-17T00:00:00.000Z. */
export function epochDaysToDate(value: unknown): Date | undefined {
  const days = toFiniteNumber(value);
  return days === undefined || !Number.isInteger(days) ? undefined : validDate(new Date(days * 86_400_000));
}

/** `io.debezium.time.MicroTimestamp` (µs since epoch) --> Date (ms; the µs are dropped, rounding down). */
export function microTimestampToDate(value: unknown): Date | undefined {
  if (typeof value === 'bigint') {
    const ms = value / 1000n - (value % 1000n < 0n ? 1n : 0n);
    return validDate(new Date(Number(ms)));
  }
  const us = toFiniteNumber(value);
  return us === undefined ? undefined : validDate(new Date(Math.floor(us / 1000)));
}

/** `io.debezium.data.Json` (a string holding JSON) --> the parsed value; a value already parsed passes; bad JSON, null --> undefined. */
export function jsonString(value: unknown): unknown {
  if (value === null || value === undefined) return undefined;
  return typeof value === 'string' ? parseJson(value) : value;
}
