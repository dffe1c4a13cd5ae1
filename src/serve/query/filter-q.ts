/**
 * The `_q` grammar: a MongoDB filter restricted to an allow-list of operators, on declared fields
 * only, with values cast by field type. Anything else is refused with TRB_QUERY_INVALID naming the
 * offending path and what is allowed there. The point is that a client can never reach the server
 * with an operator that runs code (`$where`, `$function`, `$accumulator`) or escapes the field
 * model (`$expr`), and can never make the server do unbounded work.
 */
import { TributaryError } from '../../errors.js';
import { fieldOf, type Endpoint, type ServedField } from '../model.js';
import { castJsonValue, queryError } from './cast.js';
import { hiddenColumn, type ReadableColumns } from './columns.js';
import { repetitionProblem } from './regex-cost.js';

export const LOGICAL_OPERATORS = ['$and', '$or', '$nor'] as const;
export const FIELD_OPERATORS = ['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$all', '$exists', '$regex', '$options', '$elemMatch', '$size'] as const;
/** Refused with a message that says why: they run code or leave the declared field model. */
export const REFUSED_OPERATORS = ['$where', '$expr', '$function', '$accumulator', '$jsonSchema'] as const;
/** CRUD Service operators that need a server capability this read API does not probe yet. */
export const UNSUPPORTED_OPERATORS = ['$text', '$nearSphere'] as const;

export interface QueryLimits {
  /** Nesting depth of objects/arrays in `_q` (default 8). */
  readonly maxDepth: number;
  /** Bytes of the `_q` text (default 8192). */
  readonly maxBytes: number;
  /** Characters of one `$regex` (default 256). */
  readonly maxRegexLength: number;
  /** Values of one `$in`/`$nin`/`$all` (default 1000). */
  readonly maxInValues: number;
}

export const DEFAULT_QUERY_LIMITS: QueryLimits = { maxDepth: 8, maxBytes: 8192, maxRegexLength: 256, maxInValues: 1000 };

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/** `_q` text (JSON, or base64 of JSON) → a validated, cast MongoDB filter. */
export function parseQ(text: string, endpoint: Endpoint, options: { base64?: boolean; limits?: QueryLimits; columns?: ReadableColumns } = {}): Json {
  const limits = options.limits ?? DEFAULT_QUERY_LIMITS;
  if (Buffer.byteLength(text) > limits.maxBytes) throw queryError(`_q is larger than ${limits.maxBytes} bytes`, '_q');
  const decoded = options.base64 === true ? Buffer.from(text, 'base64').toString('utf8') : text;
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoded);
  } catch {
    // Clients behind URL-mangling tools send base64 without the header; accept it when it decodes to JSON.
    try {
      parsed = options.base64 === true ? undefined : JSON.parse(Buffer.from(text, 'base64').toString('utf8'));
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined) throw queryError('_q must be a JSON object (or base64 of one with json-query-params-encoding: base64)', '_q');
  }
  if (!isObject(parsed)) throw queryError('_q must be a JSON object', '_q');
  return new QValidator(endpoint, limits, options.columns).filter(parsed, '_q', 1);
}

/**
 * `acl_rows` (CRUD Service): one filter or an array of filters, ANDed into every read; validated
 * like `_q` (allowed operators, known fields, depth and size limits), errors naming the header
 * (`name`, default `acl_rows`: the configured header name).
 */
export function parseAclRows(text: string, endpoint: Endpoint, options: { limits?: QueryLimits; name?: string } = {}): Json[] {
  const limits = options.limits ?? DEFAULT_QUERY_LIMITS;
  const name = options.name ?? 'acl_rows';
  if (Buffer.byteLength(text) > limits.maxBytes) throw queryError(`${name} is larger than ${limits.maxBytes} bytes`, name);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw queryError(`${name} must be a JSON filter or an array of filters`, name);
  }
  const list = Array.isArray(parsed) ? parsed : [parsed];
  const validator = new QValidator(endpoint, limits);
  return list.map((filter, i) => {
    const path = Array.isArray(parsed) ? `${name}[${i}]` : name;
    if (!isObject(filter)) throw queryError(`${path} must be a JSON object`, path);
    return validator.filter(filter, path, 1);
  });
}

/**
 * Validates one filter. With `columns` (the caller's acl_read_columns), every document path a
 * condition reads must be readable: `{"customer.tier": …}` needs `customer` or `customer.tier`
 * listed; `$elemMatch` with field conditions reads each `<field>.<sub>`; any other condition reads
 * the whole field (an equality on `customer` compares its hidden parts too).
 */
/** `$elemMatch` over the element's fields (`{status: 'paid'}`), not operators on the element itself (`{$gt: 3}`). */
function hasFieldConditions(operand: unknown): boolean {
  return isObject(operand) && !Object.keys(operand).every((k) => k.startsWith('$') && !LOGICAL_OPERATORS.includes(k as (typeof LOGICAL_OPERATORS)[number]));
}

class QValidator {
  constructor(
    readonly endpoint: Endpoint,
    readonly limits: QueryLimits,
    readonly columns?: ReadableColumns,
  ) {}

  /** `prefix`: the document path of the array whose elements an `$elemMatch` filter describes. */
  filter(node: Json, path: string, depth: number, prefix = ''): Json {
    this.#depth(depth, path);
    const out: Json = {};
    for (const [key, value] of Object.entries(node)) {
      const here = `${path}.${key}`;
      if (key.startsWith('$')) {
        this.#topOperator(key, here);
        if (!Array.isArray(value) || value.length === 0) throw queryError(`${here} must be a non-empty array of filters`, here);
        out[key] = value.map((item, i) => {
          if (!isObject(item)) throw queryError(`${here}[${i}] must be an object`, `${here}[${i}]`);
          return this.filter(item, `${here}[${i}]`, depth + 2, prefix);
        });
        continue;
      }
      const target = fieldOf(this.endpoint, key);
      if (target === null) throw queryError(`unknown field '${key}' at ${here}`, here, Object.keys(this.endpoint.fields));
      const field = target.nested ? undefined : target.field;
      out[key] = this.condition(value, field, here, depth + 1, prefix === '' ? key : `${prefix}.${key}`);
    }
    return out;
  }

  /** `document`: the document path the condition applies to (for the readable-columns check). */
  condition(value: unknown, field: ServedField | undefined, path: string, depth: number, document: string): unknown {
    if (!isObject(value) || !Object.keys(value).some((k) => k.startsWith('$'))) {
      this.#readable(document, path);
      return this.literal(value, field, path, depth);
    }
    this.#depth(depth, path);
    // Only `$elemMatch` over the elements' fields reads sub-fields (checked one by one); the rest read the field.
    if (Object.entries(value).some(([op, operand]) => !(op === '$elemMatch' && hasFieldConditions(operand)))) this.#readable(document, path);
    const out: Json = {};
    for (const [op, operand] of Object.entries(value)) {
      const here = `${path}.${op}`;
      if (!op.startsWith('$')) throw queryError(`${path} mixes operators and field names`, here, FIELD_OPERATORS);
      out[op] = this.operator(op, operand, field, here, depth + 1, document);
    }
    if ('$options' in out && !('$regex' in out)) throw queryError(`${path}.$options needs $regex`, `${path}.$options`);
    return out;
  }

  operator(op: string, operand: unknown, field: ServedField | undefined, path: string, depth: number, document: string): unknown {
    switch (op) {
      case '$eq':
      case '$ne':
        return this.literal(operand, field, path, depth);
      case '$gt':
      case '$gte':
      case '$lt':
      case '$lte': {
        const value = this.literal(operand, field, path, depth);
        if (typeof value === 'object' && value !== null && !(value instanceof Date) && !('_bsontype' in value)) {
          throw queryError(`${path} needs a number, string or date`, path);
        }
        return value;
      }
      case '$in':
      case '$nin':
      case '$all': {
        if (!Array.isArray(operand)) throw queryError(`${path} must be an array`, path);
        if (operand.length > this.limits.maxInValues) throw queryError(`${path} has more than ${this.limits.maxInValues} values`, path);
        const element = field && (field.type === 'arrayOfString' || field.type === 'arrayOfNumber') ? undefined : field;
        return operand.map((v, i) => this.literal(v, element, `${path}[${i}]`, depth + 1));
      }
      case '$exists':
        if (typeof operand !== 'boolean') throw queryError(`${path} must be true or false`, path);
        return operand;
      case '$regex': {
        if (typeof operand !== 'string') throw queryError(`${path} must be a string`, path);
        if (operand.length > this.limits.maxRegexLength) throw queryError(`${path} is longer than ${this.limits.maxRegexLength} characters`, path);
        try {
          new RegExp(operand);
        } catch {
          throw queryError(`${path} is not a valid regular expression`, path);
        }
        // Both as written and as the `x` flag reads it (whitespace and # comments ignored).
        const problem = repetitionProblem(operand) ?? repetitionProblem(operand.replace(/#[^\n]*|\s+/g, ''));
        if (problem !== undefined) {
          throw queryError(`${path} uses ${problem}, whose matching time can grow exponentially; rewrite the pattern without them (e.g. [a-z,]* instead of ([a-z]+,)*)`, path);
        }
        return operand;
      }
      case '$options':
        if (typeof operand !== 'string' || !/^[imsx]*$/.test(operand)) throw queryError(`${path} may only use the flags i, m, s, x`, path);
        return operand;
      case '$size':
        if (typeof operand !== 'number' || !Number.isInteger(operand) || operand < 0) throw queryError(`${path} must be a non-negative integer`, path);
        return operand;
      case '$elemMatch': {
        if (!isObject(operand)) throw queryError(`${path} must be an object`, path);
        // Inside $elemMatch: either operators on the element, or a filter over the element's fields (uncast).
        if (!hasFieldConditions(operand)) return this.condition(operand, undefined, path, depth, document);
        return new QValidator({ ...this.endpoint, strict: false, fields: {} }, this.limits, this.columns).filter(operand, path, depth, document);
      }
      default:
        throw this.#refusal(op, path, FIELD_OPERATORS);
    }
  }

  /** An equality value: cast by field type; embedded documents may not hide operators. */
  literal(value: unknown, field: ServedField | undefined, path: string, depth: number): unknown {
    this.#depth(depth, path);
    if (Array.isArray(value)) return value.map((v, i) => this.literal(v, undefined, `${path}[${i}]`, depth + 1));
    if (isObject(value)) {
      const out: Json = {};
      for (const [k, v] of Object.entries(value)) {
        if (k.startsWith('$')) throw this.#refusal(k, `${path}.${k}`, FIELD_OPERATORS);
        out[k] = this.literal(v, undefined, `${path}.${k}`, depth + 1);
      }
      return out;
    }
    return castJsonValue(value, field, path);
  }

  #readable(document: string, path: string): void {
    if (this.columns && !this.columns.permits(document)) throw hiddenColumn(document, path, this.columns);
  }

  #topOperator(key: string, path: string): void {
    if (!LOGICAL_OPERATORS.includes(key as (typeof LOGICAL_OPERATORS)[number])) throw this.#refusal(key, path, LOGICAL_OPERATORS);
  }

  #refusal(op: string, path: string, allowed: readonly string[]): TributaryError {
    if (UNSUPPORTED_OPERATORS.includes(op as (typeof UNSUPPORTED_OPERATORS)[number])) {
      return new TributaryError('TRB_QUERY_UNSUPPORTED', `operator ${op} at ${path} is not supported by this read API`, { context: { path, allowed: [...allowed] } });
    }
    const why = REFUSED_OPERATORS.includes(op as (typeof REFUSED_OPERATORS)[number]) ? 'is refused (it runs code or bypasses the declared fields)' : 'is not allowed';
    return queryError(`operator ${op} at ${path} ${why}; allowed: ${allowed.join(', ')}`, path, allowed);
  }

  #depth(depth: number, path: string): void {
    if (depth > this.limits.maxDepth) throw queryError(`_q is nested deeper than ${this.limits.maxDepth} levels at ${path}`, path);
  }
}
