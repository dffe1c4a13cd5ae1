/**
 * aggregation.json mapping values and `_select` conditions --> Expr / Comparison.
 *
 *   "PEOPLE.name"                      --> path PEOPLE → name      (first segment: a dependency in scope)
 *   "CHILDREN"                         --> the value of the config dependency CHILDREN
 *   "__string__[person]"               --> constant 'person'
 *   "__fromFile__[myFunc]"             --> custom function myFunc (given in `customFunctions`)
 *   { "a": ..., "b": { ... } }         --> nested object
 *   { "_select": { "options": [ { "when": { "==": ["PEOPLE.age", null] }, "value": ... } ], "default": ... } }
 */
import { CONSTANT_FORMS, constantValue, fromFileName } from './constants.js';
import { COMPARE_OPS, type CompareOp, type Comparison, type Expr, type Operand } from './plan.js';
import { configError, describeValue, expectArray, expectObject, isObject, onlyKeys, type Where } from './where.js';

export interface ExprContext {
  /** Dependency names visible here. */
  readonly names: ReadonlySet<string>;
  /** Custom functions available (names); a missing one is TRB_CONFIG. */
  readonly functions: ReadonlySet<string>;
}

const MAPPING_FORMS = `"DEPENDENCY.field", "CONFIG_NAME", ${CONSTANT_FORMS}, "__fromFile__[name]", a nested object, { "_select": { options, default } }`;

export function parseOperand(value: unknown, at: Where, ctx: ExprContext): Operand {
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return { kind: 'const', value };
  if (typeof value !== 'string' || value === '') throw configError(at, `expected an operand, got ${describeValue(value)}`, `"DEPENDENCY.field", ${CONSTANT_FORMS}, "__fromFile__[name]", null`);
  const fn = fromFileName(value);
  if (fn !== undefined) {
    if (!ctx.functions.has(fn)) throw configError(at, `custom function '${fn}' is not available; pass it as customFunctions.${fn}`, [...ctx.functions].join(', ') || 'no custom function was given');
    return { kind: 'fn', name: fn };
  }
  const constant = constantValue(value, at);
  if (constant) return { kind: 'const', value: constant.value };
  const [dep = '', ...path] = value.split('.');
  if (!ctx.names.has(dep)) {
    throw configError(at, `'${value}' does not start with a dependency in scope (a misspelt constant or dependency?)`, [...[...ctx.names].map((n) => `"${n}.…"`), CONSTANT_FORMS].join(', '));
  }
  if (path.some((p) => p === '')) throw configError(at, `'${value}' has an empty path segment`);
  return { kind: 'path', dep, path };
}

export function parseComparison(value: unknown, at: Where, ctx: ExprContext): Comparison {
  const when = expectObject(value, at, `a comparison { "<op>": [left, right] } with op one of ${COMPARE_OPS.join(' ')}`);
  const ops = Object.keys(when);
  const op = ops[0];
  if (ops.length !== 1 || op === undefined || !COMPARE_OPS.includes(op as CompareOp)) {
    throw configError(at, `a comparison has exactly one operator, got ${ops.map((o) => `'${o}'`).join(', ') || 'none'}`, COMPARE_OPS.join(', '));
  }
  const operands = expectArray(when[op], at.key(op), 'an array of two operands');
  if (operands.length !== 2) throw configError(at.key(op), `'${op}' takes two operands, got ${operands.length}`, '[left, right]');
  return { op: op as CompareOp, left: parseOperand(operands[0], at.key(op).key(0), ctx), right: parseOperand(operands[1], at.key(op).key(1), ctx) };
}

/** `{ options: [{ when, value }], default? }` with `value` parsed by `parseValue`. */
export function parseSelect<T>(value: unknown, at: Where, ctx: ExprContext, parseValue: (v: unknown, at: Where) => T): { options: Array<{ when: Comparison; value: T }>; fallback: T | null } {
  const select = expectObject(value, at, 'an object { options: [{ when, value }], default? }');
  onlyKeys(select, at, ['options', 'default']);
  const options = expectArray(select['options'], at.key('options'), 'an array of { when, value }').map((raw, i) => {
    const oAt = at.key('options').key(i);
    const option = expectObject(raw, oAt, 'an object { when, value }');
    onlyKeys(option, oAt, ['when', 'value']);
    return { when: parseComparison(option['when'], oAt.key('when'), ctx), value: parseValue(option['value'], oAt.key('value')) };
  });
  return { options, fallback: select['default'] === undefined ? null : parseValue(select['default'], at.key('default')) };
}

export function parseExpr(value: unknown, at: Where, ctx: ExprContext): Expr {
  if (typeof value === 'string') return parseOperand(value, at, ctx);
  if (!isObject(value)) throw configError(at, `unsupported mapping value ${describeValue(value)}`, MAPPING_FORMS);
  if ('_select' in value) {
    onlyKeys(value, at, ['_select']);
    const select = parseSelect(value['_select'], at.key('_select'), ctx, (v, vAt) => parseExpr(v, vAt, ctx));
    return { kind: 'select', options: select.options, fallback: select.fallback };
  }
  return { kind: 'object', fields: Object.entries(value).map(([k, v]) => [k, parseExpr(v, at.key(k), ctx)] as const) };
}
