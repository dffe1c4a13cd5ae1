/**
 * The document store: one interface (types.ts), two implementations that pass one contract suite
 * (test/contract/store-contract.ts) — MongoDB/FerretDB through the driver, and an embedded one.
 */
export type { BulkWriteResult, Collection, Document, DocumentStore, Filter, FindOptions, IndexSpec, StoreCapabilities, WriteOperation } from './types.js';
export { BASIC_CAPABILITIES } from './types.js';
export { MemoryDocumentStore } from './memory/memory-store.js';
export { MongoDocumentStore, classifyMongoError } from './mongo/mongo-store.js';
export type { MongoDocumentStoreOptions } from './mongo/mongo-store.js';
