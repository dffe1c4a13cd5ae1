/**
 * projectionChangesSchema.json (§3.6) + erSchema.json --> manual strategies of `singleView()`.
 *
 *   { "path": ["pr_orders", "pr_registry"], "identifier": { "ID_USER": "ID_USER" } }
 *   change of pr_orders {ID_USER_ORDER: u1}
 *     --> pr_registry where order_to_reg { ID_USER: "ID_USER_ORDER" }  (keys: fields of the next projection)
 *     --> identifier { ID_USER: <registry.ID_USER> } --> view key through singleViewKey.json { sv_id: <ID_USER> }
 *
 * Both the `before` and the `after` image are walked (the view that lost a relation is re-aggregated
 * too). A hop with several conditions between the same two projections follows all of them. A
 * condition whose source fields are missing on a document matches nothing.
 */
import type { Row } from '../cdc/change-event.js';
import type { ManualStrategy, StrategyTools } from '../singleview/single-view.js';
import { fromFileName } from './constants.js';
import type { ErCondition, ErSchema } from './er-schema.js';
import type { ViewPlan } from './plan.js';
import { configError, expectArray, expectObject, expectString, isObject, onlyKeys, versioned, type Where } from './where.js';

/**
 * A custom identifier function (`"identifier": "__fromFile__[name]"`): base projection document →
 * trigger identifiers. Fast Data's are async generators with a Mongo handle; here `tools.find` reads the store.
 */
export type IdentifierFunction = (baseDocument: Row, tools: StrategyTools) => Row[] | Promise<Row[]>;

interface StrategyPath {
  readonly projections: readonly string[];
  readonly hops: ReadonlyArray<readonly ErCondition[]>;
  readonly identifier: Readonly<Record<string, string>> | IdentifierFunction;
}

export interface ProjectionChanges {
  /** Config of each single view by name. */
  readonly views: ReadonlyMap<string, { readonly paths: unknown; readonly where: Where }>;
}

export function parseProjectionChanges(document: unknown, where: Where): ProjectionChanges {
  const config = versioned(document, where, ['1.0.0']);
  const views = new Map<string, { paths: unknown; where: Where }>();
  for (const [name, raw] of Object.entries(config)) {
    const at = where.key('config').key(name);
    const view = expectObject(raw, at, 'an object { paths: [...] }');
    onlyKeys(view, at, ['paths']);
    views.set(name, { paths: view['paths'], where: at.key('paths') });
  }
  return { views };
}

/**
 * Manual strategies for every projection the view reads: those where a path starts get the path
 * walk; the others get none (`[]`), as Fast Data only triggers from the configured paths.
 */
export function strategiesFor(plan: ViewPlan, changes: ProjectionChanges, changesWhere: Where, er: ErSchema, viewProjections: readonly string[], knownProjections: ReadonlySet<string>, functions: Readonly<Record<string, IdentifierFunction>>): Record<string, ManualStrategy> {
  const entry = changes.views.get(plan.name);
  if (!entry) throw configError(changesWhere.key('config'), `no strategy paths for single view '${plan.name}'`, [...changes.views.keys()].join(', ') || 'no view is configured');
  const paths = expectArray(entry.paths, entry.where, 'an array of { path, identifier }').map((raw, i) => parsePath(raw, entry.where.key(i), plan, er, viewProjections, knownProjections, functions));
  const strategies: Record<string, ManualStrategy> = {};
  for (const projection of viewProjections) {
    const mine = paths.filter((p) => p.projections[0] === projection);
    strategies[projection] = async (change, tools) => {
      if (mine.length === 0) return [];
      const start = [change.before, change.after].filter((d): d is Row => d !== null);
      const keys: Row[] = [];
      for (const path of mine) keys.push(...(await walk(path, start, plan, tools)));
      return keys;
    };
  }
  return strategies;
}

function parsePath(raw: unknown, at: Where, plan: ViewPlan, er: ErSchema, viewProjections: readonly string[], known: ReadonlySet<string>, functions: Readonly<Record<string, IdentifierFunction>>): StrategyPath {
  const entry = expectObject(raw, at, 'an object { path, identifier }');
  onlyKeys(entry, at, ['path', 'identifier']);
  const projections = expectArray(entry['path'], at.key('path'), 'an array of projection names').map((p, i) => {
    const name = expectString(p, at.key('path').key(i), 'a projection name');
    if (!known.has(name)) throw configError(at.key('path').key(i), `projection '${name}' is not among the imported projections`, [...known].join(', '));
    return name;
  });
  const first = projections[0];
  if (first === undefined) throw configError(at.key('path'), 'a path lists at least one projection (the changed one … the base)');
  if (projections[projections.length - 1] !== plan.base.projection) throw configError(at.key('path'), `a path must end at the base projection '${plan.base.projection}'`);
  if (!viewProjections.includes(first)) {
    throw configError(at.key('path').key(0), `path starts at '${first}', which the single view's aggregation does not read; Tributary triggers only from projections the view reads`, viewProjections.join(', '));
  }
  const hops = projections.slice(1).map((target, i) => {
    const source = projections[i] as string;
    const conditions = er.between(source, target);
    if (conditions.length === 0) throw configError(at.key('path').key(i + 1), `erSchema.json has no condition from '${source}' to '${target}'`, 'a path whose consecutive projections are related in erSchema.json (config.<from>.outgoing.<to>)');
    return conditions;
  });
  const identifierAt = at.key('identifier');
  const rawIdentifier = entry['identifier'];
  if (typeof rawIdentifier === 'string') {
    const name = fromFileName(rawIdentifier);
    const fn = name === undefined ? undefined : functions[name];
    if (!fn) throw configError(identifierAt, `custom identifier function ${name === undefined ? rawIdentifier : `'${name}' is not available; pass it as identifierFunctions.${name}`}`, '{ "<identifier field>": "<base field>" } or "__fromFile__[name]" with identifierFunctions');
    return { projections, hops, identifier: fn };
  }
  if (!isObject(rawIdentifier)) throw configError(identifierAt, 'expected an identifier mapping', '{ "<identifier field>": "<base field>" } or "__fromFile__[name]"');
  const identifier: Record<string, string> = {};
  for (const [id, field] of Object.entries(rawIdentifier)) identifier[id] = expectString(field, identifierAt.key(id), 'a base projection field name');
  for (const id of Object.values(plan.keyIdentifier)) {
    if (!(id in identifier)) throw configError(identifierAt, `the identifier lacks '${id}', which singleViewKey.json reads`, Object.values(plan.keyIdentifier).join(', '));
    if (identifier[id] !== plan.identifierToBase[id]) {
      throw configError(identifierAt.key(id), `identifier field '${id}' is read from base field '${identifier[id]}', but aggregation.json queries the base with it on '${plan.identifierToBase[id]}'`, `"${id}": "${plan.identifierToBase[id]}"`);
    }
  }
  return { projections, hops, identifier };
}

async function walk(path: StrategyPath, start: readonly Row[], plan: ViewPlan, tools: StrategyTools): Promise<Row[]> {
  let docs = start;
  for (const [i, conditions] of path.hops.entries()) {
    const target = path.projections[i + 1] as string;
    const found = new Map<string, Row>();
    for (const condition of conditions) for (const doc of await follow(condition, target, docs, tools)) found.set(JSON.stringify(doc['_id'] ?? doc), doc);
    docs = [...found.values()];
    if (docs.length === 0) return [];
  }
  const keys: Row[] = [];
  for (const base of docs) {
    const identifiers = typeof path.identifier === 'function' ? await path.identifier(base, tools) : [Object.fromEntries(Object.entries(path.identifier).map(([id, field]) => [id, base[field]]))];
    for (const identifier of identifiers) {
      const key = Object.fromEntries(Object.entries(plan.keyIdentifier).map(([viewField, id]) => [viewField, identifier[id]]));
      if (Object.values(key).every((v) => v !== undefined && v !== null)) keys.push(key);
    }
  }
  return keys;
}

/** Documents of `target` matching the condition for any of `docs` (one `$in` query for single-field conditions). */
async function follow(condition: ErCondition, target: string, docs: readonly Row[], tools: StrategyTools): Promise<Row[]> {
  const pairs = Object.entries(condition.fields);
  const filters = new Map<string, Row>();
  for (const doc of docs) {
    const values = pairs.map(([, sourceField]) => doc[sourceField]);
    if (values.some((v) => v === undefined || v === null)) continue; // missing fields match nothing
    const filter: Row = { ...condition.constants, ...Object.fromEntries(pairs.map(([field], i) => [field, values[i]])) };
    filters.set(JSON.stringify(filter), filter);
  }
  if (filters.size === 0) return [];
  const [only] = pairs;
  if (pairs.length === 1 && only) {
    const values = [...new Set([...filters.values()].map((f) => f[only[0]]))];
    return tools.find(target, { ...condition.constants, [only[0]]: { $in: values } });
  }
  return (await Promise.all([...filters.values()].map((f) => tools.find(target, f)))).flat();
}
