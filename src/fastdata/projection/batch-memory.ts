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

/** The partition a batch came from, as a map key. */
export function partitionOf(records: readonly AnyRecord[]): string {
  const first = records[0] as AnyRecord;
  return `${first.topic}\u0000${first.partition}`;
}

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
  get(partition: string, keys: Iterable<string>): Map<string, Row | null> {
    const cache = this.#byPartition.get(partition);
    const out = new Map<string, Row | null>();
    if (!cache) return out;
    for (const k of keys) if (cache.has(k)) out.set(k, cache.get(k) as Row | null);
    return out;
  }

  set(partition: string, entries: Iterable<readonly [string, Row | null]>): void {
    let cache = this.#byPartition.get(partition);
    if (!cache) this.#byPartition.set(partition, (cache = new Map()));
    for (const [k, doc] of entries) {
      cache.delete(k); // re-inserted last: Map order is recency
      cache.set(k, doc);
    }
    for (const k of cache.keys()) {
      if (cache.size <= this.maxKeysPerPartition) break;
      cache.delete(k);
    }
  }

  forget(partition: string, keys: Iterable<string>): void {
    const cache = this.#byPartition.get(partition);
    if (cache) for (const k of keys) cache.delete(k);
  }
}

interface Remembered {
  before: Row | null;
  /** What the latest attempt planned to write for the key (undefined: nothing). */
  wrote?: Row | null;
}

export class BatchBeforeImages {
  readonly #byPartition = new Map<string, { firstOffset: string; keys: Map<string, Remembered> }>();

  /**
   * The before image of every key of this attempt: the first attempt's, unless what is stored now
   * is neither that version nor what an earlier attempt wrote (then someone else wrote the key in
   * between, or the first attempt planned from a stale cache entry, and the store is the truth).
   */
  remember(records: readonly AnyRecord[], stored: ReadonlyMap<string, Row>, keys: Iterable<string>): ReadonlyMap<string, Row | null> {
    const partition = partitionOf(records);
    const firstOffset = (records[0] as AnyRecord).offset;
    let entry = this.#byPartition.get(partition);
    if (!entry || entry.firstOffset !== firstOffset) {
      entry = { firstOffset, keys: new Map() };
      this.#byPartition.set(partition, entry);
    }
    const out = new Map<string, Row | null>();
    for (const k of keys) {
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
  planned(records: readonly AnyRecord[], writes: Iterable<readonly [string, Row | null]>): void {
    const entry = this.#byPartition.get(partitionOf(records));
    if (!entry) return;
    for (const [k, doc] of writes) {
      const known = entry.keys.get(k);
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
