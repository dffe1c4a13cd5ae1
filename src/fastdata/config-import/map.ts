/**
 * The generated `map` of an imported single view: evaluates the aggregation.json mapping over the
 * documents the include tree resolved.
 *
 *   input { base: PEOPLE doc, '@SV_CONFIG.MARRIAGE': doc | null, ... }   (nested includes sit on their parent doc)
 *     --> dependencies resolved in order (`_select` branches chosen, constant conditions filtered)
 *     --> the mapping: paths, constants, configs (objects or arrays), custom functions, `_select`
 *
 * A path that resolves to nothing maps to null (the Fast Data SVC stores undefined as null).
 */
import { TributaryError } from '../../errors.js';
import type { Row } from '../cdc/change-event.js';
import type { Comparison, ConfigPlan, DepNode, DepPlan, Expr, Operand, ViewPlan } from './plan.js';

/**
 * A custom mapping function (`__fromFile__[name]` in aggregation.json). Fast Data's are
 * `async (logger, mongoClient, dependenciesMap)`; here they are synchronous and receive the
 * dependencies map only: projection dependency → document or null, config dependency → its value.
 */
export type CustomMappingFunction = (dependencies: ReadonlyMap<string, unknown>) => unknown;

interface Holder {
  /** the document's fields */
  readonly doc: Row;
  /** where its included relations sit (the map input for the base) */
  readonly children: Row;
}

class Scope {
  readonly values = new Map<string, unknown>();
  readonly holders = new Map<DepNode, Holder>();
  constructor(readonly parent: Scope | null) {}

  value(name: string): unknown {
    return this.values.has(name) ? this.values.get(name) : this.parent?.value(name);
  }

  holder(node: DepNode): Holder | undefined {
    return this.holders.get(node) ?? this.parent?.holder(node);
  }

  /** Every dependency visible here (inner names shadow outer ones). */
  all(): Map<string, unknown> {
    return new Map([...(this.parent?.all() ?? []), ...this.values]);
  }
}

export function viewMapper(plan: ViewPlan, functions: Readonly<Record<string, CustomMappingFunction>>): (input: Row) => Row {
  return (input) => {
    const base = input['base'] as Row;
    const scope = new Scope(null);
    scope.holders.set(plan.base, { doc: base, children: input });
    scope.values.set(plan.baseDependency, base);
    const out = evalConfigBody(plan.root, scope, functions);
    if (typeof out !== 'object' || out === null || Array.isArray(out)) throw new TributaryError('TRB_PROCESS', `single view '${plan.name}': the SV_CONFIG mapping must produce an object`);
    return out as Row;
  };
}

function evalConfigBody(config: ConfigPlan, scope: Scope, functions: Readonly<Record<string, CustomMappingFunction>>): unknown {
  for (const dep of config.deps) resolveDep(dep, scope, functions);
  return evalExpr(config.mapping, scope, functions);
}

function resolveDep(dep: DepPlan, scope: Scope, functions: Readonly<Record<string, CustomMappingFunction>>): void {
  if (dep.kind === 'config') {
    scope.values.set(dep.name, evalConfig(dep.config, scope, functions));
    return;
  }
  const chosen = dep.alternatives.find((a) => a.when === null || compare(a.when, scope, functions));
  const doc = chosen ? (related(chosen.node, scope)[0] ?? null) : null;
  scope.values.set(dep.name, doc === null ? null : clean(doc));
  if (chosen && doc) scope.holders.set(chosen.node, { doc, children: doc });
}

function evalConfig(config: ConfigPlan, outer: Scope, functions: Readonly<Record<string, CustomMappingFunction>>): unknown {
  if (!config.join) return evalConfigBody(config, new Scope(outer), functions);
  const join = config.join;
  const node = join.alternatives[0]?.node;
  if (!node) return [];
  return related(node, outer).map((doc) => {
    const scope = new Scope(outer);
    scope.holders.set(node, { doc, children: doc });
    scope.values.set(join.name, clean(doc));
    return evalConfigBody(config, scope, functions);
  });
}

/** The documents of `node` related to its parent's document in scope, constant conditions applied. */
function related(node: DepNode, scope: Scope): Row[] {
  const parent = node.parent ? scope.holder(node.parent) : undefined;
  if (!parent) return [];
  const raw = parent.children[node.slot];
  const list = Array.isArray(raw) ? (raw as Row[]) : raw ? [raw as Row] : [];
  const constants = Object.entries(node.constants);
  return constants.length === 0 ? list : list.filter((d) => constants.every(([f, v]) => same(d[f], v)));
}

/** A document as mapping sees it: without the include slots. */
function clean(doc: Row): Row {
  return Object.fromEntries(Object.entries(doc).filter(([k]) => !k.startsWith('@')));
}

function evalOperand(operand: Operand, scope: Scope, functions: Readonly<Record<string, CustomMappingFunction>>): unknown {
  if (operand.kind === 'const') return operand.value;
  if (operand.kind === 'fn') {
    const fn = functions[operand.name] as CustomMappingFunction;
    const value = fn(scope.all());
    if (value instanceof Promise) throw new TributaryError('TRB_PROCESS', `custom function '${operand.name}' returned a Promise; imported custom functions must be synchronous`);
    return value === undefined ? null : value;
  }
  let value: unknown = scope.value(operand.dep);
  for (const segment of operand.path) {
    if (typeof value !== 'object' || value === null) return null;
    value = (value as Record<string, unknown>)[segment];
  }
  return value === undefined ? null : value;
}

function evalExpr(expr: Expr, scope: Scope, functions: Readonly<Record<string, CustomMappingFunction>>): unknown {
  switch (expr.kind) {
    case 'object':
      return Object.fromEntries(expr.fields.map(([k, v]) => [k, evalExpr(v, scope, functions)]));
    case 'select': {
      const option = expr.options.find((o) => compare(o.when, scope, functions));
      if (option) return evalExpr(option.value, scope, functions);
      return expr.fallback ? evalExpr(expr.fallback, scope, functions) : null;
    }
    default:
      return evalOperand(expr, scope, functions);
  }
}

function compare(c: Comparison, scope: Scope, functions: Readonly<Record<string, CustomMappingFunction>>): boolean {
  const a = evalOperand(c.left, scope, functions);
  const b = evalOperand(c.right, scope, functions);
  if (c.op === '==') return same(a, b);
  if (c.op === '!=') return !same(a, b);
  if (a === null || b === null) return false;
  const x = a instanceof Date ? a.getTime() : a;
  const y = b instanceof Date ? b.getTime() : b;
  if (typeof x !== typeof y || (typeof x !== 'number' && typeof x !== 'string')) return false;
  const [l, r] = [x as number | string, y as number | string];
  return c.op === '>' ? l > r : c.op === '<' ? l < r : c.op === '>=' ? l >= r : l <= r;
}

function same(a: unknown, b: unknown): boolean {
  const x = a === undefined ? null : a;
  const y = b === undefined ? null : b;
  if (x === y) return true;
  if (x instanceof Date && y instanceof Date) return x.getTime() === y.getTime();
  return typeof x === 'object' && x !== null && typeof y === 'object' && y !== null && JSON.stringify(x) === JSON.stringify(y);
}
