/**
 * On-demand views: collections joined at query time, declared with the single-view relation
 * builders so one mental model covers both (promote a hot view to a single view with the same
 * `include`):
 *
 *   const ordersWithCustomer = view({
 *     name: 'orders_with_customer',
 *     base: orders,
 *     include: { customer: hasOne(customers, { customer_id: 'customer_id' }) },
 *   });
 *
 * Served by `createReadApi({ views: [ordersWithCustomer], ... })` like any collection.
 */
import { TributaryError } from '../../errors.js';
import type { Projection } from '../../fastdata/projection/projection.js';
import type { Includes } from '../../fastdata/singleview/relations.js';
import type { SingleView } from '../../fastdata/singleview/single-view.js';

export type ViewRow = Record<string, unknown>;

export interface ViewOptions<I extends Includes> {
  readonly name: string;
  /** A projection or a single view (its collection is the base). */
  readonly base: Projection<object> | SingleView<object>;
  /** One level of relations: `hasOne` → object or null, `hasMany` → array ordered by the related `_id`. */
  readonly include: I;
  /** Computed output from the joined row; filters and sorts apply to the joined row, before `map`. */
  readonly map?: (row: ViewRow) => ViewRow;
  /** Most related keys a filter on joined fields may select (default 10 000). */
  readonly maxSemiJoinKeys?: number;
}

export interface View {
  readonly kind: 'view';
  readonly name: string;
  readonly base: Projection<object> | SingleView<object>;
  readonly include: Includes;
  readonly map?: (row: ViewRow) => ViewRow;
  readonly maxSemiJoinKeys: number;
}

export function view<I extends Includes>(options: ViewOptions<I>): View {
  if (!/^[A-Za-z0-9_-]+$/.test(options.name)) throw new TributaryError('TRB_TOPOLOGY', `view name '${options.name}' may only use letters, digits, '_' and '-'`);
  for (const [name, relation] of Object.entries(options.include)) {
    if (Object.keys(relation.include).length > 0) {
      throw new TributaryError('TRB_TOPOLOGY', `view '${options.name}': relation '${name}' has nested includes; views join one level (declare a single view for deeper trees)`);
    }
    if (Object.keys(relation.on).length === 0) throw new TributaryError('TRB_TOPOLOGY', `view '${options.name}': relation '${name}' has no join condition`);
    if (name.startsWith('_') || name in baseFields(options.base)) {
      throw new TributaryError('TRB_TOPOLOGY', `view '${options.name}': relation name '${name}' clashes with a base field`);
    }
  }
  return {
    kind: 'view',
    name: options.name,
    base: options.base,
    include: options.include,
    ...(options.map ? { map: options.map } : {}),
    maxSemiJoinKeys: options.maxSemiJoinKeys ?? 10_000,
  };
}

function baseFields(base: Projection<object> | SingleView<object>): Record<string, unknown> {
  return base.kind === 'projection' ? base.options.fields : {};
}
