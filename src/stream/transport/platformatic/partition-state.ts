/**
 * What the platformatic consumer knows of each partition it owns, and the topic/partition lists it
 * reports from them (`assignment()`, `paused()`):
 *
 *   [orders:2, orders:0, lines:1] ─► [{ topic: 'orders', partitions: [0, 2] }, { topic: 'lines', partitions: [1] }]
 */
import type { RawMessage, TopicPartitions } from '../types.js';

/** A batch fetched ahead of the one in flight. */
export interface Fetched {
  readonly messages: RawMessage[];
  readonly highWatermark: bigint;
  readonly leaderEpoch: number;
}

export interface PartitionState {
  readonly topic: string;
  readonly partition: number;
  /** Next offset to hand over (after the last accepted batch); undefined until read from the group's commits. */
  position?: bigint;
  /** Next offset to fetch: past the prefetched batch, if any. */
  fetchPosition?: bigint;
  /** The next batch, fetched while the one before is processed (hides the fetch round trip); topped up while that one runs. */
  prefetched?: Fetched;
  /** Whether the last fetch reached the end of the log (the high watermark, or the last stable offset when reading committed). */
  atEnd: boolean;
  inFlight: boolean;
  pausedByCaller: boolean;
  pausedByBatch: boolean;
  revoked: boolean;
  /** The partition's commits, one after another (a batch does not wait for its own commit). */
  commits: Promise<void>;
  /** Commits queued or travelling: an owed commit is re-sent only when none is. */
  pendingCommits: number;
  /** Records of the batch being worked (0 when none): with the prefetched ones, what it holds. */
  inFlightRecords: number;
  /** Records its last fetch brought, and when (the fetch budget's estimate and fairness). */
  lastFetched?: number;
  lastFetchAt: number;
  /** Offset of the last accepted batch (+1) whose commit failed, to commit again at stop. */
  uncommitted?: { offset: string; leaderEpoch: number };
}

/** The map key of a partition. */
export const partitionKey = (topic: string, partition: number): string => `${topic}:${partition}`;

/** A partition just assigned: position unknown, nothing fetched, nothing in flight. */
export function newPartitionState(topic: string, partition: number, pausedByCaller: boolean): PartitionState {
  return { topic, partition, atEnd: false, inFlight: false, pausedByCaller, pausedByBatch: false, revoked: false, commits: Promise.resolve(), pendingCommits: 0, inFlightRecords: 0, lastFetchAt: 0 };
}

/** Whether a partition's batches wait: paused by the caller, or by its batch in flight. */
export const isPaused = (p: PartitionState): boolean => p.pausedByCaller || p.pausedByBatch;

/** The partitions that pass `include`, grouped by topic in first-seen order, sorted within a topic. */
export function topicPartitions(states: Iterable<PartitionState>, include: (p: PartitionState) => boolean): TopicPartitions[] {
  const byTopic = new Map<string, number[]>();
  for (const p of states) {
    if (!include(p)) continue;
    const list = byTopic.get(p.topic);
    if (list) list.push(p.partition);
    else byTopic.set(p.topic, [p.partition]);
  }
  return [...byTopic].map(([topic, list]) => ({ topic, partitions: list.sort((a, b) => a - b) }));
}
