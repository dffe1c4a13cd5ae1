import { mergeMap, toArray } from 'rxjs';
import { TributaryError } from '../../errors.js';
import type { Document, Filter, WriteOperation } from '../../store/types.js';
import type { AnyRecord } from '../record.js';
import { defineOperator, DROPPED, guarded, type Operator } from './define.js';

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
export function toCollection<R extends AnyRecord>(collection: string, options: ToCollectionOptions<R>): Operator<R, R> {
  return defineOperator({ name: 'toCollection', kind: 'sink', target: collection, targetKind: 'collection' }, (context) => (source) =>
    source.pipe(
      toArray(),
      mergeMap(async (records) => {
        const store = context.store;
        if (!store) throw new TributaryError('TRB_CONFIG', `toCollection('${collection}') needs a document store (set MONGODB_URL or pass store)`);
        const latest = new Map<string, WriteOperation>();
        const kept: R[] = [];
        for (const record of records) {
          const op = guarded(context, record, 'TRB_PROCESS', (r): WriteOperation => {
            const filter = options.filter(r);
            const document = options.document(r);
            return document === null ? { kind: 'delete', filter } : { kind: 'replace', filter, document: { ...document, ...filter } };
          });
          if (op === DROPPED) continue;
          latest.set(JSON.stringify(op.filter), op);
          kept.push(record);
        }
        if (latest.size > 0) {
          const started = performance.now();
          await store.collection(collection).bulkWrite([...latest.values()]);
          context.observeStoreWrite(collection, (performance.now() - started) / 1000);
        }
        return kept;
      }),
      mergeMap((records) => records),
    ),
  );
}
