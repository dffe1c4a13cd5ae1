/**
 * The aggregate operator of a single view: a batch of sv-trigger events → distinct keys →
 * batched aggregation → one bulk write of views → sv-update events; failed aggregations are
 * recorded (Fast Data error records) and re-published to the trigger topic with an attempt count,
 * then dead-lettered after `maxAttempts`.
 *
 *   sv-trigger batch  --aggregateViews(sv_customers)-->  (sv-update records are emitted with the batch)
 *                     ~~> one bulkWrite on sv_customers, error records on sv_customers-errors
 */
import { randomUUID } from 'node:crypto';
import { TributaryError } from '../../errors.js';
import { END_TO_END_LATENCY_SECONDS, SINGLE_VIEWS_TOTAL } from '../../ops/metric-names.js';
import { defineBatchOperator } from '../../stream/operators/batch.js';
import type { Operator, OperatorOutput } from '../../stream/operators/define.js';
import type { AnyRecord } from '../../stream/record.js';
import type { WriteOperation } from '../../store/types.js';
import type { Row } from '../cdc/change-event.js';
import { EventSerdes, type EventFormat } from '../events/event-serde.js';
import { isLive, keyString, STATE } from '../projection/metadata.js';
import { storedByKey } from '../stored-by-key.js';
import { assemble } from './assemble.js';
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
  const writes: OperatorOutput[] = [
    { kind: 'collection', name: view.name },
    { kind: 'collection', name: options.errorsCollection },
    { kind: 'topic', name: options.triggerTopic },
    ...(svUpdateTopic ? [{ kind: 'topic', name: svUpdateTopic } as const] : []),
  ];
  return defineBatchOperator<AnyRecord, SvTrigger, AnyRecord>({
    name: 'aggregateViews',
    needs: { store: true, registry: events.format === 'avro' },
    writes,
    reads: [view.name, ...view.projections.map((p) => p.name)],
    decode(record) {
      const trigger = readSvTrigger(record.value);
      if (!trigger) throw new TributaryError('TRB_DECODE', `not an sv-trigger event on ${record.topic}`);
      return trigger;
    },
    async work({ kept, items }, io) {
      const triggers = new Map<string, { trigger: SvTrigger; record: AnyRecord }>();
      items.forEach((trigger, i) => triggers.set(keyString(trigger.singleViewIdentifier), { trigger, record: kept[i] as AnyRecord }));
      const keys = [...triggers.values()].map((t) => t.trigger.singleViewIdentifier);
      // Independent reads, run together: on FerretDB each query costs ~8 ms whatever its size, and
      // the aggregate stage's latency is a chain of them (bench/end-to-end.ts profile).
      const [existing, outcomes] = await Promise.all([storedByKey(io.store.collection(view.name), Object.keys(view.key), keys), assemble(view, keys, io.store)]);
      const at = options.now?.() ?? new Date(io.now());
      const writes: WriteOperation[] = [];
      const errors: WriteOperation[] = [];
      const updates: ViewUpdate[] = [];
      const deleteMode = view.options.delete ?? 'delete';

      for (const outcome of outcomes) {
        const k = keyString(outcome.key);
        const { trigger, record } = triggers.get(k) as { trigger: SvTrigger; record: AnyRecord };
        const before = existing.get(k) ?? null;
        if (outcome.kind === 'upsert') {
          // A `__STATE__` returned by map is kept (Fast Data SVC >= 5.0.0); otherwise the view is PUBLIC.
          const doc = { ...outcome.view, createdAt: isLive(before) ? before.createdAt : at, updatedAt: at, [STATE]: outcome.view[STATE] ?? 'PUBLIC' };
          const update = view.options.upsert === 'update';
          writes.push(update ? { kind: 'upsert', filter: outcome.key, set: doc } : { kind: 'replace', filter: outcome.key, document: doc });
          // 'update' only sets the mapped fields: the view now stored is the old one with them set.
          updates.push({ type: isLive(before) ? 'UPDATE' : 'INSERT', before, after: update && before ? { ...before, ...doc } : doc, trigger, record });
          continue;
        }
        if (outcome.kind === 'delete') {
          if (outcome.reason === 'VALIDATION_ERROR') errors.push(errorRecord(view.name, options.source, outcome.key, 'VALIDATION_ERROR', 'validate() returned false: the single view was deleted', at));
          if (!isLive(before)) continue;
          writes.push(deleteMode === 'virtualDelete' ? { kind: 'upsert', filter: outcome.key, set: { [STATE]: 'DELETED', updatedAt: at } } : { kind: 'delete', filter: outcome.key });
          updates.push({ type: 'DELETE', before, after: null, trigger, record });
          continue;
        }
        // map() threw: record it, then retry through the trigger topic, then dead-letter.
        errors.push(errorRecord(view.name, options.source, outcome.key, 'UNKNOWN_ERROR', outcome.error.message, at));
        const attempts = (trigger.retry?.attempts ?? 0) + 1;
        if (attempts <= maxAttempts) {
          const retry: SvTrigger = { ...trigger, retry: { attempts, lastError: { type: 'UNKNOWN_ERROR', message: outcome.error.message } } };
          const value = await io.serialize(triggerSerde, options.triggerTopic, retry as unknown as Row);
          io.emit({ topic: options.triggerTopic, key: json(outcome.key), value, headers: SV_TRIGGER_HEADERS });
        } else {
          io.reject(record, new TributaryError('TRB_PROCESS', `aggregation of ${view.name} ${JSON.stringify(outcome.key)} failed ${attempts} times: ${outcome.error.message}`, { cause: outcome.error }), 'TRB_PROCESS');
        }
      }
      await io.write(view.name, writes);
      await io.write(options.errorsCollection, errors);
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

function errorRecord(type: string, origin: string, identifier: Row, errorType: string, errorMessage: string, at: Date): WriteOperation {
  const id = randomUUID();
  return {
    kind: 'replace',
    filter: { errorId: id },
    document: {
      errorId: id,
      portfolioOrigin: origin,
      type,
      identifier,
      errorType,
      errorMessage,
      resolutionMethod: 'AGGREGATION',
      createdAt: at,
      updatedAt: at,
      creatorId: 'tributary',
      updaterId: 'tributary',
      [STATE]: 'PUBLIC',
    },
  };
}
