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
import { contentOf } from './view-content.js';
import { isSourceOfViews } from './view-source.js';

export function upsertOf(view: SingleView, key: Row, mapped: Row, before: Row | null, at: Date): { write: WriteOperation; after: Row; type: OperationType; eventBefore: Row | null } {
  // A `__STATE__` returned by map is kept (Fast Data SVC >= 5.0.0); otherwise the view is PUBLIC.
  // Object.assign, not spreads followed by new fields: one hidden class per view on Node 20 (see
  // next() in ../projection/plan-batch.ts).
  const doc: Row = Object.assign({}, mapped, { createdAt: isLive(before) ? before.createdAt : at, updatedAt: at, [STATE]: mapped[STATE] ?? 'PUBLIC' });
  const update = view.options.upsert === 'update';
  // 'update' only sets the mapped fields: the view now stored is the old one with them set.
  let after = update && before ? Object.assign({}, before, doc) : doc;
  let eventBefore = before;
  if (isSourceOfViews(view)) {
    // The sv-update's before image must survive a replay (view-source.ts): keep the previous one.
    const chained = chainedImages(before, after);
    doc[PREVIOUS] = chained.previous;
    after = Object.assign({}, after, { [PREVIOUS]: chained.previous });
    eventBefore = chained.eventBefore;
  }
  return {
    write: update ? { kind: 'upsert', filter: key, set: doc } : { kind: 'replace', filter: key, document: doc },
    after,
    type: isLive(before) ? 'UPDATE' : 'INSERT',
    eventBefore,
  };
}

/** Where a view others are built on keeps the scalar fields of its previous version. */
export const PREVIOUS = '__internal__previous';

/**
 * A view others are built on, written again with the same content, may be a replay of a batch that
 * wrote it and died before its sv-update was sent: the event then carries the previous version's
 * scalar fields (its join fields among them) as its before image, so the downstream view the change
 * left is still re-aggregated. A write that changes the content records the stored version's scalar
 * fields as the new previous one.
 *
 *   stored {o4, customer c1}  write {o4, customer c3}      --> previous {customer c1}, event before = stored
 *   stored {o4, c3, previous c1}  write {o4, c3} (replay)  --> previous kept, event before = {o4, customer c1}
 */
export function chainedImages(before: Row | null, after: Row): { previous: Row | null; eventBefore: Row | null } {
  if (!before) return { previous: null, eventBefore: null };
  const unchanged = isLive(before) && contentOf(before) === contentOf(after);
  if (unchanged) return { previous: (before[PREVIOUS] as Row | null | undefined) ?? null, eventBefore: previousImage(before) ?? before };
  const scalars = Object.fromEntries(Object.entries(before).filter(([k, v]) => !k.startsWith('_') && k !== PREVIOUS && (v === null || typeof v !== 'object' || v instanceof Date)));
  return { previous: scalars, eventBefore: before };
}

/** A stored view as it was before its last content change, when a replay kept that version in PREVIOUS; null when it holds none. */
export function previousImage(stored: Row): Row | null {
  const previous = stored[PREVIOUS];
  return previous !== null && typeof previous === 'object' ? { ...stored, ...(previous as Row) } : null;
}

export function deleteOf(view: SingleView, key: Row, at: Date): WriteOperation {
  return view.options.delete === 'virtualDelete' ? { kind: 'upsert', filter: key, set: { [STATE]: 'DELETED', updatedAt: at } } : { kind: 'delete', filter: key };
}
