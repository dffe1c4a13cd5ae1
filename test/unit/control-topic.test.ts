/** The shared desired state on the embedded broker (no I/O): see test/contract/control-contract.ts. */
import { MemoryBroker, memoryTransport } from '../../src/stream/transport/memory/memory-transport.js';
import { controlContract } from '../contract/control-contract.js';

controlContract('memory', () => {
  const broker = new MemoryBroker();
  return {
    transport: () => memoryTransport(broker),
    produce: async (messages) => void broker.append(messages),
    createTopics: (topics) => memoryTransport(broker).admin.createTopics(topics),
  };
});
