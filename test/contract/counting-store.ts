/** A MemoryDocumentStore that records every call, per collection: proves "one query per batch" claims. */
import { MemoryDocumentStore } from '../../src/store/memory/memory-store.js';
import type { BulkWriteResult, Collection, Document, DocumentStore, Filter, FindOptions, IndexSpec, WriteOperation } from '../../src/store/types.js';

export type Method = 'find' | 'findOne' | 'bulkWrite' | 'createIndexes';

export class CountingStore implements DocumentStore {
  readonly kind = 'memory' as const;
  readonly inner = new MemoryDocumentStore();
  readonly calls: Array<{ collection: string; method: Method; arg: unknown }> = [];

  async connect(): Promise<void> {}
  async close(): Promise<void> {}

  count(collection: string, method: Method): number {
    return this.calls.filter((c) => c.collection === collection && c.method === method).length;
  }

  collection(name: string): Collection {
    const inner = this.inner.collection(name);
    const log = (method: Method, arg: unknown) => this.calls.push({ collection: name, method, arg });
    return {
      name,
      bulkWrite: (operations: readonly WriteOperation[]): Promise<BulkWriteResult> => (log('bulkWrite', operations), inner.bulkWrite(operations)),
      find: (filter: Filter, options?: FindOptions): Promise<Document[]> => (log('find', filter), inner.find(filter, options)),
      findOne: (filter: Filter): Promise<Document | null> => (log('findOne', filter), inner.findOne(filter)),
      count: (filter?: Filter) => inner.count(filter),
      createIndexes: (indexes: readonly IndexSpec[]) => (log('createIndexes', indexes), inner.createIndexes(indexes)),
      drop: () => inner.drop(),
      renameTo: (target: string) => inner.renameTo(target),
    };
  }
}
