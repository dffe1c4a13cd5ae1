/**
 * The ingest operator of a projection: for a whole batch, adapt and cast every CDC record, read
 * the stored versions of the batch's keys in one query, apply the plan (one bulk write), and emit
 * one pr-update per changed key (also for replayed, not-applied keys).
 *
 *   CDC records of a partition batch  --writeProjection(pr_customers)-->  pr-update records keyed by primary key
 *                                     ~~> one bulkWrite on collection pr_customers
 */
import { CDC_SKIPPED_TOTAL, STALE_EVENTS_TOTAL } from '../../ops/metric-names.js';
import { defineBatchOperator } from '../../stream/operators/batch.js';
import type { Operator } from '../../stream/operators/define.js';
import { derive, type AnyRecord, type StreamRecord } from '../../stream/record.js';
import type { Row } from '../cdc/change-event.js';
import { storedByKey } from '../stored-by-key.js';
import { partitionOf, ProjectionMemory } from './batch-memory.js';
import { keyedChanges } from './keyed-changes.js';
import { keyString } from './metadata.js';
import { planBatch, type KeyedChange, type ProjectionChange } from './plan-batch.js';
import { prUpdateOf, type PrUpdate, type PrUpdateContext } from './pr-update.js';
import { DEFAULT_VERSION_CACHE_SIZE, type Projection } from './projection.js';

export interface WriteProjectionOptions {
  readonly now?: () => Date;
  /** Called for records that carry no row change (tombstones, truncates), for metrics. */
  readonly onSkip?: (reason: string) => void;
  /** What the stage remembers across batches (version cache, before images); reset it at every start. Default: its own. */
  readonly memory?: ProjectionMemory;
}

/** The memory a projection's ingest stage should use (its version cache is off for hard deletes). */
export function projectionMemory(p: Projection<object>): ProjectionMemory {
  return new ProjectionMemory(p.options.deleteMode === 'hard' ? 0 : (p.options.versionCacheSize ?? DEFAULT_VERSION_CACHE_SIZE));
}

export function writeProjection(p: Projection<object>, options: WriteProjectionOptions = {}): Operator<AnyRecord, StreamRecord<Row, PrUpdate>> {
  const memory = options.memory ?? projectionMemory(p);
  const prContext = {
    projection: p.name,
    source: p.options.systemOfRecord ?? p.options.source.topic,
    primaryKeys: p.primaryKey,
    version: p.options.prUpdate?.version ?? 'v2.0.0',
  } as const;
  return defineBatchOperator<AnyRecord, readonly KeyedChange[], StreamRecord<Row, PrUpdate>>({
    name: 'writeProjection',
    needs: { store: true },
    writes: [{ kind: 'collection', name: p.name }],
    reads: [p.name],
    decode(record, io) {
      const out = keyedChanges(p, record);
      if (!('skip' in out)) return out;
      io.metrics?.count(CDC_SKIPPED_TOTAL, { stream: io.stream, reason: out.skip });
      options.onSkip?.(out.skip);
      return undefined;
    },
    async work({ records, kept, items }, io) {
      // The batch's changes in order, and for each key the last record that changed it (its pr-update inherits that record's origin).
      const changes: KeyedChange[] = [];
      const lastRecord = new Map<string, AnyRecord>();
      const keys = new Map<string, Row>();
      // A batch may hold several partitions' records: what is remembered is remembered per partition.
      const partitionById = new Map<string, string>();
      let partition = '';
      let previous: AnyRecord | undefined;
      for (let i = 0; i < items.length; i++) {
        const record = kept[i] as AnyRecord;
        if (!previous || previous.partition !== record.partition || previous.topic !== record.topic) partition = partitionOf(record);
        previous = record;
        for (const change of items[i] as readonly KeyedChange[]) {
          const id = change.id ?? keyString(change.key);
          changes.push(change);
          lastRecord.set(id, record);
          partitionById.set(id, partition);
          keys.set(id, change.key);
        }
      }
      if (changes.length === 0) return [];
      const { cache, attempts } = memory.of(io.store);
      const partitionOfKey = (id: string) => partitionById.get(id) as string;
      const cached = cache?.get(keys.keys(), partitionOfKey) ?? new Map<string, Row | null>();
      const unknown = [...keys].filter(([k]) => !cached.has(k)).map(([, key]) => key);
      const stored = unknown.length > 0 ? await storedByKey(io.store.collection(p.name), p.primaryKey, unknown) : new Map<string, Row>();
      for (const [k, doc] of cached) if (doc !== null) stored.set(k, doc);
      const priorBefore = attempts.remember(records, stored, keys.keys(), partitionOfKey);
      const at = options.now?.() ?? new Date(io.now());
      const plan = planBatch(changes, stored, { deleteMode: p.options.deleteMode ?? 'soft', now: at, priorBefore });
      io.metrics?.count(STALE_EVENTS_TOTAL, { projection: p.name }, plan.stale);
      const after = plan.changes.map((c) => [c.id, c.after] as const);
      attempts.planned(after, partitionOfKey);
      try {
        await io.write(p.name, plan.writes);
      } catch (error) {
        // Some writes may have applied, one may have met a newer version: read them all again.
        cache?.forget(keys.keys(), partitionOfKey);
        throw error;
      }
      cache?.set(after, partitionOfKey);
      return prUpdates(plan.changes, lastRecord, { ...prContext, now: at });
    },
  });
}

/**
 * The batch's pr-update records, each built when the next stage asks for it (toTopic serialises it
 * at once). Built all in advance (a map), a batch's pr-updates and their plain copies of the
 * documents were alive together while they were being serialised, survived the scavenges that fell
 * meanwhile and were promoted to the old generation: about a sixth of all the ingest worker
 * promoted, garbage as soon as it got there, and a reason V8 let the old generation grow (bench/backlog.ts).
 */
function* prUpdates(changes: readonly ProjectionChange[], lastRecord: ReadonlyMap<string, AnyRecord>, context: PrUpdateContext): Generator<StreamRecord<Row, PrUpdate>, void, undefined> {
  for (const change of changes) {
    const { value, headers } = prUpdateOf(change, context);
    yield derive(lastRecord.get(change.id) as AnyRecord, { key: change.key, value, headers });
  }
}
