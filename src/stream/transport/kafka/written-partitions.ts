/**
 * kafkajs 2.2.4 can report a produce as done while a partition's records were never sent. Its
 * retry (`producer/sendMessages.js`) re-plans every partition's leader but only sends to brokers
 * that have not answered yet: a partition whose leader moved, during the retries, to a broker that
 * had already written its other partitions is silently left out, and `sendBatch` resolves. Found
 * by the three-broker fault scenario (a pr-update missing after the leader of its partition was
 * killed). kafkajs returns one RecordMetadata per partition written, so the transport records where
 * kafkajs's own partitioner put each message and refuses a send that did not write them all.
 *
 *   messages → {t/0, t/2}, kafkajs answers {t/0}  --unwritten()-->  ['t/2']  (the batch is sent again)
 */
import { Partitioners, type ICustomPartitioner, type Message, type RecordMetadata, type TopicMessages } from 'kafkajs';

export interface PartitionLedger {
  /** kafkajs's default partitioner (murmur2 of the key, as the Java client), remembering each choice. */
  readonly createPartitioner: ICustomPartitioner;
  /** `topic/partition` of every message kafkajs placed but did not report written. */
  unwritten(sent: readonly TopicMessages[], written: readonly RecordMetadata[]): string[];
  /** Where kafkajs's partitioner put `message` (undefined: not placed by it). */
  partitionOf(message: Message): number | undefined;
}

export function partitionLedger(): PartitionLedger {
  // Keyed by the message objects handed to kafkajs: each send builds its own, and a retry
  // re-places them (the last placement is the one kafkajs sent).
  const placed = new WeakMap<Message, number>();
  return {
    createPartitioner: () => {
      const choose = Partitioners.DefaultPartitioner();
      return (args) => {
        const partition = choose(args);
        placed.set(args.message, partition);
        return partition;
      };
    },
    unwritten(sent, written) {
      const done = new Set(written.map((r) => `${r.topicName}/${r.partition}`));
      const missing = new Set<string>();
      for (const { topic, messages } of sent) {
        for (const message of messages) {
          const partition = placed.get(message);
          if (partition !== undefined && !done.has(`${topic}/${partition}`)) missing.add(`${topic}/${partition}`);
        }
      }
      return [...missing].sort();
    },
    partitionOf: (message) => message.partition ?? placed.get(message),
  };
}
