/**
 * What the runtime needs from a message broker, and nothing more. Two implementations pass the
 * same contract tests: `kafka/` (kafkajs, real broker) and `memory/` (embedded, for the test
 * driver and the demo).
 */

export type HeaderValue = Buffer | string;
export type Headers = Record<string, HeaderValue | undefined>;

/** A record as it sits in a topic: bytes, before any serde. */
export interface RawMessage {
  readonly offset: string;
  readonly timestamp: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Headers;
}

/** The records of one partition fetched together; the unit of work and of commit. */
export interface RawBatch {
  readonly topic: string;
  readonly partition: number;
  readonly messages: readonly RawMessage[];
  /** Offset of the next record the broker will write (end offset), for lag. */
  readonly highWatermark: string;
}

export interface TopicPartitionOffset {
  readonly topic: string;
  readonly partition: number;
  /** The offset of the next record to read (last processed + 1), as Kafka commits it. */
  readonly offset: string;
}

export interface TopicPartitions {
  readonly topic: string;
  readonly partitions: readonly number[];
}

/** Handed to the batch handler: liveness while a batch is long, and whether to stop early. */
export interface BatchControl {
  heartbeat(): Promise<void>;
  /** False once the consumer is stopping or the partition was revoked: finish, do not start more. */
  isRunning(): boolean;
  /** Pause / resume fetching of this batch's partition (used while a transient fault is retried). */
  pause(): void;
  resume(): void;
}

export interface ConsumerHandlers {
  /**
   * Process one partition batch. Resolve only when its work is durable; the transport then
   * commits `commitOffset` (if returned). Throwing leaves the offsets where they were: the batch is
   * fetched again.
   */
  onBatch(batch: RawBatch, control: BatchControl): Promise<{ commit: TopicPartitionOffset | null; transactional?: boolean }>;
  /** Called after a returned offset was committed (not for transactional commits). */
  onCommitted?(offset: TopicPartitionOffset, seconds: number): void;
  /** Called on every group join, also with an empty assignment (the member is in the group). */
  onAssigned?(assignment: readonly TopicPartitions[]): void;
  onRevoked?(assignment: readonly TopicPartitions[]): void;
  /** The consumer crashed for good (not a rebalance). */
  onCrash?(error: Error): void;
  /** Something an operator should know that the consumer recovered from by itself (a client replaced). */
  onNotice?(message: string): void;
  /**
   * The member is out of its group and joining again by itself (a crashed consumer restarted, a
   * client replaced): no partition of it is worked until the next `onAssigned`. Readiness is
   * down meanwhile.
   */
  onRejoining?(reason: string): void;
}

/** Records of one batch worked at once when `maxBatchRecords` does not say (the runtime's chunks, the memory transport's fetches, the platformatic client's top-ups). */
export const DEFAULT_MAX_BATCH_RECORDS = 500;
export interface ConsumerOptions {
  readonly groupId: string;
  readonly topics: readonly string[];
  /** Start from the earliest record when the group has no committed offset (default true). */
  readonly fromBeginning?: boolean;
  /** Partition batches processed at once (default: all assigned partitions, up to 64). */
  readonly partitionsConcurrently?: number;
  /**
   * Records worked at once per partition (default 500): the runtime works a larger fetched batch in
   * chunks of this size (Kafka returns whole record batches, whatever the fetch size), which bounds
   * a catching-up worker's memory; the memory transport fetches no more than this, and the
   * platformatic one stops topping up a partition's waiting batch once it holds this many.
   */
  readonly maxBatchRecords?: number;
  /**
   * Work the batches of several partitions that arrive together (one fetch) as one batch, up to
   * `maxBatchRecords` records (default true; the runtime reads it, not the transport). Each
   * partition's records stay in order and are committed on their own; what a batch costs whatever
   * its size (store round trips, a produce) is paid once for all of them. Exactly-once streams
   * never combine.
   */
  readonly combinePartitions?: boolean;
  /**
   * Records one stream's consumer holds at once, fetched ahead and being worked (platformatic
   * client; default 2 000): partitions beyond it wait to be fetched until batches finish, so a
   * worker catching up on a backlog does not hold a whole fetch for each of its partitions. A fetch
   * takes at least one partition, and a partition returns at least one whole record batch.
   */
  readonly maxBufferedRecords?: number;
  /**
   * Kafka: bytes fetched per partition at most and per fetch request. Defaults: platformatic 256 KiB
   * per partition (about one batch of ordinary records), kafkajs its own 1 MiB; 10 MiB per request.
   */
  readonly maxBytesPerPartition?: number;
  readonly maxBytes?: number;
  readonly sessionTimeoutMs?: number;
  /** Longest wait of a fetch with no data (default 500 ms, as Fast Data's KAFKA_CONSUMER_MAX_WAIT_TIME). */
  readonly maxWaitMs?: number;
  /**
   * Kafka's `fetch.min.bytes`: the broker holds a fetch until this many bytes are ready or
   * `maxWaitMs` passed (default 1: answer as soon as anything is there). Larger batches under a
   * trickle of records cost fewer round trips and store commands per record, for up to `maxWaitMs`
   * of added latency.
   */
  readonly minBytes?: number;
  readonly heartbeatIntervalMs?: number;
  readonly readCommitted?: boolean;
}

export interface TransportConsumer {
  run(handlers: ConsumerHandlers): Promise<void>;
  pause(partitions: readonly TopicPartitions[]): void;
  resume(partitions: readonly TopicPartitions[]): void;
  paused(): TopicPartitions[];
  assignment(): TopicPartitions[];
  /** Stop fetching, let in-flight batches finish (and commit), leave the group. */
  stop(): Promise<void>;
}

export interface OutgoingMessage {
  readonly topic: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers?: Headers;
  readonly partition?: number;
  readonly timestamp?: number;
}

export interface TransportProducer {
  /** One round trip for many records; resolves when all are acknowledged (acks=all). */
  send(messages: readonly OutgoingMessage[]): Promise<void>;
  disconnect(): Promise<void>;
}

/** A producer whose sends and offset commits land atomically (Kafka transactions). */
export interface TransactionalProducer {
  sendAndCommit(messages: readonly OutgoingMessage[], groupId: string, offsets: readonly TopicPartitionOffset[]): Promise<void>;
  disconnect(): Promise<void>;
}

export interface PartitionOffsets {
  readonly partition: number;
  /** First offset still in the log. */
  readonly low: string;
  /** Next offset to be written. */
  readonly high: string;
}

export interface TransportAdmin {
  /** Creates the topics that do not exist yet (an existing one is left as it is); `config` as Kafka's topic configs, e.g. cleanup.policy=compact (ignored by the memory transport). */
  createTopics(topics: readonly { topic: string; partitions: number; config?: Readonly<Record<string, string>> }[]): Promise<void>;
  topicOffsets(topic: string): Promise<PartitionOffsets[]>;
  /** Committed offsets of a group (partitions with no commit are absent or "-1"). */
  committedOffsets(groupId: string, topic: string): Promise<TopicPartitionOffset[]>;
  partitionCount(topic: string): Promise<number>;
}

export interface Transport {
  readonly kind: 'kafka' | 'memory';
  connect(): Promise<void>;
  consumer(options: ConsumerOptions): TransportConsumer;
  producer(options?: { idempotent?: boolean }): Promise<TransportProducer>;
  transactionalProducer(transactionalId: string): Promise<TransactionalProducer>;
  readonly admin: TransportAdmin;
  disconnect(): Promise<void>;
}
