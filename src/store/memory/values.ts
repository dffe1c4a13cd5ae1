/**
 * Value semantics of the embedded store, modelled on BSON as MongoDB uses it, so that a test that
 * passes on the memory store means the same thing on MongoDB/DocumentDB: cloning (callers never share
 * stored state), equality (numbers by value, Dates by instant, embedded documents field-order
 * sensitive), the cross-type sort order, and dotted-path reading through arrays.
 */
import { ObjectId } from 'mongodb';

export type PlainObject = Record<string, unknown>;

/** Marks a path that does not resolve in a document; `{ field: null }` matches it, `$exists` does not. */
export const MISSING: unique symbol = Symbol('missing');
export type Resolved = unknown | typeof MISSING;

export function isPlainObject(value: unknown): value is PlainObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Deep copy of a document or value. `undefined` becomes `null` because that is what the driver
 * stores for it (BSON has no undefined). Dates are copied; BSON value classes (ObjectId, Long,
 * Binary...) are immutable in practice and shared.
 */
export function cloneValue(value: unknown): unknown {
  if (value === undefined) return null;
  if (Array.isArray(value)) return value.map(cloneValue);
  if (value instanceof Date) return new Date(value.getTime());
  if (value instanceof Uint8Array) return value.slice();
  if (isPlainObject(value)) return cloneDocument(value);
  return value;
}

export function cloneDocument(document: PlainObject): PlainObject {
  const copy: PlainObject = {};
  for (const [key, value] of Object.entries(document)) copy[key] = cloneValue(value);
  return copy;
}

/** The BSON type order MongoDB uses to compare values of different types (missing counts as null). */
function typeRank(value: unknown): number {
  if (value === null || value === undefined || value === MISSING) return 1;
  if (typeof value === 'number' || typeof value === 'bigint') return 2;
  if (typeof value === 'string') return 3;
  if (Array.isArray(value)) return 5;
  if (isPlainObject(value)) return 4;
  if (value instanceof Uint8Array) return 6;
  if (value instanceof ObjectId) return 7;
  if (typeof value === 'boolean') return 8;
  if (value instanceof Date) return 9;
  return 10;
}

/**
 * Total order over values: first by BSON type, then within the type. Strings compare by code unit,
 * which equals MongoDB's binary order except for characters outside the Basic Multilingual Plane.
 */
export function compareValues(a: unknown, b: unknown): number {
  const rankA = typeRank(a);
  const rankB = typeRank(b);
  if (rankA !== rankB) return rankA - rankB;
  if (typeof a === 'number' || typeof a === 'bigint') return Number(a) < Number(b) ? -1 : Number(a) > Number(b) ? 1 : 0;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean') return Number(a) - Number(b);
  if (a instanceof Date && b instanceof Date) return a.getTime() - b.getTime();
  if (a instanceof ObjectId && b instanceof ObjectId) return compareValues(a.toHexString(), b.toHexString());
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i += 1) {
      const c = compareValues(a[i], b[i]);
      if (c !== 0) return c;
    }
    return a.length - b.length;
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const entriesA = Object.entries(a);
    const entriesB = Object.entries(b);
    for (let i = 0; i < Math.min(entriesA.length, entriesB.length); i += 1) {
      const [keyA, valueA] = entriesA[i] as [string, unknown];
      const [keyB, valueB] = entriesB[i] as [string, unknown];
      const c = typeRank(valueA) - typeRank(valueB) || (keyA < keyB ? -1 : keyA > keyB ? 1 : 0) || compareValues(valueA, valueB);
      if (c !== 0) return c;
    }
    return entriesA.length - entriesB.length;
  }
  return compareValues(canonicalKey(a), canonicalKey(b));
}

/**
 * A string equal for exactly the values MongoDB considers equal: 1 and 1.0 are one number, a Date
 * is its instant, and `{ a: 1, b: 2 }` differs from `{ b: 2, a: 1 }` (embedded documents compare
 * field by field, in order). Used for equality and for unique-index keys.
 */
export function canonicalKey(value: unknown): string {
  if (value === null || value === undefined || value === MISSING) return 'null';
  if (typeof value === 'number' || typeof value === 'bigint') return `n:${Number(value)}`;
  if (typeof value === 'string') return `s:${JSON.stringify(value)}`;
  if (typeof value === 'boolean') return `b:${value}`;
  if (value instanceof Date) return `d:${value.getTime()}`;
  if (value instanceof ObjectId) return `o:${value.toHexString()}`;
  if (value instanceof Uint8Array) return `x:${Buffer.from(value).toString('hex')}`;
  if (Array.isArray(value)) return `[${value.map(canonicalKey).join(',')}]`;
  if (isPlainObject(value)) return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${canonicalKey(v)}`).join(',')}}`;
  const name = typeof value === 'object' ? value.constructor.name : typeof value;
  return `${name}:${String(value)}`;
}

export function valuesEqual(a: unknown, b: unknown): boolean {
  return canonicalKey(a) === canonicalKey(b);
}

/**
 * Every value a dotted path reaches, MongoDB-style: a non-numeric segment applied to an array
 * descends into each of its embedded documents; a numeric segment also indexes the array. A branch
 * that cannot be followed yields MISSING (so `{ 'a.b': null }` matches a document without `a.b`).
 */
export function resolvePath(document: unknown, path: string): Resolved[] {
  const out: Resolved[] = [];
  collect(document, path.split('.'), 0, out);
  return out;
}

function collect(value: unknown, segments: readonly string[], index: number, out: Resolved[]): void {
  if (index === segments.length) {
    out.push(value);
    return;
  }
  const segment = segments[index] as string;
  if (Array.isArray(value)) {
    const before = out.length;
    if (/^\d+$/.test(segment)) {
      const position = Number(segment);
      if (position < value.length) collect(value[position], segments, index + 1, out);
    }
    for (const element of value) {
      // Under a numeric segment only elements that really have such a field count, or `a.0.b` would
      // also report "missing" for every element of `a`.
      if (isPlainObject(element) && (!/^\d+$/.test(segment) || Object.hasOwn(element, segment))) collect(element, segments, index, out);
    }
    if (out.length === before) out.push(MISSING);
    return;
  }
  if (isPlainObject(value) && Object.hasOwn(value, segment)) collect(value[segment], segments, index + 1, out);
  else out.push(MISSING);
}
