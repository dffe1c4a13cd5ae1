/**
 * A member whose group coordinator is gone joins again with a new library client (the library
 * remembers its coordinator for good: only a new client asks the cluster again). Right after a
 * node died the cluster may still name it, or a node not yet ready, as the coordinator: a client
 * that joins through a coordinator the cluster no longer names is given up for another one at
 * once; a client whose join fails is given up for another after a backoff (1 s doubling to 30 s),
 * for as long as the failure is transient — as the kafkajs transport restarts a member kafkajs
 * gave up on. A permanent failure (refused credentials, a broker's permanent answer) is a crash.
 *
 *   coordinator gone ─► onRejoining ─► retire the client ─► new client joins ─┬─► joined: its idle stream
 *                                                                             ├─► the cluster names another coordinator: next client
 *                                                                             ├─► the join failed, transient: backoff, next client
 *                                                                             └─► the join failed, permanent: onCrash
 */
import { setTimeout as delay } from 'node:timers/promises';
import { fromPlatformaticError } from './errors.js';
import { closeClient, type GroupClient, type IdleStream } from './group-client.js';

const FIRST_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 30_000;
/** The wait before the next client after `failures` failed joins in a row. */
const backoff = (failures: number) => Math.min(FIRST_BACKOFF_MS * 2 ** (failures - 1), MAX_BACKOFF_MS);

/** What the member hands over: its clients, and what it does with a new one. */
export interface RejoinMember {
  readonly groupId: string;
  /** Every how many ms a joining client's coordinator is compared with the one the cluster names now. */
  readonly checkEveryMs: number;
  /** The wait before the next client after `failures` failed joins in a row (default 1 s doubling to 30 s). */
  readonly backoffMs?: (failures: number) => number;
  createClient(): GroupClient;
  join(client: GroupClient): Promise<IdleStream>;
  /** Makes `client` the member's client (listening to it), with no stream yet. */
  install(client: GroupClient): void;
  /** Closes a replaced client (and its stream), without waiting. */
  retire(client: GroupClient, idle: IdleStream | undefined): void;
  /** The new client joined: its stream carries the fetches from now on. */
  joined(idle: IdleStream): void;
  stopping(): boolean;
  onNotice?(message: string): void;
  /** The member is out of its group until `joined` (readiness down). */
  onRejoining?(reason: string): void;
  onCrash?(error: Error): void;
}

/** Replaces `current` (and the clients after it that do not join) until one joins, the member stops, or a join fails for good. */
export async function rejoinWithNewClient(member: RejoinMember, current: { client: GroupClient; idle: IdleStream | undefined }): Promise<void> {
  const gone = `the group coordinator of ${member.groupId} (node ${current.client.coordinatorId}) is gone`;
  member.onNotice?.(`Kafka consumer replaced: ${gone}`);
  member.onRejoining?.(`Kafka client replaced: ${gone}`);
  let previous = current;
  let failures = 0;
  for (let attempt = 1; !member.stopping(); attempt++) {
    member.retire(previous.client, previous.idle);
    const client = member.createClient();
    member.install(client);
    let joining = true;
    let waitMs = 0;
    let why: string;
    const joined = member.join(client);
    joined.catch(() => undefined); // given up for another client: its failure is nobody's
    try {
      const outcome = await Promise.race([joined, staleWhileJoining(member, client, () => joining)]);
      if (outcome === 'stopped') return;
      if (outcome !== 'stale') return member.joined(outcome);
      why = `the cluster names another coordinator than node ${client.coordinatorId}; trying a new client`;
    } catch (error) {
      if (member.stopping()) return;
      const failure = fromPlatformaticError(error, `cannot rejoin consumer group ${member.groupId} with a new client`, 'TRB_CONNECT');
      if (!failure.retriable) return member.onCrash?.(failure);
      waitMs = (member.backoffMs ?? backoff)(++failures);
      why = `joining through node ${client.coordinatorId} failed (${(error as Error)?.message ?? String(error)}); trying a new client in ${waitMs} ms`;
    } finally {
      joining = false;
    }
    member.onNotice?.(`Kafka consumer of ${member.groupId}: ${why} (attempt ${attempt + 1})`);
    previous = { client, idle: undefined };
    for (const until = Date.now() + waitMs; Date.now() < until && !member.stopping(); ) await delay(Math.min(100, until - Date.now()));
  }
}

/** Settles with 'stale' once the cluster names another coordinator than the one `client` is joining through. */
async function staleWhileJoining(member: RejoinMember, client: GroupClient, joining: () => boolean): Promise<'stale' | 'stopped'> {
  while (joining() && !member.stopping()) {
    await delay(member.checkEveryMs);
    const known = client.coordinatorId;
    if (!joining() || known === null) continue;
    const named = await coordinatorNow(member);
    if (named !== undefined && named !== known) return 'stale';
  }
  return 'stopped';
}

/** The group's coordinator as the cluster names it now, asked by a throwaway client (a client caches its answer for good). */
async function coordinatorNow(member: RejoinMember): Promise<number | undefined> {
  const probe = member.createClient();
  try {
    return await probe.findGroupCoordinator();
  } catch {
    return undefined;
  } finally {
    void closeClient(probe, true);
  }
}
