/**
 * `tributary/testing`: run a topology with no network and no services — the TestDriver (embedded
 * broker, registry and store), the in-memory parts it is made of, and for Fast Data the oracle:
 * `computeViews` recomputes every single view from the projections in the store, `storedViews`
 * reads what the pipeline wrote, so a test can compare the two.
 */
export { TestDriver } from './test-driver.js';
export { virtualClock } from '../stream/runtime/clock.js';
export type { Clock, VirtualClock } from '../stream/runtime/clock.js';
export type { InputRecord, OutputRecord, TestDriverOptions } from './test-driver.js';
export { MemoryBroker, memoryTransport } from '../stream/transport/memory/memory-transport.js';
export { MemoryDocumentStore } from '../store/memory/memory-store.js';
export { memoryRegistry } from '../stream/serdes/registry.js';
export { computeViews, storedViews } from './oracle.js';
