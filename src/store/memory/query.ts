/**
 * Filters, projections and sorts of the embedded store. They follow MongoDB's semantics for the
 * subset the framework uses, and refuse (TRB_CONFIG, naming the operator) anything outside it:
 * silently ignoring an unknown operator would match documents MongoDB would not.
 */
import { TributaryError } from '../../errors.js';
import type { Document, Filter, FindOptions } from '../types.js';
import { ObjectId } from 'mongodb';
import { MISSING, canonicalKey, cloneDocument, cloneValue, compareValues, isPlainObject, resolvePath, type PlainObject, type Resolved } from './values.js';

const SUPPORTED_OPERATORS = ['$eq', '$ne', '$in', '$exists', '$gt', '$gte', '$lt', '$lte'];

export type Matcher = (document: Document) => boolean;
type ValuesTest = (values: readonly Resolved[]) => boolean;

function configError(message: string, context: Record<string, unknown> = {}): TributaryError {
  return new TributaryError('TRB_CONFIG', message, { context });
}

export function compileFilter(filter: Filter): Matcher {
  if (!isPlainObject(filter)) throw configError('a filter must be a plain object');
  const predicates: Matcher[] = [];
  for (const [field, condition] of Object.entries(filter)) {
    if (field.startsWith('$')) {
      throw configError(`filter operator "${field}" is not supported by the memory store (field conditions with ${SUPPORTED_OPERATORS.join(', ')} only)`, { operator: field });
    }
    predicates.push(compileCondition(field, condition));
  }
  return (document) => predicates.every((predicate) => predicate(document));
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

function isOperatorObject(field: string, condition: unknown): condition is PlainObject {
  if (!isPlainObject(condition)) return false;
  const keys = Object.keys(condition);
  const operators = keys.filter((key) => key.startsWith('$'));
  if (operators.length === 0) return false;
  if (operators.length !== keys.length) throw configError(`the condition on "${field}" mixes operators and field names`, { field });
  return true;
}

function checkLiteral(field: string, value: unknown): void {
  if (value instanceof RegExp) throw configError(`regular expressions ($regex, on "${field}") are not supported by the memory store`, { field, operator: '$regex' });
}

function compileCondition(field: string, condition: unknown): Matcher {
  if (!isOperatorObject(field, condition)) {
    checkLiteral(field, condition);
    const keys = new Set([canonicalKey(condition)]);
    return (document) => inKeys(resolvePath(document, field), keys);
  }
  const tests = Object.entries(condition).map(([operator, operand]) => compileOperator(field, operator, operand));
  return (document) => {
    const values = resolvePath(document, field);
    return tests.every((test) => test(values));
  };
}

/**
 * MongoDB equality against any of the targets, given as canonical keys (computed once per query,
 * not per document): a value matches if it equals a target or is an array containing one; null
 * also matches a missing field.
 */
function inKeys(values: readonly Resolved[], keys: ReadonlySet<string>): boolean {
  return values.some((value) => keys.has(canonicalKey(value)) || (Array.isArray(value) && value.some((element) => keys.has(canonicalKey(element)))));
}

type ComparableClass = 'number' | 'string' | 'date' | 'objectId';

function comparableClass(value: unknown): ComparableClass | undefined {
  if (typeof value === 'number') return 'number';
  if (typeof value === 'string') return 'string';
  if (value instanceof Date) return 'date';
  // Keyset paging by `_id` (refresh, export) compares ObjectIds, which order by their bytes.
  if (value instanceof ObjectId) return 'objectId';
  return undefined;
}

const RANGE_TESTS: Record<string, (order: number) => boolean> = {
  $gt: (order) => order > 0,
  $gte: (order) => order >= 0,
  $lt: (order) => order < 0,
  $lte: (order) => order <= 0,
};

function compileOperator(field: string, operator: string, operand: unknown): ValuesTest {
  switch (operator) {
    case '$eq': {
      checkLiteral(field, operand);
      const keys = new Set([canonicalKey(operand)]);
      return (values) => inKeys(values, keys);
    }
    case '$ne': {
      checkLiteral(field, operand);
      const keys = new Set([canonicalKey(operand)]);
      return (values) => !inKeys(values, keys);
    }
    case '$in': {
      if (!Array.isArray(operand)) throw configError(`$in on "${field}" needs an array`, { field, operator });
      for (const candidate of operand) checkLiteral(field, candidate);
      const keys = new Set(operand.map(canonicalKey));
      return (values) => inKeys(values, keys);
    }
    case '$exists':
      return (values) => values.some((value) => value !== MISSING) === Boolean(operand);
    case '$gt':
    case '$gte':
    case '$lt':
    case '$lte': {
      const kind = comparableClass(operand);
      const accept = RANGE_TESTS[operator];
      if (kind === undefined || accept === undefined) {
        throw configError(`${operator} on "${field}" needs a number, string, Date or ObjectId in the memory store`, { field, operator });
      }
      // Type bracketing, as in MongoDB: { $gt: 5 } never matches a string; arrays match by element.
      return (values) => values.flatMap((value) => (Array.isArray(value) ? value : [value])).some((value) => comparableClass(value) === kind && accept(compareValues(value, operand)));
    }
    default:
      throw configError(`filter operator "${operator}" (on "${field}") is not supported by the memory store; supported: ${SUPPORTED_OPERATORS.join(', ')}`, { field, operator });
  }
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
