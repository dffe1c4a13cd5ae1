/**
 * The automatic strategy, derived from the include tree: from the changed documents of any
 * projection in the tree (before AND after images, so an order moved from customer A to B updates
 * both), walk up to the base projection one batched hop at a time, and read the view keys there.
 *
 *   pr-update pr_order_lines {order_id: o1}  --> pr_orders {order_id: o1}  --> pr_customers {customer_id: c7}  --> key {customer_id: c7}
 */
import type { DocumentStore } from '../../store/types.js';
import type { Row } from '../cdc/change-event.js';
import { keyString } from '../projection/metadata.js';
import { findMatching, matches } from './lookups.js';
import { nodes, type RelationNode } from './relations.js';
import { viewKeyOf, type SingleView } from './single-view.js';
import { previousImage } from './view-writes.js';

export interface ChangedDocuments {
  readonly projection: string;
  readonly before: Row | null;
  readonly after: Row | null;
}

/** A view key to re-aggregate, with the index (in the changes given) of the newest change that affects it. */
export interface AffectedKey {
  readonly key: Row;
  readonly cause: number;
}

export async function affectedKeys(view: SingleView, changes: readonly ChangedDocuments[], store: DocumentStore): Promise<Row[]> {
  return (await affectedKeysWithCause(view, changes, store)).map((a) => a.key);
}

/** Like `affectedKeys`, and says which change caused each key (so a trigger names its own cause). */
export async function affectedKeysWithCause(view: SingleView, changes: readonly ChangedDocuments[], store: DocumentStore): Promise<AffectedKey[]> {
  const keys = new Map<string, AffectedKey>();
  const add = (key: Row | null, cause: number) => {
    if (!key) return;
    const k = keyString(key);
    const known = keys.get(k);
    if (!known || known.cause < cause) keys.set(k, { key: known?.key ?? key, cause });
  };

  const manual = view.options.strategies ?? {};
  const byProjection = new Map<string, Traced[]>();
  for (const [cause, c] of changes.entries()) {
    const strategy = manual[c.projection];
    if (!strategy) {
      const docs = byProjection.get(c.projection) ?? [];
      if (c.before) docs.push({ doc: c.before, cause });
      // An upstream view's before image may itself carry the version before it (view-writes.ts
      // previousImage): a replay that found the content changed again moved the older join fields there,
      // and the sv-update of that older change may never have been sent (a crash after its write).
      const previous = c.before ? previousImage(c.before) : null;
      if (previous) docs.push({ doc: previous, cause });
      if (c.after) docs.push({ doc: c.after, cause });
      byProjection.set(c.projection, docs);
      continue;
    }
    const found = await strategy(c, { find: (collection, filter) => store.collection(collection).find(filter) });
    for (const key of found) add(key, cause);
  }

  // A projection may appear at several places of the tree (e.g. the same table as two relations).
  for (const node of nodes(view.tree)) {
    const docs = byProjection.get(node.projection.name);
    if (!docs?.length) continue;
    for (const base of await walkUp(node, docs, store)) add(viewKeyOf(view, base.doc), base.cause);
  }
  return [...keys.values()];
}

/** A document reached from the changes, with the newest change it was reached from. */
interface Traced {
  readonly doc: Row;
  readonly cause: number;
}

async function walkUp(node: RelationNode, docs: Traced[], store: DocumentStore): Promise<Traced[]> {
  let current = docs;
  for (let n = node; n.parent && n.relation; n = n.parent) {
    // relation.on maps child field → parent field; going up we look for parents by those fields.
    const on = n.relation.on;
    const inverse = Object.fromEntries(Object.entries(on).map(([child, parent]) => [parent, child]));
    const children = current;
    const parents = await findMatching(store.collection(n.parent.projection.name), children.map((c) => c.doc), inverse);
    current = parents.map((doc) => ({ doc, cause: newest(children.filter((c) => matches(c.doc, doc, on))) ?? newest(children) ?? 0 }));
    if (current.length === 0) break;
  }
  return current;
}

function newest(traced: readonly Traced[]): number | undefined {
  let max: number | undefined;
  for (const t of traced) if (max === undefined || t.cause > max) max = t.cause;
  return max;
}
