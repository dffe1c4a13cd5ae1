/**
 * What the ingest stage of one projection remembers per source partition, so that a batch reads
 * less and a retried batch still tells the truth:
 *
 * - `VersionCache`: the version of each key this instance last wrote or read. Records of a key
 *   normally arrive on one partition, owned by one instance, so the next batch of that partition
 *   can plan from the cache instead of reading the store. A stale entry is harmless: every write
 *   is conditional on the version it was planned from (`versionFilter`, applied atomically by the
 *   server: test/integration/projection-concurrency.test.ts), so a write planned from a stale
 *   version conflicts, the batch fails retriably, its keys are forgotten and re-read. Hard deletes are the
 *   exception (a conditional delete that matches nothing is silent), so projections with
 *   `deleteMode: 'hard'` do not use the cache.
 * - `BatchBeforeImages`: the before image of each key at the first attempt of a batch. An attempt
 *   that fails after (part of) its bulk write leaves those writes in place; the retry must still
 *   describe the transition from the state before the batch, or a trigger that depends on the old
 *   image (an order that left a customer) is lost.
 *
 * Both live in process memory: a restart or a partition moving to another instance starts from
 * the store again.
 */
import type { AnyRecord } from '../../stream/record.js';
import type { Row } from '../cdc/change-event.js';
import { COUNTER, COUNTER_TYPE, KAFKA_INFO, STATE, type KafkaInfo } from './metadata.js';

/** The partition a record came from, as a map key. */
export function partitionOf(record: AnyRecord): string {
  return `${record.topic}\u0000${record.partition}`;
}

/** Which partition a key of the batch belongs to (a batch may hold several partitions' records). */
export type PartitionOfKey = (key: string) => string;

/** Whether two stored versions are the same write (position and state), ignoring `_id` and timestamps. */
export function sameVersion(a: Row | null, b: Row | null): boolean {
  if (a === null || b === null) return a === b;
  const ia = (a[KAFKA_INFO] ?? {}) as Partial<KafkaInfo>;
  const ib = (b[KAFKA_INFO] ?? {}) as Partial<KafkaInfo>;
  return (
    a[COUNTER] === b[COUNTER] &&
    a[COUNTER_TYPE] === b[COUNTER_TYPE] &&
    a[STATE] === b[STATE] &&
    ia.topic === ib.topic &&
    ia.partition === ib.partition &&
    ia.offset === ib.offset
  );
}

export class VersionCache {
  readonly #byPartition = new Map<string, Map<string, Row | null>>();

  /** `maxKeysPerPartition`: the least recently written keys are dropped beyond it. */
  constructor(readonly maxKeysPerPartition: number) {}

  /** The cached versions of those keys that are cached (null = known to be absent). */
  get(keys: Iterable<string>, partitionOfKey: PartitionOfKey): Map<string, Row | null> {
    const out = new Map<string, Row | null>();
    for (const k of keys) {
      const cache = this.#byPartition.get(partitionOfKey(k));
      if (cache?.has(k)) out.set(k, cache.get(k) as Row | null);
    }
    return out;
  }

  set(entries: Iterable<readonly [string, Row | null]>, partitionOfKey: PartitionOfKey): void {
    const touched = new Set<Map<string, Row | null>>();
    for (const [k, doc] of entries) {
      const partition = partitionOfKey(k);
      let cache = this.#byPartition.get(partition);
      if (!cache) this.#byPartition.set(partition, (cache = new Map()));
      cache.delete(k); // re-inserted last: Map order is recency
      cache.set(k, doc);
      touched.add(cache);
    }
    for (const cache of touched) {
      for (const k of cache.keys()) {
        if (cache.size <= this.maxKeysPerPartition) break;
        cache.delete(k);
      }
    }
  }

  forget(keys: Iterable<string>, partitionOfKey: PartitionOfKey): void {
    for (const k of keys) this.#byPartition.get(partitionOfKey(k))?.delete(k);
  }
}

interface Remembered {
  before: Row | null;
  /** What the latest attempt planned to write for the key (undefined: nothing). */
  wrote?: Row | null;
}

export class BatchBeforeImages {
  readonly #byPartition = new Map<string, { firstOffset: string; attempt: number; keys: Map<string, Remembered> }>();
  /** Counts calls of `remember`, to tell a partition's first record in this batch from later ones. */
  #attempt = 0;

  /**
   * The before image of every key of this attempt: the first attempt's, unless what is stored now
   * is neither that version nor what an earlier attempt wrote (then someone else wrote the key in
   * between, or the first attempt planned from a stale cache entry, and the store is the truth).
   */
  remember(records: readonly AnyRecord[], stored: ReadonlyMap<string, Row>, keys: Iterable<string>, partitionOfKey: PartitionOfKey): ReadonlyMap<string, Row | null> {
    // A partition's batch is the same attempt again when it starts at the same offset.
    let previous: AnyRecord | undefined;
    for (const record of records) {
      if (previous && previous.partition === record.partition && previous.topic === record.topic) continue; // a partition's records come together
      previous = record;
      const partition = partitionOf(record);
      const entry = this.#byPartition.get(partition);
      if (entry?.attempt === this.#attempt) continue; // seen earlier in this batch
      if (!entry || entry.firstOffset !== record.offset) this.#byPartition.set(partition, { firstOffset: record.offset, attempt: this.#attempt, keys: new Map() });
      else entry.attempt = this.#attempt;
    }
    this.#attempt++;
    const out = new Map<string, Row | null>();
    for (const k of keys) {
      const entry = this.#byPartition.get(partitionOfKey(k));
      if (!entry) continue;
      const now = stored.get(k) ?? null;
      const known = entry.keys.get(k);
      if (!known || !(sameVersion(now, known.before) || (known.wrote !== undefined && sameVersion(now, known.wrote)))) {
        entry.keys.set(k, { before: now });
        out.set(k, now);
      } else {
        out.set(k, known.before);
      }
    }
    return out;
  }

  /** Records what this attempt is about to write, so the next attempt can tell its own writes apart. */
  planned(writes: Iterable<readonly [string, Row | null]>, partitionOfKey: PartitionOfKey): void {
    for (const [k, doc] of writes) {
      const known = this.#byPartition.get(partitionOfKey(k))?.keys.get(k);
      if (known) known.wrote = doc;
    }
  }
}

/**
 * The memory of one projection's ingest stage, per document store (a topology object can be run
 * against several stores, e.g. by tests) and per run: `reset()` at every start, because a version
 * remembered from an earlier run may describe a document that is gone (a dropped collection being
 * rebuilt), and a replay judged against it would write nothing.
 */
export class ProjectionMemory {
  #byStore = new WeakMap<object, { cache: VersionCache | undefined; attempts: BatchBeforeImages }>();

  /** `cacheSize`: keys per partition in the version cache; 0 = no cache. */
  constructor(readonly cacheSize: number) {}

  of(store: object): { cache: VersionCache | undefined; attempts: BatchBeforeImages } {
    let memory = this.#byStore.get(store);
    if (!memory) {
      memory = { cache: this.cacheSize > 0 ? new VersionCache(this.cacheSize) : undefined, attempts: new BatchBeforeImages() };
      this.#byStore.set(store, memory);
    }
    return memory;
  }

  reset(): void {
    this.#byStore = new WeakMap();
  }
}
