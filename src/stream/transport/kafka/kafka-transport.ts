/**
 * Transport on kafkajs. Consumers use `eachBatch` with manual resolve and manual commit: the
 * offset of a batch is committed only after the handler says its work is durable. Producers are
 * idempotent and wait for all in-sync replicas (acks=all).
 */
import { Kafka, logLevel as kafkaLogLevel, type ISocketFactory, type KafkaConfig, type Message, type Producer, type ProducerBatch, type RecordMetadata, type SASLOptions, type TopicMessages } from 'kafkajs';
import type { ConnectionOptions } from 'node:tls';
import { isTributaryError, TributaryError } from '../../../errors.js';
import type { Logger } from '../../../ops/logger.js';
import { kafkajsLogCreator, kafkajsLogLevel } from '../../../ops/logger.js';
import type { OutgoingMessage, TopicPartitionOffset, Transport, TransactionalProducer, TransportAdmin, TransportProducer } from '../types.js';
import { COMPRESSION_IDS, type Compression } from '../codecs.js';
import { registerKafkajsCodecs } from './codecs.js';
import { sharedProducer } from '../producer-replacement.js';
import { fencedProducer, fromKafkaError, producerStateLost, transactionStateLost } from './errors.js';
import { kafkaConsumer } from './kafka-consumer.js';
import { partitionLedger } from './written-partitions.js';
import { withoutUndefined } from '../headers.js';
import { oneAtATime } from '../one-at-a-time.js';
import { chunksOf, markWritten, sendInChunks } from '../partial-send.js';

// Reading a topic compressed with snappy, lz4 or zstd (any Java producer may write one) needs these.
registerKafkajsCodecs();

export interface KafkaTransportOptions {
  readonly brokers: readonly string[];
  readonly clientId?: string;
  readonly ssl?: boolean | ConnectionOptions;
  readonly sasl?: SASLOptions;
  readonly logger?: Logger;
  readonly connectionTimeoutMs?: number;
  /** How sockets are opened (kafkajs `socketFactory`); the CLI's maps IPv6 seed brokers (src/cli/kafka-client.ts). */
  readonly socketFactory?: ISocketFactory;
  /** Producer compression (default none). Every codec is read whatever this says. */
  readonly compression?: Compression;
  /**
   * Bytes (keys + values + headers) per produce request at most (default 800 000). A batch's
   * outputs are sent in as many sequential requests as needed: kafkajs puts a request's records
   * for one partition into one record batch, and the broker refuses a batch over its
   * `message.max.bytes` (default 1 MiB) — a 1 MiB fetch of CDC records makes more than that in
   * pr-updates, which carry each document twice.
   */
  readonly maxRequestBytes?: number;
}

/** The kafkajs client configuration of these options (connection, security, logs). */
export function kafkajsConfig(options: KafkaTransportOptions): KafkaConfig {
  return {
    clientId: options.clientId ?? 'tributary',
    brokers: [...options.brokers],
    connectionTimeout: options.connectionTimeoutMs ?? 10_000,
    ...(options.ssl !== undefined ? { ssl: options.ssl } : {}),
    ...(options.sasl ? { sasl: options.sasl } : {}),
    ...(options.socketFactory ? { socketFactory: options.socketFactory } : {}),
    ...(options.logger ? { logCreator: kafkajsLogCreator(options.logger), logLevel: kafkajsLogLevel(options.logger) } : { logLevel: kafkaLogLevel.NOTHING }),
  };
}

export function kafkaTransport(options: KafkaTransportOptions): Transport {
  const kafka = new Kafka(kafkajsConfig(options));
  const adminClient = kafka.admin();
  const producers = new Set<Producer>();
  let connected: Promise<void> | undefined;
  const compression = COMPRESSION_IDS[options.compression ?? 'none'];
  const maxRequestBytes = options.maxRequestBytes ?? 800_000;
  const ledger = partitionLedger();
  /**
   * One request's records through sendBatch. kafkajs's own failure says nothing of what it wrote; an
   * answer that leaves a partition unwritten (written-partitions.ts) is refused, marked with the
   * records of the partitions it did write (partial-send.ts), so only the others are sent again.
   */
  const sendAll = async (to: { sendBatch(batch: ProducerBatch): Promise<RecordMetadata[]> }, chunk: readonly OutgoingMessage[]) => {
    const { topicMessages, placed } = toBatch(chunk);
    const written = await to.sendBatch({ topicMessages, compression, acks: -1 }).catch((error: unknown) => {
      throw fromKafkaError(error, `cannot produce ${chunk.length} records`);
    });
    const unwritten = ledger.unwritten(topicMessages, written);
    if (unwritten.length > 0) {
      const done = new Set(written.map((r) => `${r.topicName}/${r.partition}`));
      const acknowledged = new Set<number>();
      placed.forEach((message, i) => {
        if (done.has(`${chunk[i]?.topic}/${ledger.partitionOf(message)}`)) acknowledged.add(i);
      });
      const error = new TributaryError('TRB_PRODUCE', `kafkajs reported the request done but wrote nothing to ${unwritten.join(', ')} (their leader moved during its retries): sent again`, { retriable: true, context: { partitions: unwritten } });
      throw markWritten(error, acknowledged);
    }
  };

  // Hot path (once per batch, over every output record): one pass, no per-record spreads, so a
  // batch of n records costs O(n) (appending by re-spreading the topic's array was O(n²)).
  /** kafkajs's request for `messages`, and the message objects handed to it, in the order of `messages`. */
  const toBatch = (messages: readonly OutgoingMessage[]) => {
    const byTopic = new Map<string, Message[]>();
    const placed: Message[] = [];
    for (const m of messages) {
      // Every field present from the start (undefined where absent, which kafkajs treats as unset):
      // one object shape for all messages, so kafkajs's per-record spread of them stays monomorphic.
      const message: Message = {
        key: m.key,
        value: m.value,
        headers: m.headers ? withoutUndefined(m.headers) : undefined,
        partition: m.partition,
        timestamp: m.timestamp === undefined ? undefined : String(m.timestamp),
      };
      let list = byTopic.get(m.topic);
      if (!list) byTopic.set(m.topic, (list = []));
      list.push(message);
      placed.push(message);
    }
    const topicMessages: TopicMessages[] = [];
    for (const [topic, list] of byTopic) topicMessages.push({ topic, messages: list });
    return { topicMessages, placed };
  };

  const admin: TransportAdmin = {
    async createTopics(topics) {
      try {
        await adminClient.createTopics({
          topics: topics.map((t) => ({ topic: t.topic, numPartitions: t.partitions, ...(t.config ? { configEntries: Object.entries(t.config).map(([name, value]) => ({ name, value })) } : {}) })),
          waitForLeaders: true,
        });
      } catch (error) {
        // Created, but a busy broker's metadata did not name them yet when kafkajs looked for their
        // leaders (it waits out LEADER_NOT_AVAILABLE only; seen in CI): look again, for up to ~10 s.
        if ((error as { type?: unknown }).type !== 'UNKNOWN_TOPIC_OR_PARTITION') throw error;
        for (let attempt = 1; ; attempt++) {
          await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
          const ready = await adminClient.fetchTopicMetadata({ topics: topics.map((t) => t.topic) }).then(
            (m) => m.topics.length === topics.length && m.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0)),
            () => false,
          );
          if (ready) return;
          if (attempt >= 13) throw error;
        }
      }
    },
    async topicOffsets(topic) {
      const offsets = await retriableRead(() => adminClient.fetchTopicOffsets(topic), refreshing(topic));
      return offsets.map((o) => ({ partition: o.partition, low: o.low, high: o.high }));
    },
    async committedOffsets(groupId, topic) {
      const [entry] = await retriableRead(() => adminClient.fetchOffsets({ groupId, topics: [topic] }), refreshing(topic));
      return (entry?.partitions ?? []).map((p) => ({ topic, partition: p.partition, offset: p.offset }));
    },
    async partitionCount(topic) {
      const { topics } = await retriableRead(() => adminClient.fetchTopicMetadata({ topics: [topic] }));
      return topics[0]?.partitions.length ?? 0;
    },
  };
  /** Before the next attempt of a read about `topic`: kafkajs refreshes its metadata when asked for the topic's. */
  const refreshing = (topic: string) => () => adminClient.fetchTopicMetadata({ topics: [topic] }).then(() => undefined);

  return {
    kind: 'kafka',
    admin,
    connect() {
      connected ??= adminClient.connect().catch((error: unknown) => {
        connected = undefined;
        throw fromKafkaError(error, `cannot connect to Kafka at ${options.brokers.join(',')}`, 'TRB_CONNECT');
      });
      return connected;
    },
    consumer: (consumerOptions) => kafkaConsumer(kafka, consumerOptions),
    async producer(producerOptions) {
      const open = async (): Promise<Producer> => {
        const made = kafka.producer({ idempotent: producerOptions?.idempotent ?? true, maxInFlightRequests: 5, allowAutoTopicCreation: true, createPartitioner: ledger.createPartitioner });
        await made.connect().catch((error: unknown) => {
          throw fromKafkaError(error, 'cannot connect a producer to Kafka', 'TRB_CONNECT');
        });
        producers.add(made);
        return made;
      };
      // One producer shared by the lanes (kafkajs numbers concurrent sends itself), replaced after any
      // failed send, not only when the broker lost its state: kafkajs takes a failed request's
      // idempotence sequence numbers back (producer-replacement.ts says why that loses records).
      const shared = sharedProducer<Producer>(
        {
          open,
          close: async (producer) => {
            producers.delete(producer);
            await producer.disconnect();
          },
          stateLost: producerStateLost,
          onStateLost: (error) => options.logger?.warn({ err: error }, 'Kafka producer replaced: the broker lost its idempotence state (sequence numbers or producer id); the batch is retried through a new producer'),
        },
        await open(),
      );
      const wrapped: TransportProducer = {
        async send(messages) {
          if (messages.length === 0) return;
          // In order, one request after another: the idempotent producer keeps each partition's order.
          await shared
            .use((producer) => sendInChunks(messages, maxRequestBytes, (chunk) => sendAll(producer, chunk)))
            .catch((error: unknown) => {
              throw isTributaryError(error) ? error : fromKafkaError(error, `cannot produce ${messages.length} records`);
            });
        },
        disconnect: () => shared.closeAll(),
      };
      return wrapped;
    },
    async transactionalProducer(transactionalId) {
      const open = async () => {
        const made = kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: true, createPartitioner: ledger.createPartitioner });
        await made.connect().catch((error: unknown) => {
          throw fromKafkaError(error, 'cannot connect a producer to Kafka', 'TRB_CONNECT');
        });
        producers.add(made);
        return made;
      };
      let producer = await open();
      const serial = oneAtATime(); // concurrent transactions of one producer fence each other
      const transact = async (messages: readonly OutgoingMessage[], groupId: string, offsets: readonly TopicPartitionOffset[]) => {
        const using = producer;
        const tx = await using.transaction().catch((error: unknown) => {
          throw fromKafkaError(error, `cannot begin a transaction (${transactionalId})`);
        });
        try {
          for (const chunk of chunksOf(messages, maxRequestBytes)) await sendAll(tx, chunk); // all or nothing: aborted below
          const byTopic = new Map<string, Array<{ partition: number; offset: string }>>();
          for (const o of offsets) byTopic.set(o.topic, [...(byTopic.get(o.topic) ?? []), { partition: o.partition, offset: o.offset }]);
          await tx.sendOffsets({ consumerGroupId: groupId, topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })) });
          await tx.commit();
        } catch (error) {
          await tx.abort().catch(() => undefined);
          if (transactionStateLost(error) && producer === using) {
            // as the idempotent producer (kafkajs#598): the next transaction goes through a new one
            options.logger?.warn({ err: error, transactionalId }, 'transactional Kafka producer replaced: the broker lost its state; the batch is retried through a new producer');
            producers.delete(using);
            await using.disconnect().catch(() => undefined);
            producer = await open();
          }
          if (fencedProducer(error)) throw fromKafkaError(error, `transaction fenced: a newer producer with transactional id ${transactionalId} exists (another worker owns this partition now)`);
          throw fromKafkaError(error, 'transaction failed and was aborted');
        }
      };
      const wrapped: TransactionalProducer = {
        sendAndCommit(messages, groupId, offsets) {
          return serial(() => transact(messages, groupId, offsets));
        },
        async disconnect() {
          producers.delete(producer);
          await producer.disconnect();
        },
      };
      return wrapped;
    },
    async disconnect() {
      await Promise.all([...producers].map((p) => p.disconnect().catch(() => undefined)));
      producers.clear();
      if (connected) await adminClient.disconnect();
      connected = undefined;
    },
  };
}

/**
 * An admin read, attempted again while kafkajs reports a retriable broker error, for up to ~4.5 s:
 * kafkajs' admin gives up at once on some of them, e.g. NOT_LEADER_OR_FOLLOWER from ListOffsets on
 * a topic created a moment before, whose leader the broker was still taking up (seen in CI). The
 * error's own `retriable` flag decides, not the call site; `refresh` runs between attempts.
 */
export async function retriableRead<T>(read: () => Promise<T>, refresh?: () => Promise<void>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (error) {
      if ((error as { retriable?: unknown }).retriable !== true || attempt >= 10) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      await refresh?.().catch(() => undefined);
    }
  }
}
