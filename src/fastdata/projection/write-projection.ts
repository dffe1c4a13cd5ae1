/**
 * The ingest operator of a projection: for a whole batch, adapt and cast every CDC record, read
 * the stored versions of the batch's keys in one query, apply the plan (one bulk write), and emit
 * one pr-update per changed key (also for replayed, not-applied keys).
 *
 *   CDC records of a partition batch  --writeProjection(pr_customers)-->  pr-update records keyed by primary key
 *                                     ~~> one bulkWrite on collection pr_customers
 */
import { mergeMap, toArray } from 'rxjs';
import { TributaryError } from '../../errors.js';
import { defineOperator, DROPPED, guarded, type Operator } from '../../stream/operators/define.js';
import { derive, type AnyRecord, type StreamRecord } from '../../stream/record.js';
import type { Collection, Filter } from '../../store/types.js';
import type { Row } from '../cdc/change-event.js';
import { partitionOf, ProjectionMemory } from './batch-memory.js';
import { keyedChanges } from './keyed-changes.js';
import { keyString } from './metadata.js';
import { planBatch, type KeyedChange } from './plan-batch.js';
import { prUpdateOf, type PrUpdate } from './pr-update.js';
import type { Projection } from './projection.js';

export interface WriteProjectionOptions {
  readonly now?: () => Date;
  /** Called for records that carry no row change (tombstones, truncates), for metrics. */
  readonly onSkip?: (reason: string) => void;
  /** What the stage remembers across batches (version cache, before images); reset it at every start. Default: its own. */
  readonly memory?: ProjectionMemory;
}

/** The memory a projection's ingest stage should use (its version cache is off for hard deletes). */
export function projectionMemory(p: Projection<object>): ProjectionMemory {
  return new ProjectionMemory(p.options.deleteMode === 'hard' ? 0 : (p.options.versionCacheSize ?? 0));
}

export function writeProjection(p: Projection<object>, options: WriteProjectionOptions = {}): Operator<AnyRecord, StreamRecord<Row, PrUpdate>> {
  const now = options.now ?? (() => new Date());
  const memory = options.memory ?? projectionMemory(p);
  return defineOperator({ name: `writeProjection`, kind: 'sink', target: p.name, targetKind: 'collection' }, (context) => (source) =>
    source.pipe(
      toArray(),
      mergeMap(async (records) => {
        const changes: Array<{ record: AnyRecord; change: KeyedChange }> = [];
        for (const record of records) {
          const out = guarded(context, record, 'TRB_DECODE', (r) => keyedChanges(p, r));
          if (out === DROPPED) continue;
          if ('skip' in out) {
            context.metrics?.cdcSkipped(context.stream, out.skip);
            options.onSkip?.(out.skip);
            continue;
          }
          for (const change of out) changes.push({ record, change });
        }
        if (changes.length === 0) return [];
        if (!context.store) throw new TributaryError('TRB_CONFIG', `projection '${p.name}' needs a document store (set MONGODB_URL or pass store)`);
        const collection = context.store.collection(p.name);
        const { cache, attempts } = memory.of(context.store);
        const partition = partitionOf(records);
        const keys = new Map(changes.map((c) => [keyString(c.change.key), c.change.key]));
        const cached = cache?.get(partition, keys.keys()) ?? new Map<string, Row | null>();
        const unknown = [...keys].filter(([k]) => !cached.has(k)).map(([, key]) => key);
        const stored = unknown.length > 0 ? await storedByKey(collection, p.primaryKey, unknown) : new Map<string, Row>();
        for (const [k, doc] of cached) if (doc !== null) stored.set(k, doc);
        const priorBefore = attempts.remember(records, stored, keys.keys());
        const at = now();
        const plan = planBatch(changes.map((c) => c.change), stored, { deleteMode: p.options.deleteMode ?? 'soft', now: at, priorBefore });
        context.metrics?.staleEvents(p.name, plan.stale);
        const after = plan.changes.map((c) => [keyString(c.key), c.after] as const);
        attempts.planned(records, after);
        if (plan.writes.length > 0) {
          const started = performance.now();
          try {
            await collection.bulkWrite(plan.writes);
          } catch (error) {
            // Some writes may have applied, one may have met a newer version: read them all again.
            cache?.forget(partition, keys.keys());
            throw error;
          }
          context.observeStoreWrite(p.name, (performance.now() - started) / 1000);
        }
        cache?.set(partition, after);
        const lastRecord = new Map(changes.map((c) => [keyString(c.change.key), c.record]));
        const prContext = {
          projection: p.name,
          source: p.options.systemOfRecord ?? p.options.source.topic,
          primaryKeys: p.primaryKey,
          version: p.options.prUpdate?.version ?? 'v2.0.0',
          now: at,
        } as const;
        return plan.changes.map((change) => {
          const { value, headers } = prUpdateOf(change, prContext);
          return derive(lastRecord.get(keyString(change.key)) as AnyRecord, { key: change.key, value, headers });
        });
      }),
      mergeMap((out) => out),
    ),
  );
}

/** The stored documents of these keys, in one query (`$in` per key field, exact match in memory). */
export async function storedByKey(collection: Collection, primaryKey: readonly string[], keys: readonly Row[]): Promise<Map<string, Row>> {
  const filter: Filter = {};
  for (const field of primaryKey) filter[field] = { $in: [...new Set(keys.map((k) => k[field]))] };
  const wanted = new Set(keys.map(keyString));
  const found = new Map<string, Row>();
  for (const doc of await collection.find(filter)) {
    const k = keyString(Object.fromEntries(primaryKey.map((f) => [f, doc[f]])));
    if (wanted.has(k)) found.set(k, doc);
  }
  return found;
}
