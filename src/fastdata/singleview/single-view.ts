/**
 * Declaring a single view: a base projection, the relations to include, and a typed `map`.
 *
 *   singleView({
 *     name: 'sv_customers',
 *     base: customers,
 *     include: { orders: hasMany(orders, { customer_id: 'customer_id' }) },
 *     map: ({ base, orders }) => ({ customer_id: base.customer_id, orders: orders.map((o) => o.order_id) }),
 *   });
 */
import { TributaryError } from '../../errors.js';
import type { Row } from '../cdc/change-event.js';
import type { Projection } from '../projection/projection.js';
import type { RecordState } from '../projection/metadata.js';
import { definitionVersion } from './definition-version.js';
import { compilePatches, type AnyPatchRule, type CompiledPatch } from './patch.js';
import { nodes, relationTree, type CheckedIncludes, type Includes, type RelationNode, type ResolvedIncludes } from './relations.js';
import { isViewSource } from './view-source.js';

export type MapInput<B extends object, I extends Includes> = { readonly base: B } & ResolvedIncludes<I>;

/** Manual strategy for one projection: which single-view keys a changed document affects. */
export type ManualStrategy = (change: { projection: string; before: Row | null; after: Row | null }, tools: StrategyTools) => Promise<Row[]> | Row[];

export interface StrategyTools {
  find(collection: string, filter: Record<string, unknown>): Promise<Row[]>;
}

export interface SvUpdateOptions {
  /** Default `<topicPrefix><name>.sv-update`. */
  readonly topic?: string;
  /** Default 'v1.0.0'. */
  readonly version?: 'v1.0.0' | 'v2.0.0';
  /** Add before/after documents to v1.0.0 events (Fast Data ADD_BEFORE_AFTER_CONTENT). */
  readonly beforeAfter?: boolean;
}

/** What `map` gets besides its input: the key it builds, and a signal aborted when the aggregation runs out of time. */
export interface MapContext {
  readonly key: Row;
  /** Aborted after `maxAggregationMs`: pass it to fetch() and the like so abandoned work stops. */
  readonly signal: AbortSignal;
}

export interface SingleViewOptions<B extends object, I extends Includes, SV extends object> {
  readonly name: string;
  readonly base: Projection<B>;
  readonly include: I;
  /**
   * Builds the view from the base document and its includes; may be async (Fast Data's custom
   * aggregation functions may be). Throwing or rejecting records an UNKNOWN_ERROR and retries;
   * returning no object (null, undefined, an array) records NO_SV_GENERATED.
   */
  readonly map: (input: MapInput<B, I>, context: MapContext) => SV | Promise<SV>;
  /** false → the single view is deleted and a VALIDATION_ERROR recorded (default: always valid). */
  readonly validate?: (view: SV) => boolean | Promise<boolean>;
  /** Keys of one batch whose `map` runs at once (default 8); writes stay in key order. */
  readonly mapConcurrency?: number;
  /**
   * Time one key's `map` + `validate` may take (default 60 000 ms); past it the aggregation is a
   * SINGLE_VIEW_AGGREGATION_MAX_TIME error (retried) and the signal given to `map` is aborted.
   */
  readonly maxAggregationMs?: number;
  /** Single-view key: view field → base field (default: the base primary key, same names). */
  readonly key?: Readonly<Record<string, keyof B & string>>;
  /** Base documents in these states have a view (default ['PUBLIC']). */
  readonly onStates?: readonly RecordState[];
  /** 'replace' (default) writes the whole view; 'update' sets only mapped fields. */
  readonly upsert?: 'replace' | 'update';
  /** 'delete' (default) removes the view; 'virtualDelete' sets __STATE__ DELETED. */
  readonly delete?: 'delete' | 'virtualDelete';
  /** Emit sv-update events (default: v1.0.0 to `<name>.sv-update`); false to disable. */
  readonly svUpdate?: SvUpdateOptions | false;
  /** Replaces the automatic strategy for the named projections. */
  readonly strategies?: Readonly<Record<string, ManualStrategy>>;
  /** Aggregations of one key retried through the sv-trigger topic before dead-lettering (default 5). */
  readonly maxAttempts?: number;
  /** Fields of the view that come from one related projection, updated in place when it changes (patch.ts). */
  readonly patch?: readonly AnyPatchRule[];
  /** Record the trigger of each aggregation in `<view>-lineage`, for `tributary explain` (default true; one bulk write per batch). */
  readonly lineage?: boolean;
  /** Names this definition for blue/green refreshes (default: a fingerprint of the declaration, see definition-version.ts). */
  readonly version?: string;
}

/** The declaration as the runtime sees it: types erased (methods, so any view is a SingleView<object>). */
export interface ViewDefinition extends Omit<SingleViewOptions<object, Includes, object>, 'map' | 'validate'> {
  map(input: MapInput<object, Includes>, context: MapContext): object | Promise<object>;
  validate?(view: object): boolean | Promise<boolean>;
}

export interface SingleView<SV extends object = object> {
  readonly kind: 'single-view';
  readonly name: string;
  readonly options: ViewDefinition;
  readonly tree: RelationNode;
  /** view field → base field */
  readonly key: Readonly<Record<string, string>>;
  /** Every projection the view reads (base first), deduplicated. */
  readonly projections: readonly Projection<object>[];
  /** Which definition this is (`version`, or a fingerprint): blue/green refreshes fence writers by it. */
  readonly version: string;
  /** The patch rules, checked against the include tree. */
  readonly patches: readonly CompiledPatch[];
  readonly __view?: SV;
}

/** `include` is checked against the base: every join's parent-side field must be a field of its parent. */
export function singleView<B extends object, I extends Includes, SV extends object>(
  options: SingleViewOptions<B, I, SV> & { readonly include: NoInfer<CheckedIncludes<B, I>> },
): SingleView<SV> {
  if (!/^[A-Za-z0-9_-]+$/.test(options.name)) throw new TributaryError('TRB_TOPOLOGY', `single view name '${options.name}' may only use letters, digits, '_' and '-'`);
  for (const [setting, value] of [['mapConcurrency', options.mapConcurrency], ['maxAggregationMs', options.maxAggregationMs]] as const) {
    if (value !== undefined && (!Number.isInteger(value) || value < 1)) throw new TributaryError('TRB_CONFIG', `${setting} of single view '${options.name}' must be a positive integer, got ${String(value)}`);
  }
  const tree = relationTree(options.base as Projection<object>, options.include);
  for (const node of nodes(tree)) checkJoin(options.name, node);
  const key = options.key ?? Object.fromEntries(options.base.primaryKey.map((k) => [k, k]));
  const projections = [...new Map(nodes(tree).map((n) => [n.projection.name, n.projection])).values()];
  const version = definitionVersion({ ...options, key }, tree);
  const patches = compilePatches({ name: options.name, tree }, options.patch ?? []);
  return { kind: 'single-view', name: options.name, options: options as unknown as ViewDefinition, tree, key, projections, version, patches };
}

/**
 * A relation's join names a field of each side. Checked here as well as by the types: a relation
 * built from strings (an imported configuration, a widened variable) gets the same message.
 */
function checkJoin(view: string, node: RelationNode): void {
  const { relation, parent } = node;
  if (!relation || !parent) return;
  const where = `relation '${node.path.join('.')}' of single view '${view}'`;
  if (Object.keys(relation.on).length === 0) throw new TributaryError('TRB_TOPOLOGY', `${where} has no join condition`);
  const fieldsOf = (p: Projection<object>) => Object.keys(p.options.fields);
  for (const [targetField, parentField] of Object.entries(relation.on)) {
    for (const [side, projection, name] of [['target', relation.target, targetField], ['parent', parent.projection, parentField]] as const) {
      // A view used as a source has no declared fields (its documents are its map's output): the types check those joins.
      if (isViewSource(projection)) continue;
      const fields = fieldsOf(projection);
      if (!fields.includes(name)) {
        throw new TributaryError(
          'TRB_TOPOLOGY',
          `${where} joins ${targetField} = ${parentField}, but '${name}' is not a field of ${projection.name} (its ${side} side; fields: ${fields.join(', ')})`,
        );
      }
    }
  }
}

/** The view key of a base document, or null when a key field is missing. */
export function viewKeyOf(view: SingleView, base: Row): Row | null {
  const key: Row = {};
  for (const [viewField, baseField] of Object.entries(view.key)) {
    const v = base[baseField];
    if (v === undefined || v === null) return null;
    key[viewField] = v;
  }
  return key;
}

/** The base filter for a view key (view field names → base field names). */
export function baseFilterOf(view: SingleView, key: Row): Row {
  return Object.fromEntries(Object.entries(view.key).map(([viewField, baseField]) => [baseField, key[viewField]]));
}
