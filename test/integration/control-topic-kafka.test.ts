/** The shared desired state on a compacted Kafka control topic, on both Kafka transports: see test/contract/control-contract.ts. */
import { kafkaTransport } from '../../src/stream/transport/kafka/kafka-transport.js';
import { platformaticTransport } from '../../src/stream/transport/platformatic/platformatic-transport.js';
import type { Transport } from '../../src/stream/transport/types.js';
import { controlContract } from '../contract/control-contract.js';
import { services } from './services.js';

for (const [name, make] of [
  ['kafkajs', () => kafkaTransport({ brokers: services.kafkaBrokers, clientId: 'control-contract' })],
  ['platformatic', () => platformaticTransport({ brokers: services.kafkaBrokers, clientId: 'control-contract' })],
] as const satisfies ReadonlyArray<readonly [string, () => Transport]>) {
  controlContract(name, () => ({
    transport: make,
    async produce(messages) {
      const transport = make();
      await transport.connect();
      const producer = await transport.producer({ idempotent: true });
      await producer.send(messages);
      await producer.disconnect();
      await transport.disconnect();
    },
    async createTopics(topics) {
      const transport = make();
      await transport.connect();
      await transport.admin.createTopics(topics);
      await transport.disconnect();
    },
  }));
}
