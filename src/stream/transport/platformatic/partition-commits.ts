/**
 * The platformatic consumer's offset commits: after a batch's work is durable, as the transport
 * contract wants, but off the batch's path — the partition's next batch starts while this commit
 * travels (one round trip less per batch).
 *
 *   batch 1 done ─► commit 101 ┐ (queued per partition, in order)       batch 2 runs meanwhile
 *   batch 2 done ─► commit 205 ┘ ─► a failed 101 is covered by 205 (offsets are cumulative)
 *   idle partition owing a failed commit ─► `recommitOwed` (every few seconds, after a rejoin, at stop)
 *
 * Commits of partitions whose batches finished together go out as one request (`inOneCall`).
 */
import type { TopicPartitionOffset } from '../types.js';
import { inOneCall } from '../same-turn.js';
import type { PartitionState } from './partition-state.js';

export interface OffsetToCommit {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  readonly leaderEpoch: number;
}

export interface PartitionCommits {
  /** Queues the commit of `commit` behind the partition's earlier ones; a failure is remembered as owed. */
  commitInOrder(state: PartitionState, commit: TopicPartitionOffset, leaderEpoch: number): void;
  /** Commits again what `state` owes (a failed commit that no later batch covered). */
  commitOwed(state: PartitionState): void;
  /** `commitOwed` for each partition that owes one and has nothing in flight or travelling. */
  recommitOwed(states: Iterable<PartitionState>): void;
}

export function partitionCommits(commit: (offsets: readonly OffsetToCommit[]) => Promise<void>, onCommitted: (commit: TopicPartitionOffset, seconds: number) => void): PartitionCommits {
  const commitOffset = inOneCall<OffsetToCommit>(commit);
  const commitInOrder = (state: PartitionState, offset: TopicPartitionOffset, leaderEpoch: number) => {
    state.pendingCommits++;
    state.commits = state.commits.then(async () => {
      if (state.revoked) return;
      const started = performance.now();
      try {
        await commitOffset({ topic: offset.topic, partition: offset.partition, offset: BigInt(offset.offset), leaderEpoch });
        state.uncommitted = undefined;
        onCommitted(offset, (performance.now() - started) / 1000);
      } catch {
        state.uncommitted = { offset: offset.offset, leaderEpoch };
      }
    }).finally(() => {
      state.pendingCommits--;
    });
  };
  const commitOwed = (state: PartitionState) => {
    if (state.uncommitted && !state.revoked) commitInOrder(state, { topic: state.topic, partition: state.partition, offset: state.uncommitted.offset }, state.uncommitted.leaderEpoch);
  };
  return {
    commitInOrder,
    commitOwed,
    recommitOwed(states) {
      for (const p of states) if (!p.inFlight && p.pendingCommits === 0) commitOwed(p);
    },
  };
}
