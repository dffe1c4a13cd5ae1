/**
 * Keyset paging (`_after`). CRUD Service pages with `_sk`/`_l`, which loses or repeats documents
 * while CDC keeps updating the collection (Mia's own best-practice note). A keyset cursor instead
 * says "after this position in the sort order", where the order always ends with the immutable
 * `_id`: a document that exists for the whole walk is returned exactly once, whatever else changes.
 *
 * The cursor is opaque to clients: base64url of `{ s: sort, v: last values }`, with dates and
 * ObjectIds tagged so they round-trip.
 */
import { ObjectId } from 'mongodb';
import { queryError } from './cast.js';

export type SortSpec = ReadonlyArray<readonly [string, 1 | -1]>;

type Tagged = { $date: string } | { $oid: string } | string | number | boolean | null;

function tag(value: unknown): Tagged {
  if (value instanceof Date) return { $date: value.toISOString() };
  if (value instanceof ObjectId) return { $oid: value.toHexString() };
  if (value === undefined || value === null) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  // Objects and arrays are not sortable keyset positions here; the sort is restricted to scalars.
  return JSON.stringify(value);
}

function untag(value: unknown): unknown {
  if (typeof value === 'object' && value !== null) {
    if ('$date' in value && typeof value.$date === 'string') return new Date(value.$date);
    if ('$oid' in value && typeof value.$oid === 'string' && /^[0-9a-f]{24}$/.test(value.$oid)) return new ObjectId(value.$oid);
    throw queryError('_after is not a cursor issued by this API', '_after');
  }
  return value;
}

/** The value at a dotted path of a document (first array element not followed: sort keys are scalars). */
export function valueAt(document: Record<string, unknown>, path: string): unknown {
  let current: unknown = document;
  for (const segment of path.split('.')) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

export function encodeCursor(sort: SortSpec, document: Record<string, unknown>): string {
  const body = { s: sort.map(([f, d]) => (d === 1 ? f : `-${f}`)), v: sort.map(([f]) => tag(valueAt(document, f))) };
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}

/** Decodes a cursor and checks it was issued for this very sort (else positions mean nothing). */
export function decodeCursor(text: string, sort: SortSpec): unknown[] {
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw queryError('_after is not a cursor issued by this API', '_after');
  }
  if (typeof body !== 'object' || body === null || !('s' in body) || !('v' in body) || !Array.isArray(body.s) || !Array.isArray(body.v)) {
    throw queryError('_after is not a cursor issued by this API', '_after');
  }
  const expected = sort.map(([f, d]) => (d === 1 ? f : `-${f}`));
  if (body.s.length !== expected.length || body.s.some((s, i) => s !== expected[i]) || body.v.length !== expected.length) {
    throw queryError(`_after was issued for _s=${body.s.join(',')}; send the same _s with it`, '_after');
  }
  return body.v.map(untag);
}

/**
 * The filter "strictly after `values` in `sort`": an `$or` of one term per sort key, each fixing
 * the keys before it. Missing and null sort first ascending (MongoDB's order), so "after null"
 * ascending means "not null", and nothing comes after null descending.
 */
export function afterFilter(sort: SortSpec, values: readonly unknown[]): Record<string, unknown> {
  const terms: Record<string, unknown>[] = [];
  for (let i = 0; i < sort.length; i += 1) {
    const [field, direction] = sort[i] as readonly [string, 1 | -1];
    const value = values[i] ?? null;
    const term: Record<string, unknown> = {};
    for (let j = 0; j < i; j += 1) term[(sort[j] as readonly [string, 1 | -1])[0]] = values[j] ?? null;
    if (value === null) {
      if (direction === -1) continue;
      term[field] = { $ne: null };
    } else {
      term[field] = direction === 1 ? { $gt: value } : { $lt: value };
    }
    terms.push(term);
  }
  return terms.length === 1 ? (terms[0] as Record<string, unknown>) : { $or: terms };
}
