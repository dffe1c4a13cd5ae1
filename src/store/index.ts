/**
 * The document store: one interface (types.ts), two implementations that pass one contract suite
 * (test/contract/store-contract.ts) — MongoDB through the driver, and an embedded one. Public
 * through `tributary/runtime` (MongoDocumentStore, the types) and `tributary/testing`
 * (MemoryDocumentStore).
 */
export type { BulkWriteResult, Collection, Document, DocumentStore, Filter, FindOptions, IndexSpec, StoreCapabilities, WriteOperation } from './types.js';
export { BASIC_CAPABILITIES } from './types.js';
export { MemoryDocumentStore } from './memory/memory-store.js';
export { MongoDocumentStore } from './mongo/mongo-store.js';
export type { MongoDocumentStoreOptions } from './mongo/mongo-store.js';
