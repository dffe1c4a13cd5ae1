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
import { SINGLE_VIEWS_TOTAL } from '../../ops/metric-names.js';
import type { BatchIO } from '../../stream/operators/batch.js';
import type { AnyRecord } from '../../stream/record.js';
import type { Row } from '../cdc/change-event.js';
import { EventSerdes } from '../events/event-serde.js';
import type { ReadPrUpdate } from '../projection/pr-update.js';
import { svUpdateOf } from './events.js';
import { PATCH_FIELD, patchWrite, planPatches } from './patch.js';
import type { SingleView } from './single-view.js';
import { randomUUID } from 'node:crypto';

export interface PatchEventOptions {
  /** Where the view's sv-update events go (null or absent: none for patches). */
  readonly svUpdateTopic?: string | null;
  readonly source?: string;
  /** The topology's event serdes (default: JSON). */
  readonly events?: EventSerdes;
}

/** The `__internal__kafkaInfo` an event carries for a change (the trigger stage's rule: the ingestion record's position). */
export type KafkaInfoOf = (record: AnyRecord, change: ReadPrUpdate) => unknown;

/** `changes[i]` came from `records[i]`; returns the indexes of the changes left to the strategy. */
export async function patchViews(view: SingleView, records: readonly AnyRecord[], changes: readonly ReadPrUpdate[], io: BatchIO, options: PatchEventOptions, kafkaInfoOf: KafkaInfoOf): Promise<number[]> {
  const indexed = changes.map((c, i) => Object.assign({}, c, { index: i }));
  const { patch, rest } = planPatches(view.patches, indexed);
  if (patch.length === 0) return rest.map((c) => c.index);
  const at = new Date(io.now());
  const ids: string[] = patch.map(() => randomUUID());
  await io.write(view.name, patch.map((p, i) => patchWrite(p.patch, p.after, { id: ids[i] as string, at })));
  io.metrics?.count(SINGLE_VIEWS_TOTAL, { view: view.name, operation: 'UPDATE' }, patch.length);

  const topic = options.svUpdateTopic;
  if (!topic || view.options.svUpdate === false) return rest.map((c) => c.index);
  const svUpdate = view.options.svUpdate ?? {};
  const version = svUpdate.version ?? 'v1.0.0';
  const serde = (options.events ?? new EventSerdes()).of(`sv-update-${version}`);
  const fields = Object.keys(view.key);
  const patchedViews = await io.store.collection(view.name).find({ [`${PATCH_FIELD}.id`]: { $in: ids } });
  // The newest change behind each patch, for the event's ingestion position.
  const causeOf = new Map(patch.map((p, i) => [ids[i], indexed.findLast((c) => c.after === p.after)]));
  for (const doc of patchedViews) {
    const key = Object.fromEntries(fields.map((f) => [f, doc[f]]));
    const cause = causeOf.get(String((doc[PATCH_FIELD] as Row)['id']));
    const kafkaInfo = cause ? kafkaInfoOf(records[cause.index] as AnyRecord, cause) : null;
    // The view before the patch is not read (that would cost a read of every patched view): before is null.
    const { value, headers } = svUpdateOf('UPDATE', null, doc, kafkaInfo, { view: view.name, source: options.source ?? view.name, version, beforeAfter: svUpdate.beforeAfter ?? false, primaryKeys: fields, now: at });
    io.emit({ topic, key: Buffer.from(JSON.stringify(key)), value: await io.serialize(serde, topic, value), headers });
  }
  return rest.map((c) => c.index);
}
