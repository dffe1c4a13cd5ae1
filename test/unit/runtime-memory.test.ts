/** The runtime behaviour suite on the embedded engine: memory transport and memory registry, no I/O. */
import { memoryRegistry } from '../../src/stream/serdes/registry.js';
import { MemoryBroker, memoryTransport } from '../../src/stream/transport/memory/memory-transport.js';
import type { ReadRecord } from '../contract/helpers.js';
import { headersAsText } from '../contract/helpers.js';
import { runtimeContract } from '../contract/runtime-contract.js';

runtimeContract('memory', async () => {
  const broker = new MemoryBroker();
  return {
    transport: () => memoryTransport(broker),
    admin: memoryTransport(broker).admin,
    registry: memoryRegistry(),
    produce: async (messages) => broker.append(messages),
    async read(topic) {
      const out: ReadRecord[] = [];
      broker.partitions(topic).forEach((log, partition) => {
        for (const m of log) out.push({ topic, partition, offset: BigInt(m.offset), timestamp: m.timestamp, key: m.key, value: m.value, headers: headersAsText(m.headers) });
      });
      return out;
    },
    cleanup: async () => undefined,
  };
});
