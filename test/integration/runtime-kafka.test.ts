/** The runtime behaviour suite on Kafka with the real schema registry (SCHEMA_REGISTRY_URL). */
import { confluentRegistry } from '../../src/stream/serdes/registry.js';
import { kafkaTransport } from '../../src/stream/transport/kafka/kafka-transport.js';
import { runtimeContract } from '../contract/runtime-contract.js';
import { kafkaIo } from './kafka-env.js';
import { services } from './services.js';

runtimeContract('kafka', async () => {
  const io = await kafkaIo();
  return {
    transport: () => kafkaTransport({ brokers: services.kafkaBrokers, clientId: 'runtime-contract' }),
    admin: io.control.admin,
    registry: confluentRegistry({ url: services.registryUrl }),
    produce: (messages) => io.produce(messages),
    read: (topic) => io.read(topic),
    cleanup: () => io.close(),
  };
});
