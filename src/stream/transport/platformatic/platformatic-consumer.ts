/**
 * A consumer-group member on @platformatic/kafka. The library's Consumer does the group part
 * (classic JoinGroup/SyncGroup, or KIP-848 ConsumerGroupHeartbeat with `groupProtocol: 'consumer'`;
 * static membership with `groupInstanceId`); the fetching is ours, so that it has the shape the
 * runtime needs, which the library's message stream (one object stream over every partition) lacks:
 *
 *   assigned partitions ─► one Fetch per leader (partitions not paused; a waiting batch is topped up)
 *        ─► per partition: a RawBatch ─► handlers.onBatch ─► commit ─► position = last + 1
 *
 * While a partition's batch is in flight its next batch is fetched, so the fetch round trip
 * overlaps the work, and what arrives meanwhile is added to that waiting batch (a top-up,
 * `fetch-plan.ts`; bench/end-to-end.ts: p99 at 1 000 events/s −25 %).
 * Batches of one partition still run one after another, and a batch
 * whose handler returns no commit (or throws) drops what was fetched after it and is fetched again
 * from its own first offset. Fetches go over the idle message stream's own connections, so a long-poll never
 * holds up heartbeats or commits. A revoked partition's in-flight batch finishes, but its offset is
 * not committed (the new owner re-reads it): the library hands revoked partitions back without
 * waiting for the application, so unlike kafkajs there is no drain before the next owner starts.
 * When the group's coordinator leaves the cluster the library client is replaced (`replaceClient`):
 * the library would keep asking the dead node for good.
 *
 * Beside it: what to fetch next (`fetch-plan.ts`), one Fetch per leader (`leader-fetch.ts`), an
 * answer applied to its partition (`fetched-records.ts`), the per-partition state
 * (`partition-state.ts`), commits in order off the batch's path (`partition-commits.ts`), the
 * group client and its partitions' starting positions (`group-client.ts`) and its replacement
 * (`rejoin.ts`).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { FetchIsolationLevels, type BaseOptions, type ClusterMetadata } from '@platformatic/kafka';
import { DEFAULT_MAX_BATCH_RECORDS, type BatchControl, type ConsumerHandlers, type ConsumerOptions, type TopicPartitions, type TransportConsumer } from '../types.js';
import { fromPlatformaticError, protocolErrorOf } from './errors.js';
import { closeClient, createGroupClient, joinGroup, resolvePositions, retireClient, type GroupClient as Client, type IdleStream } from './group-client.js';
import { DEFAULT_MAX_BUFFERED_RECORDS, DEFAULT_MAX_BYTES_PER_PARTITION } from './fetch-budget.js';
import { holdMs, planFetch, TOP_UP_WAIT_MS, type FetchPlan } from './fetch-plan.js';
import { takeFetched, type FetchResponsePartition } from './fetched-records.js';
import { fetchByLeader } from './leader-fetch.js';
import { guardMissingBroker } from './missing-broker.js';
import { isPaused as paused, newPartitionState, partitionKey as key, topicPartitions, type Fetched, type PartitionState } from './partition-state.js';
import { partitionCommits } from './partition-commits.js';
import { rejoinWithNewClient } from './rejoin.js';

/** What the transport adds to the runtime's consumer options. */
export interface PlatformaticConsumerSettings {
  readonly base: BaseOptions;
  readonly groupProtocol: 'classic' | 'consumer';
  /** Static membership: the same id after a restart takes the member's place without a rebalance. */
  readonly groupInstanceId?: string;
}

/** How often a member checks its group's coordinator (one Metadata request) and re-sends owed commits. */
const MAINTENANCE_MS = 5_000;

export function platformaticConsumer(options: ConsumerOptions, settings: PlatformaticConsumerSettings): TransportConsumer {
  const createClient = (): Client => createGroupClient(options, settings);
  // The library client is replaced when its group's coordinator is gone for good (see replaceClient).
  let consumer = createClient();
  const retiredClients = new WeakSet<Client>();
  let replacing: Promise<void> | undefined;
  let checkingCoordinator = false;
  let maintenance: NodeJS.Timeout | undefined;
  const partitions = new Map<string, PartitionState>();
  const pausedByCaller = new Set<string>();
  let stream: IdleStream | undefined;
  let handlers: ConsumerHandlers | undefined;
  let stopping = false;
  let loop: Promise<void> | undefined;
  const inFlight = new Set<Promise<void>>();
  const maxConcurrent = options.partitionsConcurrently ?? 64;
  const maxWaitMs = options.maxWaitMs ?? 500;
  const maxBufferedRecords = options.maxBufferedRecords ?? DEFAULT_MAX_BUFFERED_RECORDS;
  // Top-ups stop once the waiting batch holds the runtime's batch size (larger batches are worked in chunks).
  const topUpLimit = options.maxBatchRecords ?? DEFAULT_MAX_BATCH_RECORDS;
  const topUpWaitMs = Math.min(maxWaitMs, TOP_UP_WAIT_MS);
  const readCommitted = options.readCommitted ?? true;
  const isolationLevel = readCommitted ? FetchIsolationLevels.READ_COMMITTED : FetchIsolationLevels.READ_UNCOMMITTED;
  let wake: (() => void) | undefined;
  /** Batches finished plus fetch answers with records, so far: whether a brief hold saw any progress. */
  let progress = 0;
  /** Brief holds in a row that saw no progress: each doubles the next (fetch-plan.ts holdMs). */
  let quietHolds = 0;
  const keepIdle = () => void stream?.pause();
  const nudge = () => wake?.();

  const assignment = (): TopicPartitions[] => topicPartitions(partitions.values(), (p) => !p.revoked);

  /** Whether onAssigned was called since the member last (re)joined: a join is announced once. */
  let announced = false;
  const announce = () => {
    announced = true;
    handlers?.onAssigned?.(assignment());
  };

  /** Takes the library's current assignment; reports what was revoked and what is now owned. */
  const syncAssignment = (): void => {
    if (!handlers || stopping) return;
    const now = new Set<string>();
    for (const a of consumer.assignments ?? []) for (const p of a.partitions) now.add(key(a.topic, p));
    const revoked: TopicPartitions[] = [];
    for (const [k, p] of partitions) {
      if (now.has(k)) continue;
      p.revoked = true;
      partitions.delete(k);
      revoked.push({ topic: p.topic, partitions: [p.partition] });
    }
    let added = false;
    for (const a of consumer.assignments ?? []) {
      for (const p of a.partitions) {
        const k = key(a.topic, p);
        if (partitions.has(k)) continue;
        partitions.set(k, newPartitionState(a.topic, p, pausedByCaller.has(k)));
        added = true;
      }
    }
    if (revoked.length > 0) handlers.onRevoked?.(revoked);
    if (added || revoked.length > 0) announce();
    nudge();
  };

  /** Hands a prefetched batch to the handler when its partition is free, not paused and there is room. */
  const handOver = (state: PartitionState) => {
    const next = state.prefetched;
    if (!next || state.inFlight || paused(state) || state.revoked || stopping || inFlight.size >= maxConcurrent) return;
    state.prefetched = undefined;
    state.inFlight = true;
    state.inFlightRecords = next.messages.length;
    const running = runBatch(state, next);
    inFlight.add(running);
    void running.finally(() => {
      inFlight.delete(running);
      // The freed slot goes round: partitions after this one first, so that with fewer slots than
      // partitions (partitionsConcurrently) the first ones in the map cannot take every slot.
      const order = [...partitions.values()];
      const at = order.indexOf(state);
      for (let i = 1; i <= order.length; i++) handOver(order[(at + i) % order.length] as PartitionState);
      nudge();
    });
  };

  // After the batch's work is durable, off the batch's path (partition-commits.ts); `consumer` is read per call: it may be replaced.
  const commits = partitionCommits((offsets) => consumer.commit({ offsets: [...offsets] }), (commit, seconds) => handlers?.onCommitted?.(commit, seconds));

  const runBatch = async (state: PartitionState, { messages, highWatermark, leaderEpoch }: Fetched) => {
    const control: BatchControl = {
      heartbeat: async () => undefined, // the library heartbeats on its own timer, whatever the batch does
      isRunning: () => !stopping && !state.revoked,
      pause: () => {
        state.pausedByBatch = true;
      },
      resume: () => {
        state.pausedByBatch = false;
        nudge(); // the prefetched batch waits for this one to finish
      },
    };
    let accepted = false;
    try {
      const result = await handlers!.onBatch({ topic: state.topic, partition: state.partition, messages, highWatermark: highWatermark.toString() }, control);
      if (!result.commit) return;
      accepted = true;
      if (!result.transactional && !state.revoked) commits.commitInOrder(state, result.commit, leaderEpoch);
    } catch {
      // As kafkajs: the offset stays, the batch is fetched again (the runtime reports its own failures).
    } finally {
      state.inFlight = false;
      state.inFlightRecords = 0;
      progress++;
      if (accepted) {
        state.position = BigInt(messages.at(-1)!.offset) + 1n;
        // A fetch past this batch was out of range meanwhile: go on from here (out of range again: resolved anew).
        state.fetchPosition ??= state.position;
      } else {
        // Not accepted: what was fetched after it is dropped; fetching starts again at this batch.
        state.prefetched = undefined;
        state.fetchPosition = state.position;
      }
    }
  };

  /** Takes one partition's fetch answer (fetched-records.ts); records are handed over when the partition is free. */
  const take = (state: PartitionState, from: bigint, part: FetchResponsePartition, leaderEpoch: number) => {
    const taken = takeFetched(state, from, part, leaderEpoch, readCommitted);
    if (taken === 'error') consumer.clearMetadata();
    if (taken !== 'records') return;
    progress++;
    handOver(state);
  };

  const maxBytes = options.maxBytes ?? 10_485_760;
  /** One Fetch per leader, held by the broker for as long as the plan says (`fetch-plan.ts`: briefly while another partition may soon be ready). */
  const fetchOnce = (metadata: ClusterMetadata, plan: FetchPlan<PartitionState>) =>
    fetchByLeader(
      consumer,
      metadata,
      plan.fetch,
      {
        maxWaitTime: holdMs(plan, { maxWaitMs, topUpWaitMs, quietHolds }),
        minBytes: plan.topUpsOnly ? maxBytes : options.minBytes ?? 1,
        maxBytes,
        partitionMaxBytes: options.maxBytesPerPartition ?? DEFAULT_MAX_BYTES_PER_PARTITION,
        isolationLevel,
        ...(stream ? { connectionPool: stream.connections } : {}),
      },
      (state, from, part, leaderEpoch) => {
        // Revoked (and maybe assigned again) during the fetch: the answer belongs to no one now.
        if (partitions.get(key(state.topic, state.partition)) === state) take(state, from, part, leaderEpoch);
      },
    );

  const fetchLoop = async () => {
    while (!stopping) {
      const states = [...partitions.values()];
      const unknown = states.filter((p) => p.position === undefined && !p.inFlight);
      try {
        if (unknown.length > 0) await resolvePositions(consumer, unknown, options.fromBeginning ?? true);
        const held = states.reduce((n, p) => n + p.inFlightRecords + (p.prefetched?.messages.length ?? 0), 0);
        const plan = planFetch(states, { held, budget: maxBufferedRecords, topUpLimit, topUpWaitMs, now: performance.now(), paused });
        if (plan.fetch.length === 0) {
          // Nothing to fetch until a batch finishes (nudge), or the next top-up is due.
          await new Promise<void>((resolve) => {
            wake = resolve;
            setTimeout(resolve, plan.waitMs).unref();
          });
          wake = undefined;
          continue;
        }
        const metadata = await consumer.metadata({ topics: [...options.topics] });
        const now = performance.now();
        for (const p of plan.fetch) p.lastFetchAt = now;
        const progressBefore = progress;
        await fetchOnce(metadata, plan);
        quietHolds = plan.holdBriefly && progress === progressBefore ? quietHolds + 1 : 0;
      } catch (error) {
        if (stopping) break;
        consumer.clearMetadata();
        const protocol = protocolErrorOf(error);
        await delay(protocol === undefined || protocol === 'UNKNOWN_TOPIC_OR_PARTITION' ? 200 : 100);
      }
    }
  };

  const join = (client: Client) => joinGroup(client, options, keepIdle);

  /** Listens to one library client; a replaced client's late events are ignored. */
  const attach = (client: Client) => {
    const current = () => client === consumer && !stopping;
    const sync = () => current() && syncAssignment();
    client.on('consumer:group:join', sync);
    client.on('consumer:heartbeat:end', sync);
    client.on('consumer:group:leave', sync);
    client.on('consumer:heartbeat:error', (payload?: { error?: unknown }) => {
      if (current() && protocolErrorOf(payload?.error) === 'NOT_COORDINATOR') void checkCoordinator(client, true);
    });
    // Emitted when rejoining the group failed for good: the member is gone and the library will
    // not try again. Failing the stream (red /-/healthz, restart by the supervisor) beats going on
    // as a member of nothing.
    client.on('error', (error: Error) => current() && handlers?.onCrash?.(error));
    guardMissingBroker(client, { onMissing: () => current() && void checkCoordinator(client), retired: () => retiredClients.has(client) });
  };

  /**
   * The library remembers its group's coordinator for good: when that node leaves the cluster (a
   * broker of several dies) or stops being the coordinator, every group operation goes to it until
   * the member expires. Asked again, the cluster names the new coordinator, but only a new client
   * asks. So the client is replaced by a new one that joins the group again when a heartbeat hears
   * NOT_COORDINATOR (`moved`), or when the guard saw a node missing and the coordinator the client
   * knows is not in a fresh metadata either.
   */
  const checkCoordinator = async (client: Client, moved = false) => {
    if (checkingCoordinator || replacing || client !== consumer) return;
    checkingCoordinator = true;
    try {
      const known = client.coordinatorId;
      if (known === null) return;
      const metadata = await client.metadata({ topics: [...options.topics], forceUpdate: true });
      if (moved || !metadata.brokers.has(known)) await replaceClient();
    } catch {
      // metadata unreachable (the cluster itself is down): the library's retries go on; checked again at the next failure
    } finally {
      checkingCoordinator = false;
    }
  };

  /**
   * Every few seconds, off the fetch loop (a fetch or a group call can sit in the library's retries
   * for minutes): is the group's coordinator still in the cluster, and is an idle partition owed a
   * commit that failed (after a broker or coordinator failure no later batch may come to cover it)?
   */
  const maintain = () => {
    if (stopping || replacing) return;
    void checkCoordinator(consumer);
    commits.recommitOwed(partitions.values());
  };

  /** A new library client joins the group in place of the current one (rejoin.ts). */
  const replaceClient = () => {
    replacing ??= rejoinWithNewClient(
      {
        groupId: options.groupId,
        checkEveryMs: MAINTENANCE_MS,
        createClient,
        join,
        install: (client) => {
          consumer = client;
          stream = undefined;
          attach(client);
        },
        retire: (client, idle) => {
          retiredClients.add(client);
          void retireClient(client, idle, keepIdle);
        },
        joined: (idle) => {
          stream = idle;
          syncAssignment();
          // In the group again (readiness back), also when the assignment did not change.
          if (!announced && !stopping) announce();
          commits.recommitOwed(partitions.values()); // the commits that failed while the coordinator was gone
        },
        stopping: () => stopping,
        onNotice: (message) => handlers?.onNotice?.(message),
        onRejoining: (reason) => {
          announced = false; // the new client's join is announced again
          handlers?.onRejoining?.(reason);
        },
        onCrash: (error) => handlers?.onCrash?.(error),
      },
      { client: consumer, idle: stream },
    ).finally(() => {
      replacing = undefined;
    });
    return replacing;
  };

  return {
    async run(h) {
      handlers = h;
      attach(consumer);
      try {
        stream = await join(consumer);
      } catch (error) {
        await closeClient(consumer, true);
        throw fromPlatformaticError(error, `cannot join consumer group ${options.groupId}`, 'TRB_CONNECT');
      }
      syncAssignment();
      // Announced once: by the sync (partitions came), else here (joined with none).
      if (!announced) announce();
      maintenance = setInterval(maintain, MAINTENANCE_MS).unref();
      loop = fetchLoop().catch((error: unknown) => h.onCrash?.(error instanceof Error ? error : new Error(String(error))));
    },
    pause(list) {
      for (const { topic, partitions: ps } of list) {
        for (const p of ps) {
          pausedByCaller.add(key(topic, p));
          const state = partitions.get(key(topic, p));
          if (state) state.pausedByCaller = true;
        }
      }
    },
    resume(list) {
      for (const { topic, partitions: ps } of list) {
        for (const p of ps) {
          pausedByCaller.delete(key(topic, p));
          const state = partitions.get(key(topic, p));
          if (state) {
            state.pausedByCaller = false;
            handOver(state);
          }
        }
      }
      nudge();
    },
    paused: () => topicPartitions(partitions.values(), paused),
    assignment,
    async stop() {
      if (stopping) return;
      stopping = true;
      clearInterval(maintenance);
      nudge();
      await replacing;
      await loop;
      await Promise.allSettled([...inFlight]);
      await Promise.allSettled([...partitions.values()].map(async (p) => {
        await p.commits;
        commits.commitOwed(p);
        await p.commits;
      }));
      // Closing ends the stream by letting it flow to its end: it may resume now.
      stream?.off('resume', keepIdle);
      await stream?.close().catch(() => undefined);
      if (!(await closeClient(consumer, false))) await closeClient(consumer, true);
      partitions.clear();
    },
  };
}
