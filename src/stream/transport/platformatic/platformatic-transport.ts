/**
 * Transport on @platformatic/kafka (maintained, TypeScript, Kafka 4 protocol): the same contract as
 * the kafkajs one (test/contract/transport-contract.ts), plus what kafkajs lacks — the KIP-848
 * consumer group protocol (`groupProtocol: 'consumer'`) and static membership (`instanceId`: a
 * restarted worker with the same id takes its partitions back at once instead of after the session
 * timeout). Producers are idempotent, acks=all; every codec is read, `compression` is written.
 */
import { Admin, Producer, type BaseOptions, type ProducerOptions } from '@platformatic/kafka';
import type { ConnectionOptions } from 'node:tls';
import { isTributaryError } from '../../../errors.js';
import type { Logger } from '../../../ops/logger.js';
import { chunksOf, markWritten, sendInChunks } from '../partial-send.js';
import { acknowledgedIndices, producedPartitions } from './acknowledged.js';
import { loadCodecs, type Compression } from '../codecs.js';
import { keyHash } from '../murmur2.js';
import type { OutgoingMessage, TopicPartitionOffset, Transport, TransactionalProducer, TransportAdmin, TransportProducer } from '../types.js';
import { patchPlatformaticCodecs } from './codecs.js';
import { fencedProducer, fromPlatformaticError, producerStateLost, protocolErrorOf, transactionStateLost } from './errors.js';
import { closeClient } from './group-client.js';
import { platformaticConsumer } from './platformatic-consumer.js';
import { oneAtATime } from '../one-at-a-time.js';
import { exclusiveProducers } from '../producer-replacement.js';

/** Idempotent producers one TransportProducer may open (each sends one request at a time: see producer()). */
const PRODUCERS_AT_ONCE = 8;

export interface PlatformaticTransportOptions {
  readonly brokers: readonly string[];
  readonly clientId?: string;
  readonly ssl?: boolean | ConnectionOptions;
  /** As the kafkajs transport takes it: mechanism plain | scram-sha-256 | scram-sha-512. */
  readonly sasl?: { readonly mechanism: string; readonly username?: string; readonly password?: string };
  readonly logger?: Logger;
  readonly connectionTimeoutMs?: number;
  readonly compression?: Compression;
  /** Bytes per produce request at most (default 800 000), as the kafkajs transport. */
  readonly maxRequestBytes?: number;
  /** 'classic' (JoinGroup/SyncGroup, default) or 'consumer' (KIP-848, Kafka 4: the broker assigns, no stop-the-world rebalance). */
  readonly groupProtocol?: 'classic' | 'consumer';
  /**
   * Static membership: this worker's stable name (pod name, host + slot). Each consumer joins with
   * `group.instance.id` = this id, so a restart with the same id is the same member. Two workers of
   * one topology must never share an id.
   */
  readonly instanceId?: string;
}

type Base = BaseOptions;
type ProducerSettings = Partial<ProducerOptions<Buffer, Buffer, Buffer, Buffer>>;

export function platformaticTransport(options: PlatformaticTransportOptions): Transport {
  const clientId = options.clientId ?? 'tributary';
  const base: Base = {
    clientId,
    bootstrapBrokers: [...options.brokers],
    connectTimeout: options.connectionTimeoutMs ?? 10_000,
    retries: 5,
    retryDelay: 250,
    ...(options.ssl ? { tls: options.ssl === true ? {} : options.ssl } : {}),
    ...(options.sasl ? { sasl: { mechanism: options.sasl.mechanism.toUpperCase() as 'PLAIN', ...(options.sasl.username !== undefined ? { username: options.sasl.username } : {}), ...(options.sasl.password !== undefined ? { password: options.sasl.password } : {}) } } : {}),
  };
  const compression = options.compression ?? 'none';
  const maxRequestBytes = options.maxRequestBytes ?? 800_000;
  const admin = new Admin({ ...base, clientId: `${clientId}-admin` });
  const producers = new Set<Producer>();
  let connected: Promise<void> | undefined;

  const toMessages = (messages: readonly OutgoingMessage[]) =>
    messages.map((m) => ({
      topic: m.topic,
      ...(m.key !== null ? { key: m.key } : {}),
      ...(m.value !== null ? { value: m.value } : {}),
      ...(m.partition !== undefined ? { partition: m.partition } : {}),
      ...(m.timestamp !== undefined ? { timestamp: BigInt(m.timestamp) } : {}),
      ...(m.headers ? { headers: definedHeaders(m.headers) } : {}),
    }));

  // Keyed records go where the Java client (and kafkajs' default) puts them (keyHash; the library's
  // default drops the sign differently, its compatibilityPartitioner agrees but computes with
  // BigInt, test/unit/engine-parts.test.ts); unkeyed ones round-robin.
  let roundRobin = 0;
  // Each choice is remembered by the record object handed to the library: a failed send then tells
  // which of its records went to the partitions it reports written (acknowledged.ts).
  const placed = new WeakMap<object, number>();
  const partitioner: ProducerSettings['partitioner'] = (message, key) => {
    const partition = key ? keyHash(key) : roundRobin++ & 0x7fffffff;
    placed.set(message, partition);
    return partition;
  };
  /** One request's records through `producer`; a failure says which of them the broker acknowledged. */
  const sendChunk = async (producer: Producer<Buffer, Buffer, Buffer, Buffer>, chunk: readonly OutgoingMessage[]) => {
    const sent = toMessages(chunk);
    try {
      await producer.send({ messages: sent });
    } catch (error) {
      const written = producedPartitions(error);
      const metadata = written.size > 0 ? await producer.metadata({ topics: [...new Set(chunk.map((m) => m.topic))] }).catch(() => undefined) : undefined;
      const acknowledged = acknowledgedIndices(sent, written, (i) => sent[i]?.partition ?? (sent[i] ? placed.get(sent[i]) : undefined), (topic) => metadata?.topics.get(topic)?.partitionsCount);
      throw markWritten(fromPlatformaticError(error, `cannot produce ${chunk.length} records`), acknowledged);
    }
  };
  const newProducer = (extra: ProducerSettings = {}) => {
    const producer = new Producer<Buffer, Buffer, Buffer, Buffer>({ ...base, idempotent: true, acks: -1, compression, autocreateTopics: true, partitioner, ...extra });
    producers.add(producer);
    return producer;
  };

  const adminApi: TransportAdmin = {
    async createTopics(topics) {
      const existing = new Set(await admin.listTopics());
      for (const t of topics) {
        if (existing.has(t.topic)) continue;
        try {
          await admin.createTopics({ topics: [t.topic], partitions: t.partitions, replicas: -1, ...(t.config ? { configs: Object.entries(t.config).map(([name, value]) => ({ name, value })) } : {}) });
        } catch (error) {
          // Created by someone else since the listing (two instances starting together): as asked.
          if (protocolErrorOf(error) !== 'TOPIC_ALREADY_EXISTS') throw error;
        }
      }
      await admin.metadata({ topics: topics.map((t) => t.topic), forceUpdate: true });
    },
    async topicOffsets(topic) {
      const request = (timestamp: bigint) => admin.listOffsets({ topics: [{ name: topic, partitions: partitionsOf(count, timestamp) }] });
      const count = await adminApi.partitionCount(topic);
      const [low, high] = await Promise.all([request(-2n), request(-1n)]);
      const at = (list: typeof low, p: number) => list[0]?.partitions.find((x) => x.partitionIndex === p)?.offset.toString() ?? '0';
      return Array.from({ length: count }, (_, p) => ({ partition: p, low: at(low, p), high: at(high, p) }));
    },
    async committedOffsets(groupId, topic) {
      const count = await adminApi.partitionCount(topic);
      const [group] = await admin.listConsumerGroupOffsets({ groups: [{ groupId, topics: [{ name: topic, partitionIndexes: Array.from({ length: count }, (_, p) => p) }] }] });
      const list = group?.topics.find((t) => t.name === topic)?.partitions ?? [];
      return list.map((p) => ({ topic, partition: p.partitionIndex, offset: p.committedOffset.toString() }));
    },
    async partitionCount(topic) {
      const metadata = await admin.metadata({ topics: [topic], forceUpdate: true });
      return metadata.topics.get(topic)?.partitionsCount ?? 0;
    },
  };

  return {
    kind: 'kafka',
    admin: adminApi,
    connect() {
      connected ??= (async () => {
        await loadCodecs();
        patchPlatformaticCodecs();
        await admin.metadata({ topics: [] });
      })().catch((error: unknown) => {
        connected = undefined;
        throw fromPlatformaticError(error, `cannot connect to Kafka at ${options.brokers.join(',')}`, 'TRB_CONNECT');
      });
      return connected;
    },
    consumer: (consumerOptions) =>
      platformaticConsumer(consumerOptions, {
        base,
        groupProtocol: options.groupProtocol ?? 'classic',
        ...(options.instanceId ? { groupInstanceId: options.instanceId } : {}),
      }),
    async producer() {
      // Several idempotent producers behind one TransportProducer, each doing one send at a time:
      // @platformatic/kafka 1.35 reads a partition's idempotence sequence when a send starts and
      // advances it only when the answer comes, so two concurrent sends of ONE producer to one
      // partition carry the same sequence and the broker refuses the second with
      // OUT_OF_ORDER_SEQUENCE_NUMBER (seen with six lanes producing at once). A producer whose send
      // failed is replaced, one whose state the broker lost with a warning (producer-replacement.ts).
      const pool = exclusiveProducers<Producer<Buffer, Buffer, Buffer, Buffer>>(
        {
          open: () => newProducer(),
          close: async (producer) => {
            producers.delete(producer);
            await producer.close();
          },
          stateLost: producerStateLost,
          onStateLost: (error) => options.logger?.warn({ err: error }, 'Kafka producer replaced: the broker lost its idempotence state; the batch is retried through a new producer'),
        },
        PRODUCERS_AT_ONCE,
      );
      return {
        async send(messages) {
          if (messages.length === 0) return;
          await pool
            .use((producer) => sendInChunks(messages, maxRequestBytes, (chunk) => sendChunk(producer, chunk)))
            .catch((error: unknown) => {
              throw isTributaryError(error) ? error : fromPlatformaticError(error, `cannot produce ${messages.length} records`);
            });
        },
        disconnect: () => pool.closeAll(),
      } satisfies TransportProducer;
    },
    async transactionalProducer(transactionalId) {
      // InitProducerId must say "no producer yet" (-1/-1): the library's default (0/0) makes the broker
      // answer PRODUCER_FENCED for any transactional id it has seen before (a restart, a new owner).
      const open = () => newProducer({ transactionalId, maxInflights: 1, producerId: -1n, producerEpoch: -1 });
      let producer = open();
      const serial = oneAtATime(); // concurrent transactions of one producer fence each other
      const transact = async (messages: readonly OutgoingMessage[], groupId: string, offsets: readonly TopicPartitionOffset[]) => {
        const tx = await producer.beginTransaction().catch((error: unknown) => {
          throw fromPlatformaticError(error, `cannot begin a transaction (${transactionalId})`);
        });
        try {
          for (const chunk of chunksOf(messages, maxRequestBytes)) await tx.send({ messages: toMessages(chunk) });
          // No group generation here (the consumer may live in another transport): the offsets are
          // committed as kafkajs' sendOffsets does, fenced by the transactional id, not the member.
          await tx.addConsumer({ groupId } as Parameters<typeof tx.addConsumer>[0]);
          const coordinator = await groupCoordinator(groupId);
          for (const o of offsets) {
            await tx.addOffset({
              topic: o.topic,
              partition: o.partition,
              offset: BigInt(o.offset) - 1n, // addOffset commits the message's offset + 1
              metadata: { consumer: { groupId, generationId: -1, memberId: '', coordinatorId: coordinator } },
            } as unknown as Parameters<typeof tx.addOffset>[0]);
          }
          await tx.commit();
        } catch (error) {
          await tx.abort().catch(() => undefined);
          if (transactionStateLost(error)) {
            // The broker lost its state: a new producer re-initialises the id. (Not when fenced: see errors.ts.)
            options.logger?.warn({ err: error, transactionalId }, 'transactional Kafka producer replaced: the broker lost its state; the batch is retried through a new producer');
            producers.delete(producer);
            await closeClient(producer, true);
            producer = open();
          }
          if (fencedProducer(error)) throw fromPlatformaticError(error, `transaction fenced: a newer producer with transactional id ${transactionalId} exists (another worker owns this partition now)`);
          throw fromPlatformaticError(error, 'transaction failed and was aborted');
        }
      };
      return {
        sendAndCommit(messages, groupId, offsets) {
          return serial(() => transact(messages, groupId, offsets));
        },
        async disconnect() {
          producers.delete(producer);
          await producer.close();
        },
      } satisfies TransactionalProducer;
    },
    async disconnect() {
      await Promise.all([...producers].map((p) => p.close().catch(() => undefined)));
      producers.clear();
      await admin.close().catch(() => undefined);
      connected = undefined;
    },
  };

  async function groupCoordinator(groupId: string): Promise<number> {
    const [found] = await admin.findCoordinator({ keyType: 0, keys: [groupId] });
    if (!found) throw new Error(`no coordinator for group ${groupId}`);
    return found.nodeId;
  }
}

function partitionsOf(count: number, timestamp: bigint) {
  return Array.from({ length: count }, (_, p) => ({ partitionIndex: p, timestamp, currentLeaderEpoch: -1 }));
}

function definedHeaders(headers: Record<string, Buffer | string | undefined>): Map<Buffer, Buffer> {
  const out = new Map<Buffer, Buffer>();
  for (const k in headers) {
    const v = headers[k];
    if (v !== undefined) out.set(headerBytes(k), typeof v === 'string' ? headerBytes(v) : v);
  }
  return out;
}

/**
 * Header names and short values repeat on every record of a stream ('messageSchema', 'pr-update-v2'):
 * their bytes are made once and shared (the library only reads them), up to HEADER_CACHE entries.
 */
const HEADER_CACHE = 512;
const HEADER_CACHED_LENGTH = 64;
const headerCache = new Map<string, Buffer>();
function headerBytes(text: string): Buffer {
  if (text.length > HEADER_CACHED_LENGTH) return Buffer.from(text);
  let bytes = headerCache.get(text);
  if (!bytes) {
    if (headerCache.size >= HEADER_CACHE) headerCache.clear();
    bytes = Buffer.from(text);
    headerCache.set(text, bytes);
  }
  return bytes;
}
