/** The runtime behaviour suite on the @platformatic/kafka transport (KIP-848 group protocol) with the real schema registry. */
import { confluentRegistry } from '../../src/stream/serdes/registry.js';
import { platformaticTransport } from '../../src/stream/transport/platformatic/platformatic-transport.js';
import { runtimeContract } from '../contract/runtime-contract.js';
import { kafkaIo } from './kafka-env.js';
import { services } from './services.js';

runtimeContract('kafka (platformatic)', async () => {
  const io = await kafkaIo();
  return {
    transport: () => platformaticTransport({ brokers: services.kafkaBrokers, clientId: 'runtime-contract', groupProtocol: 'consumer' }),
    admin: io.control.admin,
    registry: confluentRegistry({ url: services.registryUrl }),
    produce: (messages) => io.produce(messages),
    read: (topic) => io.read(topic),
    cleanup: () => io.close(),
  };
});
