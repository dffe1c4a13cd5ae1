/**
 * The native mode of on-demand views (MongoDB only; FerretDB 1.x has neither `$lookup` nor views):
 * a view without `map` is compiled to an aggregation pipeline and created as a MongoDB view on its
 * base collection, then served like a collection — filters, sorts (joined fields too) and paging
 * run in the server. The pipeline reproduces the portable path's rows field for field:
 *
 *   view orders_with_customer = orders + hasOne(customers, { customer_id: 'customer_id' })
 *     --compileViewPipeline-->
 *   [ { $project: { <internal fields>: 0 } },
 *     { $lookup: { from: 'pr_customers', let: { k0: '$customer_id' },
 *                  pipeline: [ { $match: { $expr: { $and: [{ $eq: ['$customer_id', '$$k0'] }] }, __STATE__: 'PUBLIC' } },
 *                              { $project: { <internal fields>: 0 } }, { $sort: { _id: 1 } } ],
 *                  as: 'customer' } },
 *     { $set: { customer: { $ifNull: [{ $arrayElemAt: ['$customer', 0] }, null] } } } ]
 */
import { TributaryError } from '../../errors.js';
import { INTERNAL_FIELDS } from '../model.js';
import type { View } from './view.js';

export type PipelineStage = Record<string, unknown>;

const HIDDEN = Object.fromEntries(INTERNAL_FIELDS.map((f) => [f, 0 as const]));

/** Whether `view` can run natively: `map` is JavaScript, which a MongoDB view cannot run. */
export function nativeEligible(view: View): boolean {
  return view.map === undefined;
}

export function compileViewPipeline(view: View): PipelineStage[] {
  if (!nativeEligible(view)) throw new TributaryError('TRB_CONFIG', `view '${view.name}' has a map function: it runs on the portable path only`);
  const stages: PipelineStage[] = [{ $project: HIDDEN }];
  for (const [name, relation] of Object.entries(view.include)) {
    const pairs = Object.entries(relation.on); // target field → base field
    const variables = Object.fromEntries(pairs.map(([, baseField], i) => [`k${i}`, `$${baseField}`]));
    const states = relation.onStates.length === 1 ? relation.onStates[0] : { $in: [...relation.onStates] };
    stages.push({
      $lookup: {
        from: relation.target.name,
        let: variables,
        pipeline: [
          // Equality as in the portable path for present values (rows whose join field is missing may differ: docs/serve.md).
          { $match: { $expr: { $and: pairs.map(([targetField], i) => ({ $eq: [`$${targetField}`, `$$k${i}`] })) }, __STATE__: states } },
          { $project: HIDDEN },
          { $sort: { _id: 1 } },
        ],
        as: name,
      },
    });
    if (relation.cardinality === 'one') stages.push({ $set: { [name]: { $ifNull: [{ $arrayElemAt: [`$${name}`, 0] }, null] } } });
  }
  return stages;
}
