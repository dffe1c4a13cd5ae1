/**
 * The store writes of one aggregated view, shared by the aggregate stage and the builders that
 * write views outside it (shadow builds, re-triggered drift), so a view is the same document
 * whoever writes it.
 *
 *   upsertOf(view, key, mapped, before, now)  --> { write: replace (or $set for upsert 'update'), after: the stored view, type: INSERT | UPDATE }
 *   deleteOf(view, key, now)                  --> delete (or $set __STATE__ DELETED for delete 'virtualDelete')
 */
import type { WriteOperation } from '../../store/types.js';
import type { Row } from '../cdc/change-event.js';
import { isLive, STATE } from '../projection/metadata.js';
import type { OperationType } from './events.js';
import type { SingleView } from './single-view.js';

export function upsertOf(view: SingleView, key: Row, mapped: Row, before: Row | null, at: Date): { write: WriteOperation; after: Row; type: OperationType } {
  // A `__STATE__` returned by map is kept (Fast Data SVC >= 5.0.0); otherwise the view is PUBLIC.
  const doc = { ...mapped, createdAt: isLive(before) ? before.createdAt : at, updatedAt: at, [STATE]: mapped[STATE] ?? 'PUBLIC' };
  const update = view.options.upsert === 'update';
  return {
    write: update ? { kind: 'upsert', filter: key, set: doc } : { kind: 'replace', filter: key, document: doc },
    // 'update' only sets the mapped fields: the view now stored is the old one with them set.
    after: update && before ? { ...before, ...doc } : doc,
    type: isLive(before) ? 'UPDATE' : 'INSERT',
  };
}

export function deleteOf(view: SingleView, key: Row, at: Date): WriteOperation {
  return view.options.delete === 'virtualDelete' ? { kind: 'upsert', filter: key, set: { [STATE]: 'DELETED', updatedAt: at } } : { kind: 'delete', filter: key };
}
