/**
 * Keyset paging (`_after`). CRUD Service pages with `_sk`/`_l`, which loses or repeats documents
 * while CDC keeps updating the collection (Mia's own best-practice note). A keyset cursor instead
 * says "after this position in the sort order", where the order always ends with the immutable
 * `_id`: a document that exists for the whole walk is returned exactly once, whatever else changes.
 *
 * A cursor is `<body>.<mac>`, both base64url: the body is `{ s: sort, v: last values }` (dates and
 * ObjectIds tagged so they round-trip), the mac an HMAC-SHA256 with the server's cursor key over a
 * version tag, the collection and the body. So a cursor is tamper-evident and bound to its
 * collection: an altered one, one from another collection, or one signed with another key (another
 * replica without the same configured key, or this one before a restart) is refused with
 * TRB_CURSOR_INVALID. It is signed, not encrypted: its values are those of the sort fields of the
 * last document of the page the client was just sent, and the sort may only name fields the caller
 * can read (columns.ts), so it never carries a hidden column.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ObjectId } from 'mongodb';
import { TributaryError } from '../../errors.js';

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
    throw invalid('it was not issued by this API');
  }
  return value;
}

function invalid(why: string): TributaryError {
  return new TributaryError('TRB_CURSOR_INVALID', `_after is not a cursor of this collection: ${why}`, { context: { path: '_after' } });
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

/** Signs and checks cursors. */
export interface CursorCodec {
  encode(collection: string, sort: SortSpec, document: Record<string, unknown>): string;
  /** The cursor's positions; TRB_CURSOR_INVALID when it is altered, foreign, or for another `_s`. */
  decode(collection: string, text: string, sort: SortSpec): unknown[];
}

/** Shortest configured cursor key: an HMAC key must not be guessable. */
export const MIN_CURSOR_KEY_LENGTH = 32;

/**
 * A codec over the given keys: the first signs, every one verifies (rotation: put the new key
 * first and keep the old one until cursors issued with it have expired from clients). No key:
 * a random one for this process only.
 */
export function cursorCodec(keys: readonly string[] = []): CursorCodec {
  for (const key of keys) {
    if (key.length < MIN_CURSOR_KEY_LENGTH) throw new TributaryError('TRB_CONFIG', `read API: a cursor key must have at least ${MIN_CURSOR_KEY_LENGTH} characters (got ${key.length})`);
  }
  const secrets = keys.length > 0 ? keys.map((k) => Buffer.from(k, 'utf8')) : [randomBytes(32)];
  const mac = (secret: Buffer, collection: string, body: string) => createHmac('sha256', secret).update(`tributary-cursor/v1\n${collection}\n${body}`).digest();
  return {
    encode(collection, sort, document) {
      const body = Buffer.from(JSON.stringify({ s: sortNames(sort), v: sort.map(([f]) => tag(valueAt(document, f))) })).toString('base64url');
      return `${body}.${mac(secrets[0] as Buffer, collection, body).toString('base64url')}`;
    },
    decode(collection, text, sort) {
      const [body, signature, extra] = text.split('.');
      if (body === undefined || signature === undefined || extra !== undefined || !/^[A-Za-z0-9_-]+$/.test(body) || !/^[A-Za-z0-9_-]+$/.test(signature)) {
        throw invalid('it was not issued by this API');
      }
      const given = Buffer.from(signature, 'base64url');
      const signed = secrets.some((secret) => {
        const expected = mac(secret, collection, body);
        return given.length === expected.length && timingSafeEqual(given, expected);
      });
      if (!signed) throw invalid('it was altered, issued for another collection, or signed with another key (a restart or another replica without the same configured cursorKey)');
      let parsed: unknown;
      try {
        parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
      } catch {
        throw invalid('it was not issued by this API');
      }
      if (typeof parsed !== 'object' || parsed === null || !('s' in parsed) || !('v' in parsed) || !Array.isArray(parsed.s) || !Array.isArray(parsed.v)) {
        throw invalid('it was not issued by this API');
      }
      const expected = sortNames(sort);
      if (parsed.s.length !== expected.length || parsed.s.some((s, i) => s !== expected[i]) || parsed.v.length !== expected.length) {
        throw new TributaryError('TRB_CURSOR_INVALID', `_after was issued for _s=${parsed.s.join(',')}; send the same _s with it`, { context: { path: '_after' } });
      }
      return parsed.v.map(untag);
    },
  };
}

function sortNames(sort: SortSpec): string[] {
  return sort.map(([f, d]) => (d === 1 ? f : `-${f}`));
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
