/**
 * The projection write plan for one batch, as a pure function (no I/O, unit-tested on its own):
 * given the batch's change events, already cast and keyed, and the stored documents of their keys,
 * decide one write per key and one projection change (pr-update) per key.
 *
 * - Events of a key are applied in order; the first `before` and the last `after` survive
 *   (per-key compaction), so a batch writes each key at most once.
 * - Replay guard: an event older than the stored position (counter, then Kafka offset within the
 *   same partition) is not applied; the key's projection change is still emitted so no downstream
 *   trigger is lost.
 * - A snapshot read never overwrites a stored version unless that version is provably older (same
 *   counter type, and a lower counter or a lower offset in the same partition): positions of
 *   different kinds cannot be compared, and a snapshot must not win by default.
 * - Deletes are soft (`__STATE__: DELETED`, position kept, so a late replay cannot resurrect the
 *   row) or hard (document removed).
 */
import type { WriteOperation } from '../../store/types.js';
import type { ChangePosition, Row } from '../cdc/change-event.js';
import { COUNTER, COUNTER_TYPE, isLive, KAFKA_INFO, keyString, STATE, withoutId, type KafkaInfo } from './metadata.js';

export interface KeyedChange {
  readonly op: 'upsert' | 'delete';
  /** Primary key, projection field names. */
  readonly key: Row;
  /** `keyString(key)`, when the caller has it already (computed here otherwise): the key as a map key. */
  readonly id?: string;
  /** Cast document (projection field names) for upserts; the known image for deletes (may be null). */
  readonly document: Row | null;
  readonly position: ChangePosition;
  readonly kafka: KafkaInfo;
  /** A snapshot read (Debezium `op: r`): applied only where nothing is stored or the stored version provably precedes it. */
  readonly snapshot?: boolean;
}

export type ChangeType = 'INSERT' | 'UPDATE' | 'DELETE';

export interface ProjectionChange {
  readonly key: Row;
  /** `keyString(key)`. */
  readonly id: string;
  readonly type: ChangeType;
  readonly before: Row | null;
  readonly after: Row | null;
  /** False when every event of the key was older than the stored state (a replay). */
  readonly applied: boolean;
  readonly kafka: KafkaInfo;
}

export interface BatchPlan {
  readonly writes: WriteOperation[];
  readonly changes: ProjectionChange[];
  readonly stale: number;
}

export interface PlanOptions {
  readonly deleteMode: 'soft' | 'hard';
  readonly now: Date;
  /**
   * Before images remembered from an earlier attempt of this same batch, by key string. A retried
   * attempt re-reads what its failed predecessor may already have written; the projection change
   * must still describe the transition from the state before the batch, or a trigger that depends
   * on the old image (an order that left a customer) is lost.
   */
  readonly priorBefore?: ReadonlyMap<string, Row | null>;
}

type Positioned = { readonly position: ChangePosition; readonly kafka: KafkaInfo };

/**
 * Where `incoming` stands against the stored version: -1 before it, 1 after it, 0 at the same
 * position, null when the two cannot be compared (no stored counter, or counters of different
 * types). Ties on the counter are broken by Kafka offset within the same topic partition.
 */
export function comparePosition(incoming: Positioned, stored: Row): -1 | 0 | 1 | null {
  const counter = stored[COUNTER];
  if (typeof counter !== 'number' || stored[COUNTER_TYPE] !== incoming.position.type) return null;
  if (incoming.position.counter !== counter) return incoming.position.counter < counter ? -1 : 1;
  const info = stored[KAFKA_INFO] as Partial<KafkaInfo> | undefined;
  if (!info || info.topic !== incoming.kafka.topic || info.partition !== incoming.kafka.partition || info.offset === undefined) return null;
  const offset = BigInt(incoming.kafka.offset);
  const storedOffset = BigInt(info.offset);
  return offset < storedOffset ? -1 : offset > storedOffset ? 1 : 0;
}

/** An event provably older than the stored version: never applied. */
export function isOlder(incoming: Positioned, stored: Row): boolean {
  return comparePosition(incoming, stored) === -1;
}

export function planBatch(events: readonly KeyedChange[], stored: ReadonlyMap<string, Row>, options: PlanOptions): BatchPlan {
  const byKey = new Map<string, KeyedChange[]>();
  for (const e of events) {
    const k = e.id ?? keyString(e.key);
    const list = byKey.get(k);
    if (list) list.push(e);
    else byKey.set(k, [e]);
  }
  const writes: WriteOperation[] = [];
  const changes: ProjectionChange[] = [];
  let stale = 0;

  for (const [k, keyEvents] of byKey) {
    const first = withoutId(stored.get(k) ?? null);
    let state = first;
    let applied = false;
    for (const event of keyEvents) {
      // A snapshot read must provably follow what is stored; any other event must not provably precede it.
      if (state && (event.snapshot === true ? comparePosition(event, state) !== 1 : isOlder(event, state))) {
        stale++;
        continue;
      }
      applied = true;
      state = next(state, event, options);
    }
    const last = keyEvents[keyEvents.length - 1] as KeyedChange;
    if (applied) {
      // A key known to be absent is inserted: about twice the rate of a conditional upsert on
      // DocumentDB, and as safe (the unique primary-key index refuses a second insert: retriable).
      if (first === null && state !== null) writes.push({ kind: 'insert', document: state });
      else {
        const filter = versionFilter(last.key, first);
        writes.push(state === null ? { kind: 'delete', filter } : { kind: 'replace', filter, document: state });
      }
    }
    const before = options.priorBefore?.has(k) ? withoutId(options.priorBefore.get(k) ?? null) : first;
    const type: ChangeType = !isLive(state) ? 'DELETE' : isLive(before) ? 'UPDATE' : 'INSERT';
    changes.push({ key: last.key, id: k, type, before, after: state, applied, kafka: last.kafka });
  }
  return { writes, changes, stale };
}

/**
 * Optimistic concurrency: a write applies only to the version this plan was computed from. Records
 * of one key normally share a partition (one writer), but a primary-key change sent as one update is
 * keyed by the new key, so the old key can be written from two partitions at once. If another writer
 * got there first, the conditional upsert finds no match, tries to insert, and the unique primary-key
 * index refuses it: a retriable store error, so the batch is re-read and re-planned. (A hard delete
 * that loses such a race deletes nothing; soft deletes, the default, are fully protected.)
 */
export function versionFilter(key: Row, stored: Row | null): Row {
  // Object.assign, not `{ ...key, … }`: see next().
  if (stored === null || typeof stored[COUNTER] !== 'number') return Object.assign({}, key, { [COUNTER]: { $exists: false } });
  const info = (stored[KAFKA_INFO] ?? {}) as Partial<KafkaInfo>;
  return Object.assign({}, key, {
    [COUNTER]: stored[COUNTER],
    [`${KAFKA_INFO}.topic`]: info.topic,
    [`${KAFKA_INFO}.partition`]: info.partition,
    [`${KAFKA_INFO}.offset`]: info.offset,
  });
}

function next(state: Row | null, event: KeyedChange, options: PlanOptions): Row | null {
  const tracking = {
    updatedAt: options.now,
    [COUNTER]: event.position.counter,
    [COUNTER_TYPE]: event.position.type,
    [KAFKA_INFO]: event.kafka,
  };
  if (event.op === 'delete') {
    if (options.deleteMode === 'hard') return null;
    // Keep the last known image and the position: a replayed older insert must not resurrect it.
    const image = state ?? event.document ?? {};
    return Object.assign({}, image, event.key, { createdAt: state?.createdAt ?? options.now }, tracking, { [STATE]: 'DELETED' });
  }
  // Object.assign rather than `{ ...document, ...key, createdAt, … }` (the same fields in the same
  // order): on Node 20 (V8 11.3) every object made by a spread and then given a field its source
  // lacks gets a hidden class of its own, allocated in the old generation with its descriptors. One
  // per written document was ~15 MB of the ingest stage's live heap (its version cache) and much of
  // its old-generation garbage; Node 24 shares them either way (test/unit/hidden-classes.test.ts).
  return Object.assign({}, event.document, event.key, { createdAt: isLive(state) ? state.createdAt : options.now }, tracking, { [STATE]: 'PUBLIC' });
}
