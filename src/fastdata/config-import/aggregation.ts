/**
 * aggregation.json (1.0.0–1.3.0, §4.3) + singleViewKey.json + erSchema.json --> ViewPlan.
 *
 *   SV_CONFIG.dependencies.PEOPLE  { on: "_identifier" }                 --> the base projection
 *   MARRIAGE { on: "PEOPLE_TO_MARRIAGE" }                                --> hasOne under the dependency reading the condition's source
 *   PARTNER  { aliasOf: "PEOPLE", on: "MARRIAGE_b_TO_PEOPLE" }           --> hasOne(PEOPLE) under MARRIAGE
 *   MOTHER_IN_LAW { aliasOf: "PEOPLE", useAlias: "PARTNER", on: ... }    --> hasOne(PEOPLE) under PARTNER
 *   CHILDREN { type: "config" } + config.CHILDREN.joinDependency          --> hasMany under the join's source, mapped per item
 *   JOB { _select: { options: [{ when, value: { aliasOf, on } }], default } } --> one relation per branch, chosen in `map`
 */
import type { Projection } from '../projection/projection.js';
import { METADATA_FIELDS, type RecordState } from '../projection/metadata.js';
import type { ErSchema } from './er-schema.js';
import { parseExpr, parseSelect, type ExprContext } from './expressions.js';
import type { Comparison, ConfigPlan, DepNode, DepPlan, ViewPlan } from './plan.js';
import { configError, describeValue, expectArray, expectObject, expectString, onlyKeys, versioned, type Json, type Where } from './where.js';

const STATES: readonly RecordState[] = ['PUBLIC', 'DRAFT', 'TRASH', 'DELETED'];
const DEP_KEYS = ['type', 'on', 'aliasOf', 'useAlias', 'identifierQueryMapping', 'onStates', '_select'];

interface Context {
  readonly er: ErSchema;
  readonly projections: ReadonlyMap<string, Projection<object>>;
  readonly configs: Json;
  readonly where: Where;
  readonly functions: ReadonlySet<string>;
  /** identifier field → base field, once the base is known */
  identifierToBase: Record<string, string>;
  base: DepNode | null;
  baseName: string;
  /** Configs being built (outermost first), to refuse a config nesting itself. */
  readonly building: string[];
}

/** A dependency visible to later ones: name → plan (outer scopes first). */
type Visible = ReadonlyArray<DepPlan>;

export function planView(name: string, aggregation: unknown, aggregationWhere: Where, singleViewKey: unknown, keyWhere: Where, er: ErSchema, projections: ReadonlyMap<string, Projection<object>>, functions: ReadonlySet<string>): ViewPlan {
  const configs = versioned(aggregation, aggregationWhere, ['1.0.0', '1.1.0', '1.2.0', '1.3.0']);
  const keyConfig = versioned(singleViewKey, keyWhere, ['1.0.0']);
  const keyIdentifier: Record<string, string> = {};
  for (const [field, v] of Object.entries(keyConfig)) keyIdentifier[field] = expectString(v, keyWhere.key('config').key(field), 'an identifier field name (string)');
  if (Object.keys(keyIdentifier).length === 0) throw configError(keyWhere.key('config'), 'the single view key is empty', '{ "<view field>": "<identifier field>" }');

  const ctx: Context = { er, projections, configs, where: aggregationWhere.key('config'), functions, identifierToBase: {}, base: null, baseName: '', building: [] };
  const rootAt = ctx.where.key('SV_CONFIG');
  const root = buildConfig('SV_CONFIG', expectObject(configs['SV_CONFIG'], rootAt, 'the mandatory SV_CONFIG object'), rootAt, ctx, [], Object.values(keyIdentifier));
  const base = ctx.base as DepNode | null;
  if (!base) throw configError(rootAt.key('dependencies'), 'no dependency has "on": "_identifier", so there is no base projection', 'one projection dependency with "on": "_identifier"');
  const key: Record<string, string> = {};
  for (const [field, identifierField] of Object.entries(keyIdentifier)) {
    const baseField = ctx.identifierToBase[identifierField];
    if (!baseField) throw configError(keyWhere.key('config').key(field), `identifier field '${identifierField}' is not used by the base dependency's identifierQueryMapping`, Object.keys(ctx.identifierToBase).join(', '));
    key[field] = baseField;
  }
  return { name, base, baseDependency: ctx.baseName, key, keyIdentifier, identifierToBase: ctx.identifierToBase, root };
}

function order(deps: Json, config: Json, at: Where): string[] {
  if (config['dependencyOrder'] === undefined) return Object.keys(deps);
  const listed = expectArray(config['dependencyOrder'], at.key('dependencyOrder'), 'an array of dependency names').map((n, i) => {
    const dep = expectString(n, at.key('dependencyOrder').key(i), 'a dependency name');
    if (!(dep in deps)) throw configError(at.key('dependencyOrder').key(i), `'${dep}' is not a dependency of this config`, Object.keys(deps).join(', '));
    return dep;
  });
  return [...new Set([...listed, ...Object.keys(deps)])];
}

function buildConfig(name: string, config: Json, at: Where, ctx: Context, outer: Visible, identifierFields: readonly string[]): ConfigPlan {
  ctx.building.push(name);
  try {
    return buildConfigBody(name, config, at, ctx, outer, identifierFields);
  } finally {
    ctx.building.pop();
  }
}

function buildConfigBody(name: string, config: Json, at: Where, ctx: Context, outer: Visible, identifierFields: readonly string[]): ConfigPlan {
  onlyKeys(config, at, ['dependencies', 'dependencyOrder', 'mapping', 'joinDependency']);
  const deps = expectObject(config['dependencies'] ?? {}, at.key('dependencies'), 'an object of dependencies');
  const joinName = config['joinDependency'] === undefined ? null : expectString(config['joinDependency'], at.key('joinDependency'), 'a dependency name');
  if (joinName !== null && !(joinName in deps)) throw configError(at.key('joinDependency'), `'${joinName}' is not a dependency of config '${name}'`, Object.keys(deps).join(', ') || 'no dependency');
  if (joinName !== null && name === 'SV_CONFIG') throw configError(at.key('joinDependency'), 'SV_CONFIG cannot have a joinDependency (only named sub-configs map to arrays)');
  const visible: DepPlan[] = [...outer];
  const own: DepPlan[] = [];
  let join: (DepPlan & { kind: 'projection' }) | null = null;
  const names = joinName === null ? order(deps, config, at) : [joinName, ...order(deps, config, at).filter((n) => n !== joinName)];
  for (const depName of names) {
    const dAt = at.key('dependencies').key(depName);
    const dep = expectObject(deps[depName], dAt, 'a dependency { type, on, ... }');
    onlyKeys(dep, dAt, DEP_KEYS);
    const type = dep['type'];
    let plan: DepPlan | null;
    if (type === 'config') {
      if (depName === 'SV_CONFIG' || ctx.building.includes(depName)) throw configError(dAt, `config '${depName}' includes itself (${[...ctx.building, depName].join(' → ')})`, 'configs that do not nest themselves');
      const sub = expectObject(ctx.configs[depName], ctx.where.key(depName), `a config named '${depName}' (dependency '${depName}' has type "config")`);
      plan = { kind: 'config', name: depName, config: buildConfig(depName, sub, ctx.where.key(depName), ctx, visible, identifierFields) };
    } else if (type === 'projection') {
      plan = projectionDep(name, depName, dep, dAt, ctx, visible, depName === joinName, identifierFields);
      if (plan === null) continue; // the base itself, already visible
    } else {
      throw configError(dAt.key('type'), `unsupported dependency type ${describeValue(type)}`, '"projection", "config"');
    }
    visible.push(plan);
    if (depName === joinName && plan.kind === 'projection') join = plan;
    else own.push(plan);
  }
  if (config['mapping'] === undefined) throw configError(at.key('mapping'), `config '${name}' has no mapping`, 'an object of view fields');
  const exprCtx: ExprContext = { names: new Set(visible.map((d) => d.name)), functions: ctx.functions };
  const mapping = parseExpr(expectObject(config['mapping'], at.key('mapping'), 'an object of view fields'), at.key('mapping'), exprCtx);
  return { name, join, deps: own, mapping };
}

/** The plan of a projection dependency; null for the base (made visible here). */
function projectionDep(configName: string, depName: string, dep: Json, at: Where, ctx: Context, visible: DepPlan[], isJoin: boolean, identifierFields: readonly string[]): DepPlan | null {
  const onStates = parseStates(dep['onStates'], at.key('onStates'));
  if (dep['_select'] !== undefined) {
    for (const k of ['on', 'aliasOf', 'useAlias']) if (dep[k] !== undefined) throw configError(at.key(k), `'${k}' goes inside the _select options of a dependency that has _select`);
    if (isJoin) throw configError(at.key('_select'), 'a joinDependency cannot use _select');
    const exprCtx: ExprContext = { names: new Set(visible.map((d) => d.name)), functions: ctx.functions };
    let n = 0;
    const branch = (value: unknown, vAt: Where) => {
      const v = expectObject(value, vAt, 'an object { aliasOf?, on, useAlias?, onStates? }');
      onlyKeys(v, vAt, ['aliasOf', 'on', 'useAlias', 'onStates']);
      const states = v['onStates'] === undefined ? onStates : parseStates(v['onStates'], vAt.key('onStates'));
      return (suffix: string) => relate(`@${configName}.${depName}#${suffix}`, depName, v, vAt, ctx, visible, false, states);
    };
    const select = parseSelect(dep['_select'], at.key('_select'), exprCtx, branch);
    const alternatives: Array<{ when: Comparison | null; node: DepNode }> = select.options.map((o) => ({ when: o.when, node: o.value(String(n++)) }));
    if (select.fallback) alternatives.push({ when: null, node: select.fallback('default') });
    if (alternatives.length === 0) throw configError(at.key('_select'), 'a _select needs at least one option or a default', '{ options: [{ when, value }], default }');
    return { kind: 'projection', name: depName, alternatives };
  }
  if (dep['on'] === '_identifier') {
    if (configName !== 'SV_CONFIG') throw configError(at.key('on'), '"on": "_identifier" is only supported in SV_CONFIG');
    const projectionName = checkedProjection(dep['aliasOf'] ?? depName, at.key(dep['aliasOf'] === undefined ? 'type' : 'aliasOf'), ctx);
    const mapping = identifierMapping(dep['identifierQueryMapping'], at.key('identifierQueryMapping'), identifierFields);
    if (!ctx.base) {
      // The base: its fields are the identifier (through identifierQueryMapping).
      ctx.identifierToBase = Object.fromEntries(Object.entries(mapping).map(([baseField, id]) => [id, baseField]));
      checkFields(ctx, projectionName, Object.keys(mapping), at.key('identifierQueryMapping'));
      ctx.baseName = depName;
      ctx.base = { slot: '$base', projection: projectionName, parent: null, many: false, on: {}, constants: {}, onStates, children: [], where: at };
      visible.push({ kind: 'projection', name: depName, alternatives: [{ when: null, node: ctx.base }] });
      return null;
    }
    // Another projection read by the identifier: a relation to the base on the base fields holding it.
    const on: Record<string, string> = {};
    for (const [field, id] of Object.entries(mapping)) {
      const baseField = ctx.identifierToBase[id];
      if (!baseField) throw configError(at.key('identifierQueryMapping'), `identifier field '${id}' is not read by the base dependency`, Object.keys(ctx.identifierToBase).join(', '));
      on[field] = baseField;
    }
    checkFields(ctx, projectionName, Object.keys(on), at.key('identifierQueryMapping'));
    const node: DepNode = { slot: `@${configName}.${depName}`, projection: projectionName, parent: ctx.base, many: isJoin, on, constants: {}, onStates, children: [], where: at };
    ctx.base.children.push(node);
    return { kind: 'projection', name: depName, alternatives: [{ when: null, node }] };
  }
  if (dep['identifierQueryMapping'] !== undefined) throw configError(at.key('identifierQueryMapping'), 'identifierQueryMapping requires "on": "_identifier"');
  return { kind: 'projection', name: depName, alternatives: [{ when: null, node: relate(`@${configName}.${depName}`, depName, dep, at, ctx, visible, isJoin, onStates) }] };
}

/** A dependency joined by an ER condition: find the condition, its source dependency, and hang a node under it. */
function relate(slot: string, depName: string, dep: Json, at: Where, ctx: Context, visible: readonly DepPlan[], many: boolean, onStates: readonly RecordState[]): DepNode {
  const projectionName = checkedProjection(dep['aliasOf'] ?? depName, at.key(dep['aliasOf'] === undefined ? 'on' : 'aliasOf'), ctx);
  const conditionName = expectString(dep['on'], at.key('on'), '"_identifier" or a condition name of erSchema.json');
  const condition = ctx.er.named(conditionName, at.key('on'));
  if (condition.target !== projectionName) {
    throw configError(at.key('on'), `condition '${conditionName}' goes from '${condition.source}' to '${condition.target}', but dependency '${depName}' reads projection '${projectionName}'`, `a condition whose target is '${projectionName}' (or set aliasOf)`);
  }
  const sources = visible.flatMap((d) => (d.kind === 'projection' && d.alternatives.length === 1 && d.alternatives[0]?.node.projection === condition.source ? [{ name: d.name, node: d.alternatives[0].node }] : []));
  let parent: DepNode | undefined;
  if (dep['useAlias'] !== undefined) {
    const alias = expectString(dep['useAlias'], at.key('useAlias'), 'a dependency name');
    parent = sources.find((s) => s.name === alias)?.node;
    if (!parent) throw configError(at.key('useAlias'), `'${alias}' is not an earlier dependency reading '${condition.source}' (the source of '${conditionName}')`, sources.map((s) => s.name).join(', ') || 'none');
  } else {
    parent = (sources.find((s) => s.name === condition.source) ?? (sources.length === 1 ? sources[0] : undefined))?.node;
    if (!parent && sources.length > 1) throw configError(at.key('on'), `several dependencies read '${condition.source}' (${sources.map((s) => s.name).join(', ')}); say which with useAlias`);
    if (!parent) throw configError(at.key('on'), `no earlier dependency reads '${condition.source}', the source of condition '${conditionName}'`, 'a dependency listed before this one (dependencyOrder) that reads the source projection');
  }
  checkFields(ctx, projectionName, [...Object.keys(condition.fields), ...Object.keys(condition.constants)], condition.where);
  checkFields(ctx, condition.source, Object.values(condition.fields), condition.where);
  const hasConstants = Object.keys(condition.constants).length > 0;
  const node: DepNode = { slot, projection: projectionName, parent, many: many || hasConstants, on: condition.fields, constants: condition.constants, onStates, children: [], where: at };
  parent.children.push(node);
  return node;
}

function checkedProjection(value: unknown, at: Where, ctx: Context): string {
  const name = expectString(value, at, 'a projection name');
  if (!ctx.projections.has(name)) throw configError(at, `projection '${name}' is not among the imported projections`, [...ctx.projections.keys()].join(', '));
  return name;
}

function checkFields(ctx: Context, projectionName: string, fields: readonly string[], at: Where): void {
  const declared = ctx.projections.get(projectionName)?.options.fields ?? {};
  for (const f of fields) {
    if (!(f in declared) && !(METADATA_FIELDS as readonly string[]).includes(f)) throw configError(at, `field '${f}' is not a field of projection '${projectionName}'`, Object.keys(declared).join(', '));
  }
}

function parseStates(value: unknown, at: Where): RecordState[] {
  if (value === undefined) return ['PUBLIC'];
  return expectArray(value, at, 'an array of states').map((s, i) => {
    if (!STATES.includes(s as RecordState)) throw configError(at.key(i), `unknown state ${describeValue(s)}`, STATES.join(', '));
    return s as RecordState;
  });
}

/** identifierQueryMapping `{ "id": "_identifier.sv_id" }` --> { id: 'sv_id' } (projection field → identifier field); absent --> identity. */
function identifierMapping(value: unknown, at: Where, identifierFields: readonly string[]): Record<string, string> {
  if (value === undefined) return Object.fromEntries(identifierFields.map((f) => [f, f]));
  const mapping = expectObject(value, at, 'an object { "<projection field>": "_identifier.<identifier field>" }');
  const out: Record<string, string> = {};
  for (const [field, v] of Object.entries(mapping)) {
    const text = expectString(v, at.key(field), '"_identifier.<identifier field>"');
    if (!text.startsWith('_identifier.') || text.length <= '_identifier.'.length) throw configError(at.key(field), `expected "_identifier.<identifier field>", got ${describeValue(text)}`, '"_identifier.<identifier field>"');
    out[field] = text.slice('_identifier.'.length);
  }
  return out;
}
