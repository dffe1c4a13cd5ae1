/**
 * The raw ceilings of bench/pass-through.ts: each Kafka client's own consume → produce (acks=all,
 * idempotent) → commit loop, written the way that client's API is meant to be used, with no
 * Tributary code in it. Each resolves once running and returns its teardown; the probe sees every
 * batch and every commit.
 *
 *   kafkajs       eachBatch (all partitions at once), sendBatch, commitOffsets, resolveOffset
 *   platformatic  consume() message stream; each run of records the stream has buffered is one
 *                 batch: paused, one send, one commit (last offset + 1 per partition), resumed
 */
import { Kafka, logLevel } from 'kafkajs';
import { Consumer, Producer, type Message } from '@platformatic/kafka';
import type { Probe } from './harness.js';

export interface RawLoopSetup {
  readonly brokers: readonly string[];
  readonly input: string;
  readonly output: string;
  readonly groupId: string;
  readonly partitions: number;
}

export type RawLoop = (setup: RawLoopSetup, probe: Probe) => Promise<() => Promise<void>>;

export const rawKafkajs: RawLoop = async ({ brokers, input, output, groupId, partitions }, probe) => {
  const kafka = new Kafka({ clientId: 'bench-raw', brokers: [...brokers], logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5, allowAutoTopicCreation: true });
  const consumer = kafka.consumer({ groupId, sessionTimeout: 30_000, heartbeatInterval: 3_000, allowAutoTopicCreation: false });
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topic: input, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: partitions,
    eachBatch: async ({ batch, resolveOffset }) => {
      if (batch.isEmpty()) return;
      probe.batch();
      await producer.sendBatch({
        topicMessages: [{ topic: output, messages: batch.messages.map((m) => ({ key: m.key, value: m.value, headers: m.headers ?? {} })) }],
        acks: -1,
      });
      const next = (BigInt(batch.lastOffset()) + 1n).toString();
      await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }]);
      probe.committed({ topic: batch.topic, partition: batch.partition, offset: next });
      resolveOffset(batch.lastOffset());
    },
  });
  return async () => {
    await consumer.disconnect();
    await producer.disconnect();
  };
};

const RAW_SEND_RECORDS = 700; // × 1 KiB records

export const rawPlatformatic: RawLoop = async ({ brokers, input, output, groupId }, probe) => {
  const base = { clientId: 'bench-raw', bootstrapBrokers: [...brokers] };
  const producer = new Producer({ ...base, idempotent: true, acks: -1 });
  const consumer = new Consumer({ ...base, groupId, autocommit: false, maxWaitTime: 500 });
  const stream = await consumer.consume({ topics: [input], mode: 'committed', fallbackMode: 'earliest', autocommit: false });
  let pending: Message<Buffer, Buffer, Buffer, Buffer>[] = [];
  let flushing: Promise<void> | undefined;
  let failed: unknown;
  const flush = async () => {
    while (pending.length > 0) {
      const batch = pending;
      pending = [];
      stream.pause();
      probe.batch();
      // A produce request's records for one partition form one record batch, which the broker
      // refuses over message.max.bytes (1 MiB): send at most ~700 KiB at a time.
      for (let at = 0; at < batch.length; at += RAW_SEND_RECORDS) {
        await producer.send({ messages: batch.slice(at, at + RAW_SEND_RECORDS).map((m) => ({ topic: output, key: m.key, value: m.value, headers: m.headers })) });
      }
      const last = new Map<number, Message<Buffer, Buffer, Buffer, Buffer>>();
      for (const m of batch) last.set(m.partition, m);
      await consumer.commit({ offsets: [...last.values()].map((m) => ({ topic: m.topic, partition: m.partition, offset: m.offset + 1n, leaderEpoch: -1 })) });
      for (const m of last.values()) probe.committed({ topic: m.topic, partition: m.partition, offset: (m.offset + 1n).toString() });
      stream.resume();
    }
  };
  stream.on('data', (message: Message<Buffer, Buffer, Buffer, Buffer>) => {
    pending.push(message);
    flushing ??= new Promise<void>((resolve) => setImmediate(resolve))
      .then(flush)
      .catch((error: unknown) => void (failed = error))
      .finally(() => (flushing = undefined));
  });
  return async () => {
    await flushing;
    await stream.close();
    await consumer.close();
    await producer.close();
    if (failed) throw failed;
  };
};
