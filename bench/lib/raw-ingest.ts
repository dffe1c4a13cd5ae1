/**
 * The raw ingest loop: what a careful hand-written consumer of the CDC workload does with no
 * Tributary code in it. bench/fastdata.ts times it (the ceiling of the ingest ratio) and
 * bench/backlog.ts runs it in a child process (bench/lib/raw-ingest-worker.ts) for the memory
 * baseline.
 *
 *   bare kafkajs eachBatch (every partition at once, no auto-commit)
 *     → JSON.parse of each value → one ordered bulkWrite of replaceOne({pk}, after, {upsert})
 *       per record (or per key's last record, `compacted`) → commitOffsets(last + 1)
 */
import type { Kafka, Message } from 'kafkajs';
import type { AnyBulkWriteOperation, Db, Document } from 'mongodb';
import { TABLES } from './cdc-workload.js';

type Table = (typeof TABLES)[number];

export interface RawConsumerOptions {
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly partitionsConsumedConcurrently: number;
  readonly maxBytesPerPartition?: number;
  /** Called once per batch before it is handled, and once per commit after it resolves. */
  readonly onBatch?: () => void;
  readonly onCommitted?: (offset: { topic: string; partition: number; offset: string }) => void;
}

/** A bare kafkajs consumer over `topics`, committing each batch after `handle` resolves; resolves its teardown. */
export async function rawConsumer(kafka: Kafka, options: RawConsumerOptions, handle: (topic: string, messages: Message[]) => Promise<void>): Promise<() => Promise<void>> {
  const { groupId, topics, partitionsConsumedConcurrently, maxBytesPerPartition, onBatch, onCommitted } = options;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 500, ...(maxBytesPerPartition ? { maxBytesPerPartition } : {}), allowAutoTopicCreation: false });
  await consumer.connect();
  await consumer.subscribe({ topics: [...topics], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    partitionsConsumedConcurrently,
    eachBatch: async ({ batch }) => {
      onBatch?.();
      await handle(batch.topic, batch.messages);
      const offset = (BigInt(batch.lastOffset()) + 1n).toString();
      await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset }]);
      onCommitted?.({ topic: batch.topic, partition: batch.partition, offset });
    },
  });
  return () => consumer.disconnect();
}

/** One ordered bulkWrite of the batch (what the store does). */
export async function bulkWrite(db: Db, collection: string, ops: AnyBulkWriteOperation[]): Promise<void> {
  if (ops.length > 0) await db.collection(collection).bulkWrite(ops, { ordered: true });
}

/** The projections' unique primary-key indexes, as Tributary's store declares them. */
export async function createRawIndexes(db: Db): Promise<void> {
  for (const t of TABLES) await db.collection(t.projection).createIndex({ [t.pk]: 1 }, { unique: true, name: 'pk' });
}

/**
 * The batch handler: `byTopic` names each source topic's table. `compacted`: only the last record
 * of each key in a batch is written (the per-key compaction Tributary does, by hand).
 */
export function rawIngestBatch(db: Db, byTopic: ReadonlyMap<string, Table>, compacted: boolean): (topic: string, messages: Message[]) => Promise<void> {
  return async (topic, messages) => {
    const table = byTopic.get(topic) as Table;
    const ops = new Map<unknown, AnyBulkWriteOperation>();
    messages.forEach((m, i) => {
      const event = JSON.parse((m.value as Buffer).toString()) as { after: Document };
      const key = event.after[table.pk] as unknown;
      if (compacted) ops.delete(key); // re-inserted last: Map order = order of each key's last record
      ops.set(compacted ? key : i, { replaceOne: { filter: { [table.pk]: key }, replacement: event.after, upsert: true } });
    });
    await bulkWrite(db, table.projection, [...ops.values()]);
  };
}
