import type { Transport } from '../types.js';
import { MemoryBroker, type MemoryBrokerOptions } from './memory-broker.js';
import { memoryConsumer } from './memory-consumer.js';

/** The embedded transport: same contract as Kafka, in process. Share one broker between transports to simulate several instances. */
export function memoryTransport(broker: MemoryBroker = new MemoryBroker()): Transport & { readonly broker: MemoryBroker } {
  return {
    kind: 'memory',
    broker,
    connect: async () => undefined,
    consumer: (options) => memoryConsumer(broker, options),
    async producer() {
      return { send: async (messages) => broker.append(messages), disconnect: async () => undefined };
    },
    async transactionalProducer() {
      return {
        // Atomic by construction: both happen in one synchronous step.
        async sendAndCommit(messages, groupId, offsets) {
          broker.append(messages);
          broker.commit(groupId, offsets);
        },
        disconnect: async () => undefined,
      };
    },
    admin: {
      async createTopics(topics) {
        for (const t of topics) broker.createTopic(t.topic, t.partitions);
      },
      async topicOffsets(topic) {
        return broker.partitions(topic).map((log, partition) => ({ partition, low: '0', high: String(log.length) }));
      },
      async committedOffsets(groupId, topic) {
        return broker.partitions(topic).map((_, partition) => ({ topic, partition, offset: String(broker.committed(groupId, topic, partition) ?? -1n) }));
      },
      async partitionCount(topic) {
        return broker.partitions(topic).length;
      },
    },
    disconnect: async () => undefined,
  };
}

export { MemoryBroker };
export type { MemoryBrokerOptions };
