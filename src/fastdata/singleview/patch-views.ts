/**
 * The trigger stage's side of patch fan-out: the changes a view's patch rules cover become one bulk
 * write of positional updates (patch.ts); every view they changed gets an sv-update (UPDATE), so
 * consumers of the sv-update stream — views built on this one included — see patched views as they
 * see re-aggregated ones. The other changes go on to the strategy.
 *
 *   pr-update batch [pr_products T1 renamed, pr_orders o7 created]
 *     --patchViews--> updateMany sv_customers (T1)  + sv-update UPDATE per patched view
 *                     returns [pr_orders o7]  (re-aggregated as usual)
 */
import type { OperatorContext } from '../../stream/operators/define.js';
import type { AnyRecord } from '../../stream/record.js';
import type { Row } from '../cdc/change-event.js';
import { eventSerde, type EventFormat } from '../events/event-serde.js';
import type { ReadPrUpdate } from '../projection/pr-update.js';
import { svUpdateOf } from './events.js';
import { applyPatches, PATCH_FIELD, planPatches } from './patch.js';
import type { SingleView } from './single-view.js';

export interface PatchEventOptions {
  /** Where the view's sv-update events go (null or absent: none for patches). */
  readonly svUpdateTopic?: string | null;
  readonly source?: string;
  readonly eventFormat?: EventFormat;
  readonly now?: () => Date;
}

type Change = ReadPrUpdate & { readonly record: AnyRecord };

/** The `__internal__kafkaInfo` an event carries for a change (the trigger stage's rule: the ingestion record's position). */
export type KafkaInfoOf = (record: AnyRecord, change: ReadPrUpdate) => unknown;

export async function patchViews(view: SingleView, changes: readonly Change[], context: OperatorContext, options: PatchEventOptions, kafkaInfoOf: KafkaInfoOf): Promise<Change[]> {
  const store = context.store;
  if (!store) return [...changes];
  const { patch, rest } = planPatches(view.patches, changes);
  if (patch.length === 0) return rest;
  const at = (options.now ?? (() => new Date()))();
  const { ids, result } = await applyPatches(view, patch, store, at);
  // Counted as updates of single views (the operation label of tributary_single_views_total).
  context.metrics?.singleViews(view.name, 'UPDATE', result?.modified ?? 0);

  const topic = options.svUpdateTopic;
  if (!topic || view.options.svUpdate === false) return rest;
  const svUpdate = view.options.svUpdate ?? {};
  const version = svUpdate.version ?? 'v1.0.0';
  const serde = eventSerde(`sv-update-${version}`, options.eventFormat);
  const registry = context.registry ? { registry: context.registry } : {};
  const fields = Object.keys(view.key);
  const patchedViews = await store.collection(view.name).find({ [`${PATCH_FIELD}.id`]: { $in: ids } });
  // The record of the newest change of each patched document, for the event's ingestion position.
  const recordOf = new Map(patch.map((p, i) => [ids[i], changes.findLast((c) => c.after === p.after)?.record]));
  for (const doc of patchedViews) {
    const key = Object.fromEntries(fields.map((f) => [f, doc[f]]));
    const record = recordOf.get(String((doc[PATCH_FIELD] as Row)['id']));
    const change = changes.find((c) => c.record === record);
    const kafkaInfo = record && change ? kafkaInfoOf(record, change) : null;
    // The view before the patch is not read (that would cost a read of every patched view): before is null.
    const { value, headers } = svUpdateOf('UPDATE', null, doc, kafkaInfo, { view: view.name, source: options.source ?? view.name, version, beforeAfter: svUpdate.beforeAfter ?? false, primaryKeys: fields, now: at });
    context.emit({ topic, key: Buffer.from(JSON.stringify(key)), value: await serde.serialize(value, { topic, part: 'value', ...registry }), headers });
  }
  return rest;
}
