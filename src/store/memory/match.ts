/**
 * The one in-process MongoDB matcher. Two vocabularies, one set of semantics (equality through
 * arrays, null matching a missing field, type bracketing of ranges — MongoDB's rules):
 *
 *   'pipeline'  the flat filters the framework's own reads and writes use (field conditions with
 *               $eq, $ne, $in, $exists, $gt, $gte, $lt, $lte). Anything else is refused with
 *               TRB_CONFIG naming it: the memory store must not accept what it would answer
 *               differently from MongoDB.
 *   'query'     a read-API `_q` filter, already validated (src/serve/query/params.ts): also $and,
 *               $or, $nor, $nin, $all, $size, $regex/$options and $elemMatch. The read API
 *               evaluates it in process on a store whose server cannot (the memory store).
 *
 *   {status: 'paid', total: {$gt: 10}}  --compileMatcher-->  (doc) => boolean
 */
import { ObjectId } from 'mongodb';
import { TributaryError } from '../../errors.js';
import type { Document, Filter } from '../types.js';
import { MISSING, canonicalKey, compareValues, isPlainObject, resolvePath, type PlainObject, type Resolved } from './values.js';

export type MatchVocabulary = 'pipeline' | 'query';
export type Matcher = (document: Document) => boolean;
type ValuesTest = (values: readonly Resolved[]) => boolean;

const PIPELINE_OPERATORS = ['$eq', '$ne', '$in', '$exists', '$gt', '$gte', '$lt', '$lte'];

function configError(message: string, context: Record<string, unknown> = {}): TributaryError {
  return new TributaryError('TRB_CONFIG', message, { context });
}

export function compileMatcher(filter: Filter, vocabulary: MatchVocabulary = 'query'): Matcher {
  if (!isPlainObject(filter)) throw configError('a filter must be a plain object');
  const predicates: Matcher[] = Object.entries(filter).map(([key, value]) => {
    if (!key.startsWith('$')) return compileCondition(key, value, vocabulary);
    if (vocabulary === 'pipeline') {
      throw configError(`filter operator "${key}" is not supported by the memory store (field conditions with ${PIPELINE_OPERATORS.join(', ')} only)`, { operator: key });
    }
    const parts = (value as Filter[]).map((f) => compileMatcher(f, vocabulary));
    if (key === '$and') return (d) => parts.every((p) => p(d));
    if (key === '$or') return (d) => parts.some((p) => p(d));
    if (key === '$nor') return (d) => !parts.some((p) => p(d));
    throw new Error(`operator ${key} cannot be evaluated`); // unreachable after validation
  });
  return (document) => predicates.every((p) => p(document));
}

/** Whether a condition is an operator object ({$gt: 1}) rather than a literal; a pipeline filter may not mix both. */
export function isOperatorObject(field: string, condition: unknown, vocabulary: MatchVocabulary = 'pipeline'): condition is PlainObject {
  if (!isPlainObject(condition)) return false;
  const keys = Object.keys(condition);
  const operators = keys.filter((key) => key.startsWith('$'));
  if (operators.length === 0) return false;
  if (operators.length !== keys.length) {
    if (vocabulary === 'query') return false; // a literal document with odd keys: equality, as MongoDB reads it
    throw configError(`the condition on "${field}" mixes operators and field names`, { field });
  }
  return true;
}

function compileCondition(field: string, condition: unknown, vocabulary: MatchVocabulary): Matcher {
  let test: ValuesTest;
  if (isOperatorObject(field, condition, vocabulary)) test = operatorsTest(field, condition, vocabulary);
  else {
    if (vocabulary === 'pipeline') checkLiteral(field, condition);
    test = equalsAny([condition]);
  }
  return (document) => test(resolvePath(document, field));
}

function operatorsTest(field: string, condition: PlainObject, vocabulary: MatchVocabulary): ValuesTest {
  const tests = Object.entries(condition).map(([operator, operand]) => compileOperator(field, operator, operand, condition, vocabulary));
  return (values) => tests.every((t) => t(values));
}

function checkLiteral(field: string, value: unknown): void {
  if (value instanceof RegExp) throw configError(`regular expressions ($regex, on "${field}") are not supported by the memory store`, { field, operator: '$regex' });
}

/**
 * MongoDB equality against any of the targets, as canonical keys computed once per query: a value
 * matches if it equals a target or is an array containing one; null also matches a missing field.
 */
function equalsAny(targets: readonly unknown[]): ValuesTest {
  const keys = new Set(targets.map(canonicalKey));
  return (values) => values.some((value) => keys.has(canonicalKey(value)) || (Array.isArray(value) && value.some((element) => keys.has(canonicalKey(element)))));
}

const flatten = (values: readonly Resolved[]): unknown[] => values.flatMap((v) => (Array.isArray(v) ? v : [v]));

type Bracket = 'number' | 'string' | 'date' | 'objectId' | 'boolean' | 'other';

function bracket(value: unknown): Bracket {
  if (typeof value === 'number') return 'number';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'boolean';
  if (value instanceof Date) return 'date';
  // Keyset paging by `_id` (refresh, export) compares ObjectIds, which order by their bytes.
  if (value instanceof ObjectId || (typeof value === 'object' && value !== null && '_bsontype' in value && value._bsontype === 'ObjectId')) return 'objectId';
  return 'other';
}

const RANGE_TESTS: Record<string, (order: number) => boolean> = {
  $gt: (order) => order > 0,
  $gte: (order) => order >= 0,
  $lt: (order) => order < 0,
  $lte: (order) => order <= 0,
};

function compileOperator(field: string, operator: string, operand: unknown, all: PlainObject, vocabulary: MatchVocabulary): ValuesTest {
  if (vocabulary === 'pipeline' && !PIPELINE_OPERATORS.includes(operator)) {
    throw configError(`filter operator "${operator}" (on "${field}") is not supported by the memory store; supported: ${PIPELINE_OPERATORS.join(', ')}`, { field, operator });
  }
  if (vocabulary === 'pipeline' && (operator === '$eq' || operator === '$ne')) checkLiteral(field, operand);
  switch (operator) {
    case '$eq':
      return equalsAny([operand]);
    case '$ne': {
      const eq = equalsAny([operand]);
      return (values) => !eq(values);
    }
    case '$in':
    case '$nin': {
      if (!Array.isArray(operand)) throw configError(`${operator} on "${field}" needs an array`, { field, operator });
      if (vocabulary === 'pipeline') for (const candidate of operand) checkLiteral(field, candidate);
      const eq = equalsAny(operand);
      return operator === '$in' ? eq : (values) => !eq(values);
    }
    case '$exists':
      return (values) => values.some((value) => value !== MISSING) === Boolean(operand);
    case '$gt':
    case '$gte':
    case '$lt':
    case '$lte': {
      const kind = bracket(operand);
      const accept = RANGE_TESTS[operator] as (order: number) => boolean;
      if (vocabulary === 'pipeline' && (kind === 'boolean' || kind === 'other')) {
        throw configError(`${operator} on "${field}" needs a number, string, Date or ObjectId in the memory store`, { field, operator });
      }
      // Type bracketing, as in MongoDB: { $gt: 5 } never matches a string; arrays match by element.
      return (values) => flatten(values).some((value) => value !== MISSING && bracket(value) === kind && accept(compareValues(value, operand)));
    }
    case '$all': {
      const eqs = (operand as unknown[]).map((target) => equalsAny([target]));
      return (values) => eqs.length > 0 && eqs.every((eq) => eq(values));
    }
    case '$size':
      return (values) => values.some((v) => Array.isArray(v) && v.length === operand);
    case '$regex': {
      const flags = typeof all['$options'] === 'string' ? all['$options'].replace(/x/g, '') : '';
      const re = new RegExp(operand as string, flags);
      return (values) => flatten(values).some((v) => typeof v === 'string' && re.test(v));
    }
    case '$options':
      return () => true;
    case '$elemMatch': {
      const sub = operand as PlainObject;
      const onElement = isOperatorObject(field, sub, 'query') && !('$and' in sub || '$or' in sub || '$nor' in sub);
      const elementTest = onElement ? operatorsTest(field, sub, 'query') : undefined;
      const documentTest = onElement ? undefined : compileMatcher(sub, 'query');
      return (values) => values.some((v) => Array.isArray(v) && v.some((e) => (elementTest ? elementTest([e]) : isPlainObject(e) && (documentTest as Matcher)(e))));
    }
    default:
      // Unreachable after validation; refusing beats matching what MongoDB would not.
      throw new Error(`operator ${operator} cannot be evaluated`);
  }
}
