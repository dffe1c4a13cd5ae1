/**
 * The life of one @platformatic/kafka `Consumer` (the library client that does a member's group
 * part) as the platformatic consumer uses it: created with the transport's retry policy, joined
 * with an idle message stream, retired when it is replaced, closed.
 *
 *   createGroupClient(options) ─► joinGroup(client) ─► idle stream (its connections carry the fetches)
 *                                       … coordinator gone … ─► retireClient(client, stream)
 *   resolvePositions(client, partitions) ─► each partition's group commit, else the start or end of its log
 */
import { Consumer, type MessagesStream } from '@platformatic/kafka';
import type { ConsumerOptions } from '../types.js';
import type { PartitionState } from './partition-state.js';
import type { PlatformaticConsumerSettings } from './platformatic-consumer.js';

export type GroupClient = Consumer<Buffer, Buffer, Buffer, Buffer>;
export type IdleStream = MessagesStream<Buffer, Buffer, Buffer, Buffer>;

export function createGroupClient(options: ConsumerOptions, settings: PlatformaticConsumerSettings): GroupClient {
  return new Consumer<Buffer, Buffer, Buffer, Buffer>({
    ...settings.base,
    // A broker restart takes 10-30 s. The library gives up rejoining the group after `retries`
    // attempts and then never heartbeats again: with the transport's 5 × 250 ms the members of
    // every group were gone after a broker crash while the worker went on fetching its old
    // assignment, its commits refused (the fault suite's broker scenario never caught up). Here a
    // group operation is retried for about two minutes, backing off to 5 s.
    retries: 30,
    retryDelay: (_client: unknown, _operation: string, attempt: number) => Math.min(5_000, 250 * 2 ** (attempt - 1)),
    groupId: options.groupId,
    autocommit: false,
    ...(settings.groupProtocol === 'consumer'
      ? { groupProtocol: 'consumer' as const }
      : { sessionTimeout: options.sessionTimeoutMs ?? 30_000, heartbeatInterval: options.heartbeatIntervalMs ?? 3_000, rebalanceTimeout: Math.max(60_000, options.sessionTimeoutMs ?? 30_000) }),
    ...(settings.groupInstanceId ? { groupInstanceId: settings.groupInstanceId } : {}),
  });
}

/**
 * Sets the position of newly assigned partitions: the group's commit, else the start
 * (`fromBeginning`) or the end of the log.
 */
export async function resolvePositions(client: GroupClient, unknown: readonly PartitionState[], fromBeginning: boolean): Promise<void> {
  const topics = [...new Set(unknown.map((p) => p.topic))];
  const committed = await client.listCommittedOffsets({ topics: topics.map((topic) => ({ topic, partitions: unknown.filter((p) => p.topic === topic).map((p) => p.partition) })) });
  const missing = unknown.filter((p) => (committed.get(p.topic)?.[p.partition] ?? -1n) < 0n);
  const ends = missing.length > 0 ? await client.listOffsets({ topics: [...new Set(missing.map((p) => p.topic))], timestamp: fromBeginning ? -2n : -1n }) : new Map<string, bigint[]>();
  for (const p of unknown) {
    const at = committed.get(p.topic)?.[p.partition] ?? -1n;
    p.position = p.fetchPosition = at >= 0n ? at : ends.get(p.topic)?.[p.partition] ?? 0n;
  }
}

/** Joins the group. The stream it returns is kept idle (never read): its connections carry our fetches. */
export async function joinGroup(client: GroupClient, options: ConsumerOptions, keepIdle: () => void): Promise<IdleStream> {
  const idle = await client.consume({ topics: [...options.topics], autocommit: false, mode: 'committed', fallbackMode: options.fromBeginning ?? true ? 'earliest' : 'latest', maxWaitTime: options.maxWaitMs ?? 500 });
  idle.pause();
  // The library resumes its streams after a KIP-848 revocation; this one must stay idle.
  idle.on('resume', keepIdle);
  idle.on('error', () => undefined);
  return idle;
}

/**
 * Closes a replaced client. Its LeaveGroup is refused at once (the missing-broker guard refuses
 * every connection of a retired client): that first close cancels its heartbeat and ends its
 * stream; with no member id the second one closes its connections. The member left behind is
 * fenced by a static member id, or expires after the session timeout.
 */
export async function retireClient(client: GroupClient, idle: IdleStream | undefined, keepIdle: () => void): Promise<void> {
  idle?.off('resume', keepIdle);
  await idle?.close().catch(() => undefined);
  if (await closeClient(client, true)) return;
  client.memberId = null;
  await closeClient(client, true);
}

/** Closes a library client; true when it closed cleanly. */
export function closeClient(client: { close(force: boolean, callback: (error?: Error | null) => void): void }, force: boolean): Promise<boolean> {
  return new Promise((resolve) => client.close(force, (error) => resolve(!error)));
}
