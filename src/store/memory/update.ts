/**
 * How the embedded store builds the document an upsert or replace leaves behind, refusing what
 * MongoDB refuses (with retriable: false, as `classifyMongoError` marks those server errors): keys
 * starting with '$' or containing '.', conflicting update paths, fields below a scalar, and changes
 * to `_id`. Keeping the refusals identical is what makes the memory store a faithful test double.
 */
import { ObjectId } from 'mongodb';
import { TributaryError } from '../../errors.js';
import type { Filter, WriteOperation } from '../types.js';
import { equalityFields } from './query.js';
import { cloneDocument, cloneValue, isPlainObject, valuesEqual, type PlainObject } from './values.js';

type Upsert = Extract<WriteOperation, { kind: 'upsert' }>;

/** A write MongoDB would refuse whatever the data: retrying cannot help. */
export function refused(message: string, context: Record<string, unknown> = {}): TributaryError {
  return new TributaryError('TRB_STORE_WRITE', message, { retriable: false, context });
}

/** Keys of stored documents, at any depth: no '$' prefix, no '.', not empty. */
export function checkStoredKeys(value: unknown, where: string): void {
  if (Array.isArray(value)) {
    for (const element of value) checkStoredKeys(element, where);
    return;
  }
  if (!isPlainObject(value)) return;
  for (const [key, field] of Object.entries(value)) {
    if (key.startsWith('$') || key.includes('.') || key === '') {
      throw refused(`invalid key "${key}" in ${where}: keys must not start with '$' or contain '.'`, { key });
    }
    checkStoredKeys(field, where);
  }
}

function checkPath(path: string): void {
  if (path.split('.').some((segment) => segment === '' || segment.startsWith('$'))) {
    throw refused(`invalid update path "${path}": segments must be non-empty and must not start with '$'`, { path });
  }
}

/** Paths of one update must not overlap (`a` with `a`, or `a` with `a.b`): MongoDB code 40. */
function checkUpdatePaths(operation: Upsert): void {
  const paths = [...Object.keys(operation.set), ...Object.keys(operation.setOnInsert ?? {}), ...(operation.unset ?? [])];
  const seen = new Set<string>();
  for (const path of paths) {
    checkPath(path);
    if (seen.has(path)) throw refused(`updating the path "${path}" would create a conflict`, { path });
    seen.add(path);
  }
  for (const path of paths) {
    const segments = path.split('.');
    for (let i = 1; i < segments.length; i += 1) {
      const prefix = segments.slice(0, i).join('.');
      if (seen.has(prefix)) throw refused(`updating the path "${path}" would create a conflict at "${prefix}"`, { path, prefix });
    }
  }
  for (const value of [...Object.values(operation.set), ...Object.values(operation.setOnInsert ?? {})]) checkStoredKeys(value, 'an update');
}

const INDEX = /^\d+$/;

/** `$set` of a dotted path: creates missing embedded documents, pads arrays with null, refuses to descend into a scalar. */
export function setPath(document: PlainObject, path: string, value: unknown): void {
  const segments = path.split('.');
  let node: unknown = document;
  segments.forEach((segment, i) => {
    const last = i === segments.length - 1;
    if (Array.isArray(node)) {
      if (!INDEX.test(segment)) throw refused(`cannot create field "${segment}" of "${path}" in an array`, { path });
      const position = Number(segment);
      while (node.length < position) node.push(null);
      if (last) node[position] = value;
      else {
        if (node[position] === undefined || node[position] === null) node[position] = {};
        node = node[position];
      }
    } else if (isPlainObject(node)) {
      if (last) node[segment] = value;
      else {
        if (!Object.hasOwn(node, segment)) node[segment] = {};
        node = node[segment];
      }
    } else {
      throw refused(`cannot create field "${segment}" of "${path}": its parent is not a document`, { path });
    }
  });
}

/** `$unset`: removes a field; an array element becomes null (MongoDB keeps array positions). */
export function unsetPath(document: PlainObject, path: string): void {
  const segments = path.split('.');
  let node: unknown = document;
  for (const [i, segment] of segments.entries()) {
    const last = i === segments.length - 1;
    if (Array.isArray(node) && INDEX.test(segment)) {
      const position = Number(segment);
      if (position >= node.length) return;
      if (last) node[position] = null;
      else node = node[position];
    } else if (isPlainObject(node) && Object.hasOwn(node, segment)) {
      if (last) delete node[segment];
      else node = node[segment];
    } else {
      return;
    }
  }
}

/** Puts `_id` first, as MongoDB stores it. */
function withIdFirst(document: PlainObject, id: unknown): PlainObject {
  const { _id: _ignored, ...rest } = document;
  return { _id: id, ...rest };
}

/** MongoDB (5.0+) applies update fields in lexicographic order, which decides where new fields land. */
function applyFields(document: PlainObject, operation: Upsert, inserting: boolean): void {
  const fields = [...(inserting ? Object.entries(operation.setOnInsert ?? {}) : []), ...Object.entries(operation.set)];
  fields.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [path, value] of fields) setPath(document, path, cloneValue(value));
  for (const path of operation.unset ?? []) unsetPath(document, path);
}

function checkIdUnchanged(before: PlainObject, after: PlainObject): void {
  if (!valuesEqual(before['_id'], after['_id'])) throw refused("the write would modify the immutable field '_id'");
}

/** The document an upsert leaves on an existing match. */
export function updatedDocument(existing: PlainObject, operation: Upsert): PlainObject {
  checkUpdatePaths(operation);
  const next = cloneDocument(existing);
  applyFields(next, operation, false);
  checkIdUnchanged(existing, next);
  return next;
}

/** The document an upsert inserts: the filter's equalities, then $setOnInsert, $set and $unset. */
export function insertedDocument(operation: Upsert): PlainObject {
  checkUpdatePaths(operation);
  const next: PlainObject = {};
  for (const [path, value] of equalityFields(operation.filter)) {
    checkPath(path);
    setPath(next, path, cloneValue(value));
  }
  applyFields(next, operation, true);
  return withIdFirst(next, Object.hasOwn(next, '_id') ? next['_id'] : new ObjectId());
}

/** The document an insert adds: its own `_id`, or a new ObjectId (as the driver gives one). */
export function newDocument(document: PlainObject): PlainObject {
  checkStoredKeys(document, 'an inserted document');
  const next = cloneDocument(document);
  return withIdFirst(next, Object.hasOwn(next, '_id') ? next['_id'] : new ObjectId());
}

/** A replacement keeps the existing `_id`; on insert it takes `_id` from the filter's equality, if any. */
export function replacementDocument(existing: PlainObject | undefined, filter: Filter, replacement: PlainObject): PlainObject {
  checkStoredKeys(replacement, 'a replacement document');
  const next = cloneDocument(replacement);
  if (existing !== undefined) {
    const merged = withIdFirst(next, Object.hasOwn(next, '_id') ? next['_id'] : existing['_id']);
    checkIdUnchanged(existing, merged);
    return merged;
  }
  const filterId = equalityFields(filter).find(([path]) => path === '_id');
  return withIdFirst(next, Object.hasOwn(next, '_id') ? next['_id'] : filterId !== undefined ? cloneValue(filterId[1]) : new ObjectId());
}
