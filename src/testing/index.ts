/** The test driver: `import { TestDriver } from 'tributary/testing'`. No network, no services. */
export { TestDriver } from './test-driver.js';
export { virtualClock } from '../stream/runtime/clock.js';
export type { Clock, VirtualClock } from '../stream/runtime/clock.js';
export type { InputRecord, OutputRecord, TestDriverOptions } from './test-driver.js';
export { MemoryBroker, memoryTransport } from '../stream/transport/memory/memory-transport.js';
export { MemoryDocumentStore } from '../store/memory/memory-store.js';
export { memoryRegistry } from '../stream/serdes/registry.js';
export { computeViews, storedViews } from './oracle.js';
