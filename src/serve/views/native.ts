/**
 * The native mode of on-demand views (MongoDB ≥ 5.0 and DocumentDB: `$lookup` and views): a view
 * without `map` is compiled to an aggregation pipeline and created as a MongoDB view
 * on its base collection, then served like a collection — filters, sorts (joined fields too) and
 * paging run in the server. The pipeline reproduces the portable path's rows field for field:
 *
 *   view orders_with_customer = orders + hasOne(customers, { customer_id: 'customer_id' })
 *     --compileViewPipeline-->
 *   [ { $project: { <internal fields>: 0 } },
 *     { $lookup: { from: 'pr_customers', localField: 'customer_id', foreignField: 'customer_id',
 *                  pipeline: [ { $match: { __STATE__: 'PUBLIC' } },
 *                              { $project: { <internal fields>: 0 } }, { $sort: { _id: 1 } } ],
 *                  as: 'customer' } },
 *     { $set: { customer: { $ifNull: [{ $arrayElemAt: ['$customer', 0] }, null] } } } ]
 *
 * The base `__STATE__` is not matched in the view: every read adds the `_st` states to its filter
 * (MongoDB moves that `$match` ahead of the `$lookup`), so `_st=DRAFT` works as on a collection.
 */
import { TributaryError } from '../../errors.js';
import type { Relation } from '../../fastdata/singleview/relations.js';
import type { IndexSpec } from '../../store/types.js';
import { INTERNAL_FIELDS } from '../model.js';
import type { View } from './view.js';

export type PipelineStage = Record<string, unknown>;

/** Everything the native mode creates for one view: the MongoDB view and the indexes its lookups use. */
export interface NativeViewDefinition {
  /** The MongoDB view's name (the view's name). */
  readonly name: string;
  /** Its base collection. */
  readonly viewOn: string;
  readonly pipeline: PipelineStage[];
  /** One index per relation on the related collection: join fields + `__STATE__` (the names Fast Data uses for foreign keys, so an existing one is reused). */
  readonly indexes: ReadonlyArray<{ readonly collection: string; readonly index: IndexSpec }>;
}

const HIDDEN = Object.fromEntries(INTERNAL_FIELDS.map((f) => [f, 0 as const]));

/** Whether `view` can run natively: `map` is JavaScript, which a MongoDB view cannot run. */
export function nativeEligible(view: View): boolean {
  return view.map === undefined;
}

export function compileViewPipeline(view: View): PipelineStage[] {
  if (!nativeEligible(view)) throw new TributaryError('TRB_CONFIG', `view '${view.name}' has a map function: it runs on the portable path only`);
  const stages: PipelineStage[] = [{ $project: HIDDEN }];
  for (const [name, relation] of Object.entries(view.include)) {
    stages.push({ $lookup: lookupOf(name, relation) });
    if (relation.cardinality === 'one') stages.push({ $set: { [name]: { $ifNull: [{ $arrayElemAt: [`$${name}`, 0] }, null] } } });
  }
  return stages;
}

export function nativeViewDefinition(view: View): NativeViewDefinition {
  const indexes = Object.values(view.include).map((relation) => {
    const fields = Object.keys(relation.on);
    return { collection: relation.target.name, index: { name: `fk_${fields.join('_')}`, fields: { ...Object.fromEntries(fields.map((f) => [f, 1 as const])), __STATE__: 1 as const } } };
  });
  return { name: view.name, viewOn: view.base.name, pipeline: compileViewPipeline(view), indexes };
}

/**
 * The concise `$lookup` (MongoDB ≥ 5.0): `localField`/`foreignField` compare like a query does, so
 * a missing join value matches `null` or missing on the other side — what the portable path's
 * `$in: [null]` does — and the related collection's index serves it. A composite join compares its
 * other fields with `$expr`, normalising missing to `null` on both sides for the same reason.
 */
function lookupOf(name: string, relation: Relation): Record<string, unknown> {
  const [first, ...rest] = Object.entries(relation.on) as Array<[string, string]>; // related field → base field
  if (first === undefined) throw new TributaryError('TRB_TOPOLOGY', `relation '${name}' has no join condition`);
  const states = relation.onStates.length === 1 ? relation.onStates[0] : { $in: [...relation.onStates] };
  const match: Record<string, unknown> = { __STATE__: states };
  if (rest.length > 0) match['$expr'] = { $and: rest.map(([related], i) => ({ $eq: [{ $ifNull: [`$${related}`, null] }, `$$k${i + 1}`] })) };
  return {
    from: relation.target.name,
    localField: first[1],
    foreignField: first[0],
    ...(rest.length > 0 ? { let: Object.fromEntries(rest.map(([, base], i) => [`k${i + 1}`, { $ifNull: [`$${base}`, null] }])) } : {}),
    pipeline: [{ $match: match }, { $project: HIDDEN }, { $sort: { _id: 1 } }],
    as: name,
  };
}
