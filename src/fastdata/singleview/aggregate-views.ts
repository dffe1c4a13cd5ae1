/**
 * The aggregate operator of a single view: a batch of sv-trigger events → distinct keys →
 * batched aggregation → one bulk write of views → sv-update events; failed aggregations are
 * recorded (Fast Data error records) and re-published to the trigger topic with an attempt count,
 * then dead-lettered after `maxAttempts`.
 *
 *   sv-trigger batch  --aggregateViews(sv_customers)-->  (sv-update records are emitted with the batch)
 *                     ~~> one bulkWrite on sv_customers, error records on sv_customers-errors
 */
import { mergeMap, toArray } from 'rxjs';
import { TributaryError } from '../../errors.js';
import { defineOperator, DROPPED, guarded, type Operator } from '../../stream/operators/define.js';
import type { AnyRecord } from '../../stream/record.js';
import type { WriteOperation } from '../../store/types.js';
import type { Row } from '../cdc/change-event.js';
import { isLive, keyString } from '../projection/metadata.js';
import { storedByKey } from '../projection/write-projection.js';
import { RETRYABLE, errorRecord } from './aggregation-errors.js';
import { assemble } from './assemble.js';
import { assertWritable } from './definitions.js';
import { lineageCollection, lineageWrite } from './lineage.js';
import { assertNoPatchRace, guardedWrites } from './patch.js';
import { isSourceOfViews } from './view-source.js';
import { readSvTrigger, svUpdateOf, SV_TRIGGER_HEADERS, type OperationType, type SvTrigger } from './events.js';
import type { SingleView } from './single-view.js';
import { deleteOf, upsertOf } from './view-writes.js';
import { eventSerde, type EventFormat } from '../events/event-serde.js';

export interface AggregateOptions {
  readonly triggerTopic: string;
  readonly svUpdateTopic: string | null;
  readonly errorsCollection: string;
  readonly source: string;
  readonly now?: () => Date;
  /** Format of emitted sv-update and retried sv-trigger events (default 'json'). */
  readonly eventFormat?: EventFormat;
}

const json = (v: unknown) => Buffer.from(JSON.stringify(v));

export function aggregateViews(view: SingleView, options: AggregateOptions): Operator<AnyRecord, AnyRecord> {
  const now = options.now ?? (() => new Date());
  const maxAttempts = view.options.maxAttempts ?? 5;
  const triggerSerde = eventSerde('sv-trigger-v1.0.0', options.eventFormat);
  const lineage = view.options.lineage !== false;
  return defineOperator({ name: 'aggregateViews', kind: 'sink', target: view.name, targetKind: 'collection' }, (context) => (source) =>
    source.pipe(
      toArray(),
      mergeMap(async (records) => {
        const triggers = new Map<string, { trigger: SvTrigger; record: AnyRecord }>();
        for (const record of records) {
          const t = guarded(context, record, 'TRB_DECODE', (r) => {
            const trigger = readSvTrigger(r.value);
            if (!trigger) throw new TributaryError('TRB_DECODE', `not an sv-trigger event on ${r.topic}`);
            return trigger;
          });
          if (t !== DROPPED) triggers.set(keyString(t.singleViewIdentifier), { trigger: t, record });
        }
        if (triggers.size === 0) return records;
        const store = context.store;
        if (!store) throw new TributaryError('TRB_CONFIG', `single view '${view.name}' needs a document store`);
        const keys = [...triggers.values()].map((t) => t.trigger.singleViewIdentifier);
        const collection = store.collection(view.name);
        // Independent reads, run together: on FerretDB each query costs ~8 ms whatever its size, and
        // the aggregate stage's latency is a chain of them (bench/end-to-end.ts profile).
        const readStored = () => storedByKey(collection, Object.keys(view.key), keys);
        // With patch rules, the stored views (and their patch stamps) are read before the projections (patch.ts).
        const patched = view.patches.length > 0;
        const [existing, outcomes] = patched ? [await readStored(), await assemble(view, keys, store)] : await Promise.all([readStored(), assemble(view, keys, store)]);
        const at = now();
        const registry = context.registry ? { registry: context.registry } : {};
        const writes: WriteOperation[] = [];
        const errors: WriteOperation[] = [];
        const updates: Array<{ type: OperationType; before: Row | null; after: Row | null; trigger: SvTrigger; record: AnyRecord }> = [];
        const rejected: Array<[AnyRecord, TributaryError]> = [];
        const lineages: WriteOperation[] = [];

        for (const outcome of outcomes) {
          const k = keyString(outcome.key);
          const { trigger, record } = triggers.get(k) as { trigger: SvTrigger; record: AnyRecord };
          const before = existing.get(k) ?? null;
          if (outcome.kind === 'upsert') {
            const { write, after, type, eventBefore } = upsertOf(view, outcome.key, outcome.view, before, at);
            writes.push(write);
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
            const value = await triggerSerde.serialize(retry as unknown as Row, { topic: options.triggerTopic, part: 'value', ...registry });
            context.emit({ topic: options.triggerTopic, key: json(outcome.key), value, headers: SV_TRIGGER_HEADERS });
          } else {
            const tries = RETRYABLE[errorType] ? `failed ${attempts} times` : `failed (${errorType}, not retried)`;
            rejected.push([record, new TributaryError('TRB_PROCESS', `aggregation of ${view.name} ${JSON.stringify(outcome.key)} ${tries}: ${message}`, { cause: outcome.error, context: { errorType } })]);
          }
        }
        // Blue/green: a definition that is not (or no longer) the live one must not write (TRB_FENCED, retried).
        await assertWritable(store, view);
        const started = performance.now();
        if (writes.length > 0 && !patched) await collection.bulkWrite(writes);
        if (writes.length > 0 && patched) assertNoPatchRace(view.name, writes, existing, Object.keys(view.key), await collection.bulkWrite(guardedWrites(writes, existing, Object.keys(view.key))));
        // After the views: a lineage record never names a write that did not happen.
        await Promise.all([
          errors.length > 0 ? store.collection(options.errorsCollection).bulkWrite(errors) : undefined,
          lineages.length > 0 ? store.collection(lineageCollection(view)).bulkWrite(lineages) : undefined,
        ]);
        // After the writes: with the 'fail' policy reject() throws, and the error records must be there by then.
        for (const [record, error] of rejected) context.reject(record, error, 'TRB_PROCESS');
        context.observeStoreWrite(view.name, (performance.now() - started) / 1000);
        const written = Date.now();
        for (const u of updates) {
          context.metrics?.singleViews(view.name, u.type);
          context.metrics?.endToEnd(view.name, (written - u.record.timestamp) / 1000);
        }

        if (options.svUpdateTopic && view.options.svUpdate !== false) {
          const svUpdate = view.options.svUpdate ?? {};
          for (const u of updates) {
            const { value, headers } = svUpdateOf(u.type, u.before, u.after, u.trigger.__internal__kafkaInfo, {
              view: view.name,
              source: options.source,
              version: svUpdate.version ?? 'v1.0.0',
              beforeAfter: svUpdate.beforeAfter ?? false,
              primaryKeys: Object.keys(view.key),
              now: at,
            });
            const bytes = await eventSerde(`sv-update-${svUpdate.version ?? 'v1.0.0'}`, options.eventFormat).serialize(value, { topic: options.svUpdateTopic, part: 'value', ...registry });
            context.emit({ topic: options.svUpdateTopic, key: json(u.trigger.singleViewIdentifier), value: bytes, headers });
          }
        }
        return records;
      }),
      mergeMap((out) => out),
    ),
  );
}
