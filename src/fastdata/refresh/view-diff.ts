/**
 * Compares two collections of the same single view (the live one and a shadow) document by
 * document, ignoring what only says when or how a document was written (view-content.ts).
 * Views marked DELETED count as absent. Memory stays flat: both sides are read in `_id` pages and
 * matched by key with one `$in` per page; every difference can be handed to `onDifference`.
 *
 *   live {c1: A, c2: B}, shadow {c1: A', c3: C}  --diffViews-->  changed 1 (c1), removed 1 (c2), added 1 (c3), unchanged 0
 */
import type { DocumentStore } from '../../store/types.js';
import type { Row } from '../cdc/change-event.js';
import { isLive, keyString } from '../projection/metadata.js';
import { storedByKey } from '../stored-by-key.js';
import type { SingleView } from '../singleview/single-view.js';
import { contentOf } from '../singleview/view-content.js';

export { contentOf };

export type DifferenceKind = 'changed' | 'added' | 'removed';

export interface ViewDifference {
  readonly kind: DifferenceKind;
  readonly key: Row;
  /** The document in the first collection (null when added). */
  readonly live: Row | null;
  /** The document in the second collection (null when removed). */
  readonly shadow: Row | null;
}

export interface DiffSummary {
  readonly live: number;
  readonly shadow: number;
  readonly unchanged: number;
  readonly changed: number;
  readonly added: number;
  readonly removed: number;
  /** The first few differences of each kind, documents without `_id`. */
  readonly samples: { readonly changed: ViewDifference[]; readonly added: ViewDifference[]; readonly removed: ViewDifference[] };
}

export interface DiffOptions {
  readonly samples?: number;
  readonly batchSize?: number;
  readonly onDifference?: (difference: ViewDifference) => void | Promise<void>;
}

const plain = (doc: Row): Row => Object.fromEntries(Object.entries(doc).filter(([k]) => k !== '_id'));

export async function diffViews(view: SingleView, store: DocumentStore, liveName: string, shadowName: string, options: DiffOptions = {}): Promise<DiffSummary> {
  const keep = options.samples ?? 3;
  const batchSize = options.batchSize ?? 500;
  const fields = Object.keys(view.key);
  const keyOf = (doc: Row) => Object.fromEntries(fields.map((f) => [f, doc[f]]));
  const counts = { live: 0, shadow: 0, unchanged: 0, changed: 0, added: 0, removed: 0 };
  const samples: DiffSummary['samples'] = { changed: [], added: [], removed: [] };
  const record = async (difference: ViewDifference) => {
    counts[difference.kind]++;
    const list = samples[difference.kind];
    if (list.length < keep) list.push({ ...difference, live: difference.live && plain(difference.live), shadow: difference.shadow && plain(difference.shadow) });
    await options.onDifference?.(difference);
  };

  // Pass 1: every live view against its shadow twin (changed, removed, unchanged).
  for await (const page of pages(store, liveName, batchSize)) {
    const docs = page.filter(isLive);
    counts.live += docs.length;
    const twins = await storedByKey(store.collection(shadowName), fields, docs.map(keyOf));
    for (const doc of docs) {
      const twin = twins.get(keyString(keyOf(doc))) ?? null;
      if (!isLive(twin)) await record({ kind: 'removed', key: keyOf(doc), live: doc, shadow: null });
      else if (contentOf(doc) !== contentOf(twin)) await record({ kind: 'changed', key: keyOf(doc), live: doc, shadow: twin });
      else counts.unchanged++;
    }
  }
  // Pass 2: shadow views with no live twin (added).
  for await (const page of pages(store, shadowName, batchSize)) {
    const docs = page.filter(isLive);
    counts.shadow += docs.length;
    const twins = await storedByKey(store.collection(liveName), fields, docs.map(keyOf));
    for (const doc of docs) if (!isLive(twins.get(keyString(keyOf(doc))) ?? null)) await record({ kind: 'added', key: keyOf(doc), live: null, shadow: doc });
  }
  return { ...counts, samples };
}

async function* pages(store: DocumentStore, collection: string, batchSize: number): AsyncGenerator<Row[]> {
  let after: unknown;
  for (;;) {
    const docs = await store.collection(collection).find(after === undefined ? {} : { _id: { $gt: after } }, { sort: { _id: 1 }, limit: batchSize });
    if (docs.length === 0) return;
    after = docs.at(-1)?.['_id'];
    yield docs;
  }
}
