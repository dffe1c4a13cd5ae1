/**
 * A member whose group coordinator is gone joins again with a new library client (the library
 * remembers its coordinator for good: only a new client asks the cluster again). Right after a
 * node died the cluster may still name it, or a node not yet ready, as the coordinator: a client
 * that joins through a coordinator the cluster no longer names is given up for another one (up to
 * MAX_JOIN_ATTEMPTS), rather than retrying for minutes against the wrong node.
 *
 *   coordinator gone ─► retire the client ─► new client joins ─┬─► joined: its idle stream
 *                                                              ├─► the cluster names another coordinator: next client
 *                                                              └─► MAX_JOIN_ATTEMPTS failed: onCrash (TRB_CONNECT)
 */
import { setTimeout as delay } from 'node:timers/promises';
import { fromPlatformaticError } from './errors.js';
import { closeClient, type GroupClient, type IdleStream } from './group-client.js';

/** How many new clients may try to join before the member gives up (onCrash). */
const MAX_JOIN_ATTEMPTS = 10;

/** What the member hands over: its clients, and what it does with a new one. */
export interface RejoinMember {
  readonly groupId: string;
  /** Every how many ms a joining client's coordinator is compared with the one the cluster names now. */
  readonly checkEveryMs: number;
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
  onCrash?(error: Error): void;
}

/** Replaces `current` (and the clients after it that join through a stale coordinator) until one joins, the member stops, or the attempts run out. */
export async function rejoinWithNewClient(member: RejoinMember, current: { client: GroupClient; idle: IdleStream | undefined }): Promise<void> {
  member.onNotice?.(`Kafka consumer replaced: the group coordinator of ${member.groupId} (node ${current.client.coordinatorId}) is gone`);
  let previous = current;
  for (let attempt = 1; !member.stopping(); attempt++) {
    member.retire(previous.client, previous.idle);
    const client = member.createClient();
    member.install(client);
    let joining = true;
    const joined = member.join(client);
    joined.catch(() => undefined); // given up for another client: its failure is nobody's
    try {
      const outcome = await Promise.race([joined, staleWhileJoining(member, client, () => joining)]);
      if (outcome === 'stopped') return;
      if (outcome !== 'stale') return member.joined(outcome);
      if (attempt >= MAX_JOIN_ATTEMPTS) throw new Error(`the cluster named another coordinator ${attempt} times while joining`);
    } catch (error) {
      if (attempt >= MAX_JOIN_ATTEMPTS || member.stopping()) {
        if (!member.stopping()) member.onCrash?.(fromPlatformaticError(error, `cannot rejoin consumer group ${member.groupId} with a new client`, 'TRB_CONNECT'));
        return;
      }
    } finally {
      joining = false;
    }
    member.onNotice?.(`Kafka consumer of ${member.groupId}: joining through node ${client.coordinatorId} failed, trying a new client (attempt ${attempt + 1} of ${MAX_JOIN_ATTEMPTS})`);
    previous = { client, idle: undefined };
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
