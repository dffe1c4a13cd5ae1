import type { Document, Filter, WriteOperation } from '../../store/types.js';
import type { AnyRecord } from '../record.js';
import { defineBatchOperator } from './batch.js';
import type { Operator } from './define.js';

export interface ToCollectionOptions<R> {
  /** Identifies the stored document of a record (usually its primary key). */
  readonly filter: (record: R) => Filter;
  /** The document to upsert, or `null` to delete it. */
  readonly document: (record: R) => Document | null;
}

/**
 * Sink: one bulk write per batch to a document-store collection, acknowledged before the batch
 * commits. Records of the same filter inside a batch are compacted: only the last one is written.
 * Records pass through after the write.
 *
 *   {key: 'c-1', value: {...}} x3  --toCollection('customers', { filter, document })-->  (same records)
 *                                  ~~> one bulkWrite: upsert/replace or delete per distinct filter
 */
/** What one record asks of the collection: its document replaced, or deleted. */
type KeyedWrite = Extract<WriteOperation, { kind: 'replace' | 'delete' }>;

export function toCollection<R extends AnyRecord>(collection: string, options: ToCollectionOptions<R>): Operator<R, R> {
  return defineBatchOperator<R, KeyedWrite, R>({
    name: 'toCollection',
    needs: { store: true },
    writes: [{ kind: 'collection', name: collection }],
    decodeCode: 'TRB_PROCESS',
    decode(record) {
      const filter = options.filter(record);
      const document = options.document(record);
      return document === null ? { kind: 'delete', filter } : { kind: 'replace', filter, document: Object.assign({}, document, filter) };
    },
    async work({ kept, items }, io) {
      const latest = new Map<string, KeyedWrite>();
      for (const op of items) latest.set(JSON.stringify(op.filter), op);
      await io.write(collection, [...latest.values()]);
      return kept;
    },
  });
}
