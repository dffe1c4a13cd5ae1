/**
 * Test plumbing on the real broker, independent of the code under test where it matters: records
 * are produced and read back with plain kafkajs clients; offsets are checked through the
 * transport's admin API (which the contract suite proves separately).
 */
import assert from 'node:assert/strict';
import { Kafka, logLevel, type Consumer, type Producer } from 'kafkajs';
import { kafkaTransport } from '../../src/stream/transport/kafka/kafka-transport.js';
import type { OutgoingMessage, Transport } from '../../src/stream/transport/types.js';
import { headersAsText, type ReadRecord } from '../contract/helpers.js';
import { services, uniqueName } from './services.js';

export interface KafkaIo {
  readonly control: Transport;
  produce(messages: readonly OutgoingMessage[]): Promise<void>;
  /** Every record of `topic` read so far (read_committed), by partition then offset. The first call starts a reader. */
  read(topic: string): Promise<ReadRecord[]>;
  close(): Promise<void>;
}

export async function kafkaIo(): Promise<KafkaIo> {
  const kafka = new Kafka({ clientId: 'test-io', brokers: services.kafkaBrokers, logLevel: logLevel.NOTHING });
  const control = kafkaTransport({ brokers: services.kafkaBrokers, clientId: 'test-control' });
  await control.connect();
  let producer: Producer | undefined;
  const readers = new Map<string, { consumer: Consumer; records: ReadRecord[]; started: Promise<void> }>();

  return {
    control,
    async produce(messages) {
      if (!producer) {
        producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
        await producer.connect();
      }
      const byTopic = new Map<string, OutgoingMessage[]>();
      for (const m of messages) byTopic.set(m.topic, [...(byTopic.get(m.topic) ?? []), m]);
      await producer.sendBatch({
        acks: -1,
        topicMessages: [...byTopic].map(([topic, list]) => ({
          topic,
          messages: list.map((m) => ({
            key: m.key,
            value: m.value,
            ...(m.headers ? { headers: Object.fromEntries(Object.entries(m.headers).filter(([, v]) => v !== undefined)) as Record<string, string | Buffer> } : {}),
            ...(m.partition !== undefined ? { partition: m.partition } : {}),
            ...(m.timestamp !== undefined ? { timestamp: String(m.timestamp) } : {}),
          })),
        })),
      });
    },
    async read(topic) {
      let reader = readers.get(topic);
      if (!reader) {
        const consumer = kafka.consumer({ groupId: uniqueName('test-reader'), readUncommitted: false, sessionTimeout: 10_000, heartbeatInterval: 500, maxWaitTimeInMs: 100 });
        const records: ReadRecord[] = [];
        const started = (async () => {
          await consumer.connect();
          await consumer.subscribe({ topic, fromBeginning: true });
          await consumer.run({
            eachMessage: async ({ partition, message }) => {
              records.push({
                topic,
                partition,
                offset: BigInt(message.offset),
                timestamp: Number(message.timestamp),
                key: message.key,
                value: message.value,
                headers: headersAsText(Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, Array.isArray(v) ? v.at(-1) : v]))),
              });
            },
          });
        })();
        reader = { consumer, records, started };
        readers.set(topic, reader);
      }
      await reader.started;
      return [...reader.records].sort((a, b) => a.partition - b.partition || (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0));
    },
    async close() {
      await Promise.allSettled([...readers.values()].map((r) => r.consumer.disconnect()));
      readers.clear();
      await producer?.disconnect();
      await control.disconnect();
    },
  };
}

/** Records not yet committed, over every stream's group and topics (0 once all groups caught up). */
export async function pending(transport: Transport, streams: ReadonlyArray<{ groupId: string; topics: readonly string[] }>): Promise<number> {
  let behind = 0;
  for (const s of streams) {
    for (const topic of s.topics) {
      const committed = new Map((await transport.admin.committedOffsets(s.groupId, topic)).map((o) => [o.partition, BigInt(o.offset)]));
      for (const { partition, high } of await transport.admin.topicOffsets(topic)) {
        const at = committed.get(partition) ?? -1n;
        behind += Number(BigInt(high) - (at < 0n ? 0n : at));
      }
    }
  }
  return behind;
}

export interface CaughtUpOptions {
  /** Fail after this long. */
  readonly deadlineMs: number;
  /** Runs every round; throws to stop early (a failed stream or an exited worker never catches up). */
  readonly check?: () => void | Promise<void>;
  /** What to say at the deadline besides the records pending (a status dump, the worker's log). */
  readonly describe?: () => string | Promise<string>;
}

/**
 * Waits until every stream's group has committed every record of its topics: two consecutive empty
 * checks, because an upstream commit and the downstream records it produced land in either order.
 */
export async function caughtUp(transport: Transport, streams: ReadonlyArray<{ groupId: string; topics: readonly string[] }>, options: CaughtUpOptions): Promise<void> {
  const deadline = Date.now() + options.deadlineMs;
  let quiet = 0;
  let behind = -1;
  while (quiet < 2) {
    if (Date.now() >= deadline) {
      assert.fail(`not caught up after ${options.deadlineMs} ms: ${behind} records pending\n${(await options.describe?.()) ?? ''}`);
    }
    await options.check?.();
    // a broker restart makes an offsets query fail for a moment: that round counts as not caught up
    behind = await pending(transport, streams).catch(() => -1);
    quiet = behind === 0 ? quiet + 1 : 0;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
