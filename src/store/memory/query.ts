/**
 * Filters, projections and sorts of the embedded store. They follow MongoDB's semantics for the
 * subset the framework uses, and refuse (TRB_CONFIG, naming the operator) anything outside it:
 * silently ignoring an unknown operator would match documents MongoDB would not. Filters are
 * evaluated by the one matcher (match.ts) the read API uses too.
 */
import { TributaryError } from '../../errors.js';
import type { Document, Filter, FindOptions } from '../types.js';
import { compileMatcher, isOperatorObject, type Matcher } from './match.js';
import { MISSING, cloneDocument, cloneValue, compareValues, isPlainObject, resolvePath, type PlainObject } from './values.js';

export type { Matcher } from './match.js';

function configError(message: string, context: Record<string, unknown> = {}): TributaryError {
  return new TributaryError('TRB_CONFIG', message, { context });
}

/** The pipeline's flat filters (match.ts, vocabulary 'pipeline'): anything else is refused, naming it. */
export function compileFilter(filter: Filter): Matcher {
  return compileMatcher(filter, 'pipeline');
}

/** The fields of a filter that an upsert copies into the document it inserts: plain equalities and `$eq`. */
export function equalityFields(filter: Filter): [string, unknown][] {
  const fields: [string, unknown][] = [];
  for (const [field, condition] of Object.entries(filter)) {
    if (field.startsWith('$')) continue;
    if (!isOperatorObject(field, condition)) fields.push([field, condition]);
    else if (Object.hasOwn(condition, '$eq')) fields.push([field, condition['$eq']]);
  }
  return fields;
}

type PathTree = Map<string, PathTree | true>;

function buildTree(paths: readonly string[]): PathTree {
  const root: PathTree = new Map();
  for (const path of paths) {
    const segments = path.split('.');
    let node = root;
    segments.forEach((segment, index) => {
      const existing = node.get(segment);
      const last = index === segments.length - 1;
      if (existing === true || (last && existing !== undefined)) throw configError(`projection path collision at "${path}"`, { path });
      if (last) node.set(segment, true);
      else {
        const child: PathTree = existing ?? new Map();
        node.set(segment, child);
        node = child;
      }
    });
  }
  return root;
}

function include(value: PlainObject, tree: PathTree): PlainObject {
  const out: PlainObject = {};
  for (const [key, field] of Object.entries(value)) {
    const node = tree.get(key);
    if (node === undefined) continue;
    if (node === true) out[key] = cloneValue(field);
    else if (isPlainObject(field)) out[key] = include(field, node);
    else if (Array.isArray(field)) out[key] = includeArray(field, node);
  }
  return out;
}

/** An inclusion below an array applies to each embedded document; scalars in the array are dropped (as in MongoDB). */
function includeArray(values: readonly unknown[], tree: PathTree): unknown[] {
  return values.filter((v) => isPlainObject(v) || Array.isArray(v)).map((v) => (Array.isArray(v) ? includeArray(v, tree) : include(v as PlainObject, tree)));
}

function exclude(value: unknown, tree: PathTree): void {
  if (Array.isArray(value)) {
    for (const element of value) exclude(element, tree);
    return;
  }
  if (!isPlainObject(value)) return;
  for (const [key, node] of tree) {
    if (node === true) delete value[key];
    else exclude(value[key], node);
  }
}

/** Inclusion or exclusion, never both (except `_id`, included unless `_id: 0`), like MongoDB. */
export function compileProjection(projection: NonNullable<FindOptions['projection']>): (document: Document) => Document {
  let idFlag: number | undefined;
  const included: string[] = [];
  const excluded: string[] = [];
  for (const [path, flag] of Object.entries(projection)) {
    if (flag !== 0 && flag !== 1) throw configError(`projection of "${path}" must be 0 or 1`, { path });
    if (path === '_id') idFlag = flag;
    else (flag === 1 ? included : excluded).push(path);
  }
  if (included.length > 0 && excluded.length > 0) throw configError(`a projection cannot mix inclusion and exclusion (excluded: ${excluded.join(', ')})`);
  if (included.length > 0 || (excluded.length === 0 && idFlag === 1)) {
    const tree = buildTree(included);
    return (document) => {
      const out = include(document, tree);
      return idFlag !== 0 && Object.hasOwn(document, '_id') ? { _id: cloneValue(document['_id']), ...out } : out;
    };
  }
  const tree = buildTree(idFlag === 0 ? [...excluded, '_id'] : excluded);
  return (document) => {
    const copy = cloneDocument(document);
    exclude(copy, tree);
    return copy;
  };
}

/**
 * Multi-key sort. A path reaching an array sorts by its smallest element ascending and its largest
 * descending; missing fields sort as null, before every other type (MongoDB's rules).
 */
export function compileSort(sort: NonNullable<FindOptions['sort']>): (a: Document, b: Document) => number {
  const keys = Object.entries(sort).map(([path, direction]) => {
    if (direction !== 1 && direction !== -1) throw configError(`sort direction of "${path}" must be 1 or -1`, { path });
    return { path, direction };
  });
  const sortKey = (document: Document, path: string, direction: 1 | -1): unknown => {
    const values = resolvePath(document, path).flatMap((value) => (Array.isArray(value) ? (value.length > 0 ? value : [MISSING]) : [value]));
    return values.reduce((best, value) => (compareValues(value, best) * direction < 0 ? value : best));
  };
  return (a, b) => {
    for (const { path, direction } of keys) {
      const order = compareValues(sortKey(a, path, direction), sortKey(b, path, direction));
      if (order !== 0) return order * direction;
    }
    return 0;
  };
}
