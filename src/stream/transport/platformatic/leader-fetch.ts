/**
 * One Fetch request per partition leader, sent together; each partition's answer is handed back
 * with the offset it was asked from (a partition reset meanwhile is told by that offset):
 *
 *   [orders:0 @120 (leader 1), orders:1 @80 (leader 2), lines:0 @7 (leader 1)]
 *     ─► Fetch to node 1 (orders:0, lines:0), Fetch to node 2 (orders:1)
 *     ─► onPartition(orders:0, 120, answer, leaderEpoch), onPartition(lines:0, 7, …), onPartition(orders:1, 80, …)
 *
 * Partitions whose leader is unknown are left for the next turn (the metadata is refreshed after a failure).
 */
import type { ClusterMetadata } from '@platformatic/kafka';
import type { GroupClient } from './group-client.js';
import type { FetchResponsePartition } from './fetched-records.js';

/** What a partition must say to be fetched. */
export interface FetchTarget {
  readonly topic: string;
  readonly partition: number;
  readonly fetchPosition?: bigint;
}

type FetchOptions = Parameters<GroupClient['fetch']>[0];

export interface LeaderFetchRequest {
  readonly maxWaitTime: number;
  readonly minBytes: number;
  readonly maxBytes: number;
  readonly partitionMaxBytes: number;
  readonly isolationLevel: FetchOptions['isolationLevel'];
  /** The idle message stream's connections: a long-poll never holds up heartbeats or commits. */
  readonly connectionPool?: FetchOptions['connectionPool'];
}

export async function fetchByLeader<T extends FetchTarget>(
  client: GroupClient,
  metadata: ClusterMetadata,
  targets: readonly T[],
  request: LeaderFetchRequest,
  onPartition: (target: T, from: bigint, part: FetchResponsePartition, leaderEpoch: number) => void,
): Promise<void> {
  const byLeader = new Map<number, T[]>();
  for (const p of targets) {
    const leader = metadata.topics.get(p.topic)?.partitions[p.partition]?.leader;
    if (leader === undefined || leader < 0 || p.fetchPosition === undefined) continue;
    const list = byLeader.get(leader);
    if (list) list.push(p);
    else byLeader.set(leader, [p]);
  }
  await Promise.all([...byLeader].map(async ([node, list]) => {
    const asked = new Map<string, Map<number, { target: T; from: bigint }>>();
    const requests = new Map<string, Array<{ partition: number; fetchOffset: bigint; partitionMaxBytes: number; currentLeaderEpoch: number; lastFetchedEpoch: number }>>();
    for (const p of list) {
      const topicId = metadata.topics.get(p.topic)!.id;
      const from = p.fetchPosition!;
      let byPartition = asked.get(topicId);
      if (!byPartition) asked.set(topicId, (byPartition = new Map()));
      byPartition.set(p.partition, { target: p, from });
      const entry = { partition: p.partition, fetchOffset: from, partitionMaxBytes: request.partitionMaxBytes, currentLeaderEpoch: -1, lastFetchedEpoch: -1 };
      const parts = requests.get(topicId);
      if (parts) parts.push(entry);
      else requests.set(topicId, [entry]);
    }
    const response = await client.fetch({
      node,
      topics: [...requests].map(([topicId, partitions]) => ({ topicId, partitions })),
      maxWaitTime: request.maxWaitTime,
      minBytes: request.minBytes,
      maxBytes: request.maxBytes,
      isolationLevel: request.isolationLevel,
      ...(request.connectionPool ? { connectionPool: request.connectionPool } : {}),
    });
    for (const topicResponse of response.responses) {
      const byPartition = asked.get(topicResponse.topicId);
      if (!byPartition) continue;
      for (const part of topicResponse.partitions) {
        const one = byPartition.get(part.partitionIndex);
        if (!one) continue;
        const leaderEpoch = metadata.topics.get(one.target.topic)?.partitions[part.partitionIndex]?.leaderEpoch ?? -1;
        onPartition(one.target, one.from, part, leaderEpoch);
      }
    }
  }));
}
