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
import { nodes, relationTree, type CheckedIncludes, type Includes, type RelationNode, type ResolvedIncludes } from './relations.js';

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

export interface SingleViewOptions<B extends object, I extends Includes, SV extends object> {
  readonly name: string;
  readonly base: Projection<B>;
  readonly include: I;
  readonly map: (input: MapInput<B, I>) => SV;
  /** false → the single view is deleted and a VALIDATION_ERROR recorded (default: always valid). */
  readonly validate?: (view: SV) => boolean;
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
}

/** The declaration as the runtime sees it: types erased (methods, so any view is a SingleView<object>). */
export interface ViewDefinition extends Omit<SingleViewOptions<object, Includes, object>, 'map' | 'validate'> {
  map(input: MapInput<object, Includes>): object;
  validate?(view: object): boolean;
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
  readonly __view?: SV;
}

/** `include` is checked against the base: every join's parent-side field must be a field of its parent. */
export function singleView<B extends object, I extends Includes, SV extends object>(
  options: SingleViewOptions<B, I, SV> & { readonly include: NoInfer<CheckedIncludes<B, I>> },
): SingleView<SV> {
  if (!/^[A-Za-z0-9_-]+$/.test(options.name)) throw new TributaryError('TRB_TOPOLOGY', `single view name '${options.name}' may only use letters, digits, '_' and '-'`);
  const tree = relationTree(options.base as Projection<object>, options.include);
  for (const node of nodes(tree)) checkJoin(options.name, node);
  const key = options.key ?? Object.fromEntries(options.base.primaryKey.map((k) => [k, k]));
  const projections = [...new Map(nodes(tree).map((n) => [n.projection.name, n.projection])).values()];
  return { kind: 'single-view', name: options.name, options: options as unknown as ViewDefinition, tree, key, projections };
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
