/**
 * importFastDataConfig: Fast Data low-code configs --> the projection and single-view declarations
 * the code API builds, ready for `fastData()`.
 *
 *   const { projections, singleViews } = importFastDataConfig({
 *     projections: [registryFields, ordersFields],       // field definitions (or a Projection Storer config)
 *     erSchema, projectionChangesSchema,                  // parsed JSON
 *     singleViewName: 'sv_customers', aggregation, singleViewKey,
 *   });
 *   export default fastData({ name: 'crm', projections, singleViews });
 *
 * Every invalid input is a TributaryError TRB_CONFIG naming the file, the JSON path and what is accepted.
 */
import { TributaryError } from '../../errors.js';
import type { CastFunction } from '../projection/casts.js';
import type { Projection } from '../projection/projection.js';
import { hasMany, hasOne, type Includes } from '../singleview/relations.js';
import { singleView, type SingleView, type SingleViewOptions } from '../singleview/single-view.js';
import { planView } from './aggregation.js';
import { parseErSchema } from './er-schema.js';
import { viewMapper, type CustomMappingFunction } from './map.js';
import type { DepNode } from './plan.js';
import { importProjections, type ProjectionImportOptions } from './projections.js';
import { parseProjectionChanges, strategiesFor, type IdentifierFunction } from './strategies.js';
import { configError, Where } from './where.js';

export type { CustomMappingFunction, IdentifierFunction, CastFunction };

export interface ImportedSingleViewConfig {
  readonly name: string;
  /** aggregation.json */
  readonly aggregation: unknown;
  /** singleViewKey.json */
  readonly singleViewKey: unknown;
}

/** Options of `singleView()` that have no place in the Fast Data configs (the SVC's env and validator.js). */
export type ImportedViewOptions = Pick<SingleViewOptions<object, Includes, object>, 'validate' | 'upsert' | 'delete' | 'svUpdate' | 'maxAttempts'>;

export interface ImportFastDataConfigOptions extends ProjectionImportOptions {
  /** Projection field definitions (Console style) and/or Projection Storer configs. */
  readonly projections: readonly unknown[];
  /** erSchema.json */
  readonly erSchema: unknown;
  /** projectionChangesSchema.json; without it every projection of a view triggers it (automatic strategy of the include tree). */
  readonly projectionChangesSchema?: unknown;
  /** One single view: its name (default: the only view of projectionChangesSchema.json), aggregation.json and singleViewKey.json. */
  readonly singleViewName?: string;
  readonly aggregation?: unknown;
  readonly singleViewKey?: unknown;
  /** Several single views. */
  readonly singleViews?: readonly ImportedSingleViewConfig[];
  /** `__fromFile__[name]` of aggregation.json mappings and `_select` operands. */
  readonly customFunctions?: Readonly<Record<string, CustomMappingFunction>>;
  /** `"identifier": "__fromFile__[name]"` of projectionChangesSchema.json. */
  readonly identifierFunctions?: Readonly<Record<string, IdentifierFunction>>;
  /** Per view name: validator, upsert/delete strategy, sv-update, retries. */
  readonly viewOptions?: Readonly<Record<string, ImportedViewOptions>>;
}

export interface ImportedFastData {
  readonly projections: Projection<object>[];
  readonly singleViews: SingleView<object>[];
}

/** File names used in error messages (the folder loader passes the real paths). */
export interface ConfigFileNames {
  readonly projections?: readonly string[];
  readonly erSchema?: string;
  readonly projectionChangesSchema?: string;
  readonly aggregation?: (view: string) => string;
  readonly singleViewKey?: (view: string) => string;
}

export function importFastDataConfig(options: ImportFastDataConfigOptions): ImportedFastData {
  return importWithFiles(options, {});
}

export function importWithFiles(options: ImportFastDataConfigOptions, files: ConfigFileNames): ImportedFastData {
  if (typeof options !== 'object' || options === null) throw new TributaryError('TRB_CONFIG', 'importFastDataConfig: expected an options object { projections, erSchema, aggregation, singleViewKey, ... }');
  if (!Array.isArray(options.projections)) throw configError(new Where('importFastDataConfig options', '$.projections'), 'expected an array of projection field definitions', 'an array');
  const projections = importProjections(
    options.projections.map((json, i) => ({ json, where: new Where(files.projections?.[i] ?? `projections[${i}]`) })),
    options,
  );
  const byName = new Map(projections.map((p) => [p.name, p]));
  const erWhere = new Where(files.erSchema ?? 'erSchema.json');
  const er = parseErSchema(options.erSchema, erWhere);
  const changesWhere = new Where(files.projectionChangesSchema ?? 'projectionChangesSchema.json');
  const changes = options.projectionChangesSchema === undefined ? null : parseProjectionChanges(options.projectionChangesSchema, changesWhere);
  const functions = options.customFunctions ?? {};

  const configs: ImportedSingleViewConfig[] = [...(options.singleViews ?? [])];
  if (options.aggregation !== undefined || options.singleViewKey !== undefined) {
    const only = changes && changes.views.size === 1 ? [...changes.views.keys()][0] : undefined;
    const name = options.singleViewName ?? only;
    if (!name) throw configError(new Where('importFastDataConfig options', '$.singleViewName'), 'name the single view (no single projectionChangesSchema.json view to take it from)', 'a single view name');
    configs.push({ name, aggregation: options.aggregation, singleViewKey: options.singleViewKey });
  }
  if (configs.length === 0) throw configError(new Where('importFastDataConfig options', '$'), 'no single view given', '{ aggregation, singleViewKey } or singleViews: [{ name, aggregation, singleViewKey }]');

  const singleViews = configs.map((config) => {
    const aggregationWhere = new Where(files.aggregation?.(config.name) ?? 'aggregation.json');
    if (config.singleViewKey === undefined) throw configError(new Where(files.singleViewKey?.(config.name) ?? 'singleViewKey.json'), `single view '${config.name}' has no singleViewKey.json`);
    const plan = planView(config.name, config.aggregation, aggregationWhere, config.singleViewKey, new Where(files.singleViewKey?.(config.name) ?? 'singleViewKey.json'), er, byName, new Set(Object.keys(functions)));
    const base = byName.get(plan.base.projection) as Projection<object>;
    const include = includesOf(plan.base, byName);
    const viewProjections = [...new Set(allNodes(plan.base).map((n) => n.projection))];
    const strategies = changes ? strategiesFor(plan, changes, changesWhere, er, viewProjections, new Set(byName.keys()), options.identifierFunctions ?? {}) : undefined;
    try {
      return singleView<object, Includes, object>({
        ...(options.viewOptions?.[config.name] ?? {}),
        name: config.name,
        base,
        include,
        map: viewMapper(plan, functions) as (input: unknown) => object,
        key: plan.key as Record<string, never>,
        onStates: plan.base.onStates,
        ...(strategies ? { strategies } : {}),
      });
    } catch (error) {
      throw configError(aggregationWhere, error instanceof Error ? error.message : String(error));
    }
  });
  return { projections, singleViews };
}

function includesOf(node: DepNode, projections: ReadonlyMap<string, Projection<object>>): Includes {
  const out: Record<string, Includes[string]> = {};
  for (const child of node.children) {
    const target = projections.get(child.projection) as Projection<object>;
    const options = { include: includesOf(child, projections), onStates: child.onStates };
    out[child.slot] = child.many ? hasMany(target, child.on, options) : hasOne(target, child.on, options);
  }
  return out;
}

function allNodes(node: DepNode): DepNode[] {
  return [node, ...node.children.flatMap(allNodes)];
}
