/**
 * A consumer-group member on kafkajs. `eachBatch` hands each partition's batch to the handler;
 * the offset is committed only after the handler returns one, and `resolveOffset` moves the local
 * position only then, so a batch that failed is fetched again. kafkajs drains in-flight batches
 * before a rebalance completes and before `disconnect()` returns, which gives revocation and
 * shutdown the same drain-then-commit behaviour.
 *
 * A batch whose work is durable but whose commit failed (the group coordinator moved: a broker
 * died) is fetched again — kafkajs retries the batch, then restarts the consumer. Its records are
 * not handed to the handler a second time: the consumer remembers the offset it owes and commits
 * it (records at or past it go to the handler as usual). A different process still re-processes
 * them (at least once); this one does not multiply its outputs while a coordinator fails over.
 * The commits of partitions whose batches finish in one turn (a combined batch, runtime/gather.ts)
 * go out as one OffsetCommit request (`inOneCall`, same-turn.ts).
 *
 * kafkajs restarts a crashed member by itself only when it calls the cause retriable; it gives up
 * on some that a new start does fix — "Failed to find group coordinator" while the only broker
 * restarts (seen in the fault suite) is non-retriable in kafkajs. Such a member is started again
 * here, with a backoff, for as long as the cause is one a broker's return fixes (`restartableCrash`):
 *
 *   CRASH, kafkajs restarts ──────────────────────────► (kafkajs' own restart)
 *   CRASH, kafkajs gives up ─┬─ restartable ─► wait ─► connect, run ─┬─► joined (backoff reset)
 *                            │                                       └─► fails: CRASH again
 *                            └─ not (a handler's error, a permanent broker answer) ─► onCrash
 */
import type { Consumer, ConsumerRunConfig, Kafka, KafkaMessage } from 'kafkajs';
import { setTimeout as delay } from 'node:timers/promises';
import { fromKafkaError, restartableCrash } from './errors.js';
import { NO_HEADERS } from '../headers.js';
import { inOneCall } from '../same-turn.js';
import type { ConsumerHandlers, ConsumerOptions, RawMessage, TopicPartitions, TransportConsumer } from '../types.js';

/** The first wait before a member kafkajs gave up on is started again, doubled per crash in a row up to RESTART_MAX_MS. */
const RESTART_FIRST_MS = 1_000;
const RESTART_MAX_MS = 30_000;

export function kafkaConsumer(kafka: Kafka, options: ConsumerOptions): TransportConsumer {
  const consumer: Consumer = kafka.consumer({
    groupId: options.groupId,
    sessionTimeout: options.sessionTimeoutMs ?? 30_000,
    // An idle fetch waits this long for data; it also bounds how long stop() waits (kafkajs: 5 s).
    maxWaitTimeInMs: options.maxWaitMs ?? 500,
    minBytes: options.minBytes ?? 1,
    heartbeatInterval: options.heartbeatIntervalMs ?? 3_000,
    readUncommitted: !(options.readCommitted ?? true),
    // kafkajs's defaults (1 MiB per partition, 10 MiB per fetch) unless set: 256 KiB / 4 MiB cut a
    // catching-up worker's RSS only a little (bench/backlog.ts: V8's lazy collection dominates) and
    // cost the pass-through benchmark a quarter of its throughput (smaller batches).
    ...(options.maxBytesPerPartition ? { maxBytesPerPartition: options.maxBytesPerPartition } : {}),
    ...(options.maxBytes ? { maxBytes: options.maxBytes } : {}),
    allowAutoTopicCreation: false,
  });
  let assignment: TopicPartitions[] = [];
  let stopping = false;
  /** `topic/partition` → the offset a durable batch still has to commit (its commit failed). */
  const owed = new Map<string, string>();
  // The commits of partitions whose batches finished together (a combined batch) go out as one OffsetCommit request.
  const commitTogether = inOneCall<PartitionCommit>((commits) => {
    const byTopic = new Map<string, Array<{ partition: number; offset: string }>>();
    for (const { topic, partition, offset } of commits) byTopic.set(topic, [...(byTopic.get(topic) ?? []), { partition, offset }]);
    return (commits[0] as PartitionCommit).send({ topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })) });
  });

  /** Crashes kafkajs gave up on since the member last joined: the backoff of the next start. */
  let crashesInARow = 0;

  return {
    async run(handlers: ConsumerHandlers) {
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        crashesInARow = 0;
        const next = Object.entries(payload.memberAssignment).map(([topic, partitions]) => ({ topic, partitions: [...partitions].sort((a, b) => a - b) }));
        const revoked = assignment
          .map(({ topic, partitions }) => ({ topic, partitions: partitions.filter((p) => !next.find((n) => n.topic === topic)?.partitions.includes(p)) }))
          .filter((r) => r.partitions.length > 0);
        if (revoked.length > 0) handlers.onRevoked?.(revoked);
        assignment = next;
        handlers.onAssigned?.(next);
      });
      const crashed = (error: Error): void => {
        if (stopping) return;
        if (!restartableCrash(error)) return void handlers.onCrash?.(error);
        crashesInARow++;
        const waitMs = Math.min(RESTART_FIRST_MS * 2 ** (crashesInARow - 1), RESTART_MAX_MS);
        handlers.onNotice?.(`Kafka consumer of ${options.groupId} stopped (${error.message}) and kafkajs gave up on it; starting it again in ${waitMs} ms (attempt ${crashesInARow})`);
        handlers.onRejoining?.(`kafkajs gave up on the consumer (${error.message}); restart ${crashesInARow} in ${waitMs} ms`);
        void delay(waitMs).then(async () => {
          if (stopping) return;
          try {
            await start();
            // stop() ran while this start was connecting: what it disconnected is connected again.
            if (stopping) await consumer.disconnect();
          } catch (error) {
            crashed(error instanceof Error ? error : new Error(String(error)));
          }
        });
      };
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        if (!payload.restart) crashed(payload.error);
      });
      const connect = async () => {
        await consumer.connect();
        for (const topic of options.topics) await consumer.subscribe({ topic, fromBeginning: options.fromBeginning ?? true });
      };
      const start = async () => {
        await connect();
        await consumer.run(runConfig);
      };
      const runConfig: ConsumerRunConfig = {
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: options.partitionsConcurrently ?? 64,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale, pause, commitOffsetsIfNecessary }) => {
          if (batch.isEmpty()) return;
          const at = `${batch.topic}/${batch.partition}`;
          const commit = async (offset: string) => {
            owed.set(at, offset);
            // Not consumer.commitOffsets(): kafkajs silently drops that once stop() has begun, which
            // would lose the commit of a batch drained during shutdown. This path has no such check.
            await commitTogether({ topic: batch.topic, partition: batch.partition, offset, send: commitOffsetsIfNecessary });
            if (owed.get(at) === offset) owed.delete(at);
          };
          const owing = owed.get(at);
          let fresh = batch.messages;
          if (owing !== undefined) {
            // Handled by this process already: commit what it owes (a failure throws, and the batch
            // comes again), hand over only what follows.
            await commit(owing);
            fresh = batch.messages.filter((m) => BigInt(m.offset) >= BigInt(owing));
            if (fresh.length === 0) return void resolveOffset(batch.lastOffset());
          }
          let resumePartition: (() => void) | undefined;
          const result = await handlers.onBatch(
            {
              topic: batch.topic,
              partition: batch.partition,
              messages: fresh.map(toRaw),
              highWatermark: batch.highWatermark,
            },
            {
              heartbeat,
              isRunning: () => isRunning() && !isStale() && !stopping,
              pause: () => {
                resumePartition ??= pause();
              },
              resume: () => {
                resumePartition?.();
                resumePartition = undefined;
              },
            },
          );
          if (!result.commit) return;
          if (!result.transactional) {
            const started = performance.now();
            await commit(result.commit.offset);
            handlers.onCommitted?.(result.commit, (performance.now() - started) / 1000);
          }
          resolveOffset(batch.lastOffset());
        },
      };
      try {
        await connect();
      } catch (error) {
        throw fromKafkaError(error, `cannot join consumer group ${options.groupId}`, 'TRB_CONNECT');
      }
      await consumer.run(runConfig);
    },
    pause: (partitions) => consumer.pause(partitions.map((p) => ({ topic: p.topic, partitions: [...p.partitions] }))),
    resume: (partitions) => consumer.resume(partitions.map((p) => ({ topic: p.topic, partitions: [...p.partitions] }))),
    paused: () => consumer.paused().map((p) => ({ topic: p.topic, partitions: p.partitions })),
    assignment: () => assignment,
    async stop() {
      stopping = true;
      await consumer.disconnect();
      assignment = [];
    },
  };
}

interface PartitionCommit {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  /** kafkajs' commit of the group (any batch's: it commits whatever partitions it is given). */
  readonly send: (offsets: { topics: Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }> }) => Promise<void>;
}

function toRaw(message: KafkaMessage): RawMessage {
  let headers = NO_HEADERS;
  const source = message.headers;
  if (source) {
    // for…in, not Object.entries: this runs once per consumed record and should not allocate pairs
    for (const name in source) {
      if (!Object.hasOwn(source, name)) continue;
      const value = source[name];
      if (headers === NO_HEADERS) headers = {};
      headers[name] = Array.isArray(value) ? value.at(-1) : value;
    }
  }
  return { offset: message.offset, timestamp: Number(message.timestamp), key: message.key, value: message.value, headers: Object.freeze(headers) };
}
