/**
 * The aggregate operator of a single view: a batch of sv-trigger events → distinct keys →
 * batched aggregation → one bulk write of views → sv-update events; failed aggregations are
 * recorded (Fast Data error records) and re-published to the trigger topic with an attempt count,
 * then dead-lettered after `maxAttempts`.
 *
 *   sv-trigger batch  --aggregateViews(sv_customers)-->  (sv-update records are emitted with the batch)
 *                     ~~> one bulkWrite on sv_customers (a view never stored: insert; else replace),
 *                         error records on sv_customers-errors;
 *                         after the sv-updates are produced, before the commit: sv_customers-lineage
 */
import { TributaryError } from '../../errors.js';
import { END_TO_END_LATENCY_SECONDS, SINGLE_VIEWS_TOTAL } from '../../ops/metric-names.js';
import { defineBatchOperator } from '../../stream/operators/batch.js';
import type { Operator, OperatorOutput } from '../../stream/operators/define.js';
import type { AnyRecord } from '../../stream/record.js';
import type { BulkWriteResult, WriteOperation } from '../../store/types.js';
import type { Row } from '../cdc/change-event.js';
import { EventSerdes, type EventFormat } from '../events/event-serde.js';
import { isLive, keyString, STATE } from '../projection/metadata.js';
import { storedByKey } from '../stored-by-key.js';
import { RETRYABLE, errorRecord } from './aggregation-errors.js';
import { assemble } from './assemble.js';
import { assertWritable, DEFINITIONS_COLLECTION } from './definitions.js';
import { lineageCollection, lineageWrite, writeLineage } from './lineage.js';
import { assertNoPatchRace, guardedWrites, PATCH_FIELD, PatchableReads } from './patch.js';
import { isSourceOfViews } from './view-source.js';
import { deleteOf, upsertOf } from './view-writes.js';
import { readSvTrigger, svUpdateOf, SV_TRIGGER_HEADERS, type OperationType, type SvTrigger } from './events.js';
import type { SingleView } from './single-view.js';

export interface AggregateOptions {
  readonly triggerTopic: string;
  readonly svUpdateTopic: string | null;
  readonly errorsCollection: string;
  readonly source: string;
  readonly now?: () => Date;
  /** Format of emitted sv-update and retried sv-trigger events (default 'json'). */
  readonly eventFormat?: EventFormat;
  /** The topology's event serdes (default: the operator's own, in `eventFormat`). */
  readonly events?: EventSerdes;
}

const json = (v: unknown) => Buffer.from(JSON.stringify(v));

interface ViewUpdate {
  readonly type: OperationType;
  readonly before: Row | null;
  readonly after: Row | null;
  readonly trigger: SvTrigger;
  readonly record: AnyRecord;
}

export function aggregateViews(view: SingleView, options: AggregateOptions): Operator<AnyRecord, AnyRecord> {
  const maxAttempts = view.options.maxAttempts ?? 5;
  const events = options.events ?? new EventSerdes(options.eventFormat);
  const svUpdate = view.options.svUpdate === false ? null : (view.options.svUpdate ?? {});
  const svUpdateTopic = svUpdate ? options.svUpdateTopic : null;
  // Built here, once: every batch and every retry shares them (an Avro serde registers its schema once).
  const triggerSerde = events.of('sv-trigger-v1.0.0');
  const svUpdateSerde = events.of(`sv-update-${svUpdate?.version ?? 'v1.0.0'}`);
  const lineage = view.options.lineage !== false;
  // With patch rules the stored views (and their patch stamps) are read before the projections (patch.ts).
  const patched = view.patches.length > 0;
  // What of a stored view the stage needs: all of it when an event or the write carries it (a
  // before image, 'update' merges, a view others are built on), else whether it is live, since
  // when, and its patch stamp. Decoding whole views (their joined arrays) was most of the
  // aggregate stage's BSON work.
  const wholeBefore = view.options.upsert === 'update' || isSourceOfViews(view) || (svUpdate !== null && ((svUpdate.version ?? 'v1.0.0') === 'v2.0.0' || svUpdate.beforeAfter === true));
  const beforeFields = wholeBefore ? undefined : [STATE, 'createdAt', ...(patched ? [PATCH_FIELD] : [])];
  const writes: OperatorOutput[] = [
    { kind: 'collection', name: view.name },
    { kind: 'collection', name: options.errorsCollection },
    ...(lineage ? [{ kind: 'collection', name: lineageCollection(view) } as const] : []),
    { kind: 'topic', name: options.triggerTopic },
    ...(svUpdateTopic ? [{ kind: 'topic', name: svUpdateTopic } as const] : []),
  ];
  return defineBatchOperator<AnyRecord, SvTrigger, AnyRecord>({
    name: 'aggregateViews',
    needs: { store: true, registry: events.format === 'avro' },
    writes,
    // The lineage collection is read once, at start (lineage.ts, upgradeLineage).
    reads: [view.name, DEFINITIONS_COLLECTION, ...view.projections.map((p) => p.name), ...(lineage ? [lineageCollection(view)] : [])],
    decode(record) {
      const trigger = readSvTrigger(record.value);
      if (!trigger) throw new TributaryError('TRB_DECODE', `not an sv-trigger event on ${record.topic}`);
      return trigger;
    },
    async work({ kept, items }, io) {
      const triggers = new Map<string, { trigger: SvTrigger; record: AnyRecord }>();
      items.forEach((trigger, i) => triggers.set(keyString(trigger.singleViewIdentifier), { trigger, record: kept[i] as AnyRecord }));
      const keys = [...triggers.values()].map((t) => t.trigger.singleViewIdentifier);
      // Independent reads, run together: the aggregate stage's latency is a chain of queries
      // (bench/end-to-end.ts profile), so the views' own read does not add a link.
      const readStored = () => storedByKey(io.store.collection(view.name), Object.keys(view.key), keys, beforeFields);
      const reads = patched ? new PatchableReads(view.patches) : null;
      const [existing, outcomes] = reads ? [await readStored(), await assemble(view, keys, io.store, reads.joined)] : await Promise.all([readStored(), assemble(view, keys, io.store)]);
      const at = options.now?.() ?? new Date(io.now());
      const writes: WriteOperation[] = [];
      const errors: WriteOperation[] = [];
      const updates: ViewUpdate[] = [];
      const lineages: WriteOperation[] = [];
      const rejected: Array<[AnyRecord, TributaryError]> = [];

      for (const outcome of outcomes) {
        const k = keyString(outcome.key);
        const { trigger, record } = triggers.get(k) as { trigger: SvTrigger; record: AnyRecord };
        const before = existing.get(k) ?? null;
        if (outcome.kind === 'upsert') {
          const { write, after, type, eventBefore } = upsertOf(view, outcome.key, outcome.view, before, at);
          // A view never stored is inserted: DocumentDB takes inserts at about twice the rate of
          // upserts, and the view's unique key index refuses a second one (retriable: the batch
          // is read and written again). Patched views keep their guarded writes (patch.ts).
          writes.push(before === null && !patched && write.kind === 'replace' ? { kind: 'insert', document: write.document } : write);
          if (lineage) lineages.push(lineageWrite(view, outcome.key, trigger, 'upsert', at));
          updates.push({ type, before: eventBefore, after, trigger, record });
          continue;
        }
        if (outcome.kind === 'delete') {
          if (outcome.reason === 'VALIDATION_ERROR') errors.push(errorRecord(view.name, options.source, outcome.key, 'VALIDATION_ERROR', 'validate() returned false: the single view was deleted', at));
          if (lineage) lineages.push(lineageWrite(view, outcome.key, trigger, 'delete', at));
          // A view others are built on re-emits the delete of a view already DELETED: it may be a replay (view-source.ts).
          if (!isLive(before) && !(before && isSourceOfViews(view))) continue;
          writes.push(deleteOf(view, outcome.key, at));
          updates.push({ type: 'DELETE', before, after: null, trigger, record });
          continue;
        }
        // map() failed: record it, then retry through the trigger topic (retryable kinds), then dead-letter.
        const { errorType, message } = outcome.error;
        errors.push(errorRecord(view.name, options.source, outcome.key, errorType, message, at));
        const attempts = (trigger.retry?.attempts ?? 0) + 1;
        if (RETRYABLE[errorType] && attempts <= maxAttempts) {
          const retry: SvTrigger = { ...trigger, retry: { attempts, lastError: { type: errorType, message } } };
          const value = await io.serialize(triggerSerde, options.triggerTopic, retry as unknown as Row);
          io.emit({ topic: options.triggerTopic, key: json(outcome.key), value, headers: SV_TRIGGER_HEADERS });
        } else {
          const tries = RETRYABLE[errorType] ? `failed ${attempts} times` : `failed (${errorType}, not retried)`;
          rejected.push([record, new TributaryError('TRB_PROCESS', `aggregation of ${view.name} ${JSON.stringify(outcome.key)} ${tries}: ${message}`, { cause: outcome.error, context: { errorType } })]);
        }
      }
      // Blue/green: a definition that is not (or no longer) the live one must not write (TRB_FENCED,
      // retried). Read after the projections, not beside them: queries sent at once contend in a
      // store with no idle core (assemble.ts), and ad-hoc runs reading it beside them measured no gain.
      await assertWritable(io.store, view);
      const keyFields = Object.keys(view.key);
      if (!patched) await io.write(view.name, writes);
      else if (writes.length > 0) {
        assertNoPatchRace(view.name, writes, existing, keyFields, (await io.write(view.name, guardedWrites(writes, existing, keyFields))) as BulkWriteResult);
        if (await reads?.patchedSince(io.store)) {
          throw new TributaryError('TRB_STORE_WRITE', `a document joined into views of ${view.name} was patched while their batch was aggregated: aggregating it again`, { retriable: true, context: { view: view.name } });
        }
      }
      await io.write(options.errorsCollection, errors);
      // After the views (a lineage record never names a write that did not happen) and after the
      // batch's sv-updates are produced: durable before the commit, without holding back the views'
      // events (bench/end-to-end.ts: one store write fewer on the way from CDC to sv-update).
      if (lineage && lineages.length > 0) io.afterProduce(() => writeLineage(view, lineages, (collection, operations) => io.write(collection, operations)));
      // After the writes: with the 'fail' policy reject() throws, and the error records must be there by then.
      for (const [record, error] of rejected) io.reject(record, error, 'TRB_PROCESS');
      const written = io.now();
      for (const u of updates) {
        io.metrics?.count(SINGLE_VIEWS_TOTAL, { view: view.name, operation: u.type });
        io.metrics?.observe(END_TO_END_LATENCY_SECONDS, { view: view.name }, Math.max(0, (written - u.record.timestamp) / 1000));
      }

      if (svUpdate && svUpdateTopic) {
        const context = { view: view.name, source: options.source, version: svUpdate.version ?? 'v1.0.0', beforeAfter: svUpdate.beforeAfter ?? false, primaryKeys: Object.keys(view.key), now: at } as const;
        for (const u of updates) {
          const { value, headers } = svUpdateOf(u.type, u.before, u.after, u.trigger.__internal__kafkaInfo, context);
          io.emit({ topic: svUpdateTopic, key: json(u.trigger.singleViewIdentifier), value: await io.serialize(svUpdateSerde, svUpdateTopic, value), headers });
        }
      }
      return kept;
    },
  });
}
