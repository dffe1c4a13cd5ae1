/**
 * Evaluates a validated `_q` filter in process, with MongoDB's semantics for the allowed operators.
 * Used on the embedded memory store, whose own matcher knows only the flat filters the pipeline
 * needs ($and/$or/$regex/$all/$size/$elemMatch are beyond it). The store's value helpers give the
 * same equality, ordering and path rules, so results match what a MongoDB server returns.
 */
import { MISSING, canonicalKey, compareValues, isPlainObject, resolvePath, type Resolved } from '../../store/memory/values.js';

type Doc = Record<string, unknown>;
export type Predicate = (document: Doc) => boolean;

export function compileMatcher(filter: Doc): Predicate {
  const parts: Predicate[] = Object.entries(filter).map(([key, value]) => {
    if (key === '$and') return all((value as Doc[]).map(compileMatcher));
    if (key === '$or') return any((value as Doc[]).map(compileMatcher));
    if (key === '$nor') {
      const inner = any((value as Doc[]).map(compileMatcher));
      return (d) => !inner(d);
    }
    return fieldPredicate(key, value);
  });
  return all(parts);
}

function all(predicates: Predicate[]): Predicate {
  return (d) => predicates.every((p) => p(d));
}

function any(predicates: Predicate[]): Predicate {
  return (d) => predicates.some((p) => p(d));
}

function isOperators(value: unknown): value is Doc {
  return isPlainObject(value) && Object.keys(value).length > 0 && Object.keys(value).every((k) => k.startsWith('$'));
}

function fieldPredicate(path: string, condition: unknown): Predicate {
  const test = isOperators(condition) ? operatorsTest(condition) : equals(condition);
  return (d) => test(resolvePath(d, path));
}

type ValuesTest = (values: readonly Resolved[]) => boolean;

/** Equality, MongoDB-style: an array matches if it equals the value or contains it; null matches missing. */
function equals(target: unknown): ValuesTest {
  const key = canonicalKey(target);
  return (values) => values.some((v) => canonicalKey(v) === key || (Array.isArray(v) && v.some((e) => canonicalKey(e) === key)));
}

function flatten(values: readonly Resolved[]): unknown[] {
  return values.flatMap((v) => (Array.isArray(v) ? v : [v]));
}

type Bracket = 'number' | 'string' | 'date' | 'objectId' | 'boolean' | 'other';

function bracket(value: unknown): Bracket {
  if (typeof value === 'number') return 'number';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'boolean';
  if (value instanceof Date) return 'date';
  if (typeof value === 'object' && value !== null && '_bsontype' in value && value._bsontype === 'ObjectId') return 'objectId';
  return 'other';
}

function range(operand: unknown, accept: (order: number) => boolean): ValuesTest {
  const kind = bracket(operand);
  return (values) => flatten(values).some((v) => v !== MISSING && bracket(v) === kind && accept(compareValues(v, operand)));
}

function operatorsTest(ops: Doc): ValuesTest {
  const tests: ValuesTest[] = [];
  for (const [op, operand] of Object.entries(ops)) {
    switch (op) {
      case '$eq':
        tests.push(equals(operand));
        break;
      case '$ne': {
        const eq = equals(operand);
        tests.push((values) => !eq(values));
        break;
      }
      case '$gt':
        tests.push(range(operand, (o) => o > 0));
        break;
      case '$gte':
        tests.push(range(operand, (o) => o >= 0));
        break;
      case '$lt':
        tests.push(range(operand, (o) => o < 0));
        break;
      case '$lte':
        tests.push(range(operand, (o) => o <= 0));
        break;
      case '$in': {
        const eqs = (operand as unknown[]).map(equals);
        tests.push((values) => eqs.some((eq) => eq(values)));
        break;
      }
      case '$nin': {
        const eqs = (operand as unknown[]).map(equals);
        tests.push((values) => !eqs.some((eq) => eq(values)));
        break;
      }
      case '$all': {
        const eqs = (operand as unknown[]).map(equals);
        tests.push((values) => eqs.length > 0 && eqs.every((eq) => eq(values)));
        break;
      }
      case '$exists':
        tests.push((values) => values.some((v) => v !== MISSING) === operand);
        break;
      case '$size':
        tests.push((values) => values.some((v) => Array.isArray(v) && v.length === operand));
        break;
      case '$regex': {
        const flags = typeof ops['$options'] === 'string' ? ops['$options'].replace(/x/g, '') : '';
        const re = new RegExp(operand as string, flags);
        tests.push((values) => flatten(values).some((v) => typeof v === 'string' && re.test(v)));
        break;
      }
      case '$options':
        break;
      case '$elemMatch': {
        const sub = operand as Doc;
        const onElement = isOperators(sub) && !('$and' in sub || '$or' in sub || '$nor' in sub);
        const elementTest = onElement ? operatorsTest(sub) : undefined;
        const docTest = onElement ? undefined : compileMatcher(sub);
        tests.push((values) =>
          values.some((v) => Array.isArray(v) && v.some((e) => (elementTest ? elementTest([e]) : isPlainObject(e) && (docTest as Predicate)(e)))),
        );
        break;
      }
      default:
        // Unreachable after validation; refusing beats matching what MongoDB would not.
        throw new Error(`operator ${op} cannot be evaluated`);
    }
  }
  return (values) => tests.every((t) => t(values));
}
