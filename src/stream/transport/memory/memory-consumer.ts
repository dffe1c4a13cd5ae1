/**
 * A consumer-group member on the embedded broker. One loop per owned partition fetches up to
 * `maxBatchRecords` from the committed position, hands the batch to the handler, and commits what
 * it returns. A revoked partition's loop finishes its batch (and commits) before the partition is
 * handed to another member, as with Kafka.
 */
import { randomUUID } from 'node:crypto';
import { DEFAULT_MAX_BATCH_RECORDS, type ConsumerHandlers, type ConsumerOptions, type TopicPartitions, type TransportConsumer } from '../types.js';
import type { GroupMember, MemoryBroker } from './memory-broker.js';

interface Lane {
  readonly topic: string;
  readonly partition: number;
  running: boolean;
  paused: boolean;
  done: Promise<void>;
}

export function memoryConsumer(broker: MemoryBroker, options: ConsumerOptions): TransportConsumer {
  const lanes = new Map<string, Lane>();
  const maxBatch = options.maxBatchRecords ?? DEFAULT_MAX_BATCH_RECORDS;
  let handlers: ConsumerHandlers | undefined;
  let stopped = false;
  let stopping: Promise<void> | undefined;
  const key = (topic: string, partition: number) => `${topic}:${partition}`;

  const startLane = (topic: string, partition: number) => {
    const lane: Lane = { topic, partition, running: true, paused: false, done: Promise.resolve() };
    lane.done = loop(lane);
    lanes.set(key(topic, partition), lane);
  };

  const loop = async (lane: Lane) => {
    const { topic, partition } = lane;
    let position = broker.committed(options.groupId, topic, partition) ?? ((options.fromBeginning ?? true) ? 0n : broker.endOffset(topic, partition));
    while (lane.running) {
      const messages = lane.paused ? [] : broker.read(topic, partition, position, maxBatch);
      if (messages.length === 0) {
        await broker.waitForData(lane.paused ? 20 : 50);
        continue;
      }
      let result;
      try {
        result = await (handlers as ConsumerHandlers).onBatch(
          { topic, partition, messages, highWatermark: String(broker.endOffset(topic, partition)) },
          {
            heartbeat: async () => undefined,
            isRunning: () => lane.running,
            pause: () => void (lane.paused = true),
            resume: () => void (lane.paused = false),
          },
        );
      } catch (error) {
        lane.running = false; // as kafkajs would after its retries: this member stops consuming
        handlers?.onCrash?.(error as Error);
        return;
      }
      if (result.commit) {
        if (!result.transactional) {
          const started = performance.now();
          broker.commit(options.groupId, [result.commit]);
          handlers?.onCommitted?.(result.commit, (performance.now() - started) / 1000);
        }
        position = BigInt(result.commit.offset);
      } else {
        // The batch comes again. Yield to the event loop first: a handler that resolves without
        // real I/O would otherwise turn this loop into a microtask spin that starves timers and I/O.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  };

  const member: GroupMember = {
    id: `${options.groupId}-${randomUUID()}`,
    topics: options.topics,
    owned() {
      const out = new Map<string, number[]>();
      for (const lane of lanes.values()) out.set(lane.topic, [...(out.get(lane.topic) ?? []), lane.partition]);
      return out;
    },
    async rebalance(assignment) {
      const revoked: Lane[] = [];
      for (const [k, lane] of lanes) {
        if (!assignment.get(lane.topic)?.includes(lane.partition)) {
          lane.running = false;
          revoked.push(lane);
          lanes.delete(k);
        }
      }
      broker.wake();
      await Promise.all(revoked.map((l) => l.done));
      if (revoked.length) handlers?.onRevoked?.(group(revoked));
      if (stopped) return;
      for (const [topic, partitions] of assignment) for (const p of partitions) if (!lanes.has(key(topic, p))) startLane(topic, p);
      handlers?.onAssigned?.(current());
    },
  };

  const group = (list: Lane[]): TopicPartitions[] => {
    const map = new Map<string, number[]>();
    for (const l of list) map.set(l.topic, [...(map.get(l.topic) ?? []), l.partition].sort((a, b) => a - b));
    return [...map].map(([topic, partitions]) => ({ topic, partitions }));
  };
  const current = () => group([...lanes.values()]);
  const setPaused = (partitions: readonly TopicPartitions[], paused: boolean) => {
    for (const { topic, partitions: ps } of partitions) for (const p of ps) {
      const lane = lanes.get(key(topic, p));
      if (lane) lane.paused = paused;
    }
    broker.wake();
  };

  return {
    async run(h) {
      handlers = h;
      for (const topic of options.topics) broker.partitions(topic);
      await broker.join(options.groupId, member);
    },
    pause: (partitions) => setPaused(partitions, true),
    resume: (partitions) => setPaused(partitions, false),
    paused: () => group([...lanes.values()].filter((l) => l.paused)),
    assignment: current,
    stop() {
      stopping ??= (async () => {
        stopped = true;
        // Drain and commit our own lanes first, then leave. Leaving first would hand our partitions
        // to another member while our in-flight batches still run: two owners of one partition.
        await member.rebalance(new Map());
        await broker.leave(options.groupId, member);
      })();
      return stopping;
    },
  };
}
