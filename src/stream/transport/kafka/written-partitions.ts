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

/** Where kafkajs's partitioner put a message, kept on the message object (each send builds its own). */
const PLACED = Symbol('tributary.placedPartition');
type PlacedMessage = Message & { [PLACED]?: number };

export function partitionLedger(): PartitionLedger {
  // On the message objects handed to kafkajs (a retry re-places them: the last placement is the one
  // kafkajs sent). A symbol-keyed field rather than a WeakMap: this runs once per record produced,
  // and a WeakMap entry per record cost ~1 % of a pass-through's CPU.
  return {
    createPartitioner: () => {
      const choose = Partitioners.DefaultPartitioner();
      return (args) => {
        const partition = choose(args);
        (args.message as PlacedMessage)[PLACED] = partition;
        return partition;
      };
    },
    unwritten(sent, written) {
      const done = new Map<string, Set<number>>();
      for (const r of written) {
        let partitions = done.get(r.topicName);
        if (!partitions) done.set(r.topicName, (partitions = new Set()));
        partitions.add(r.partition);
      }
      const missing = new Set<string>();
      for (const { topic, messages } of sent) {
        const partitions = done.get(topic);
        for (const message of messages) {
          const partition = (message as PlacedMessage)[PLACED];
          if (partition !== undefined && !partitions?.has(partition)) missing.add(`${topic}/${partition}`);
        }
      }
      return [...missing].sort();
    },
    partitionOf: (message) => message.partition ?? (message as PlacedMessage)[PLACED],
  };
}
