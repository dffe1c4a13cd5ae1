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
import { findMatching } from './lookups.js';
import { nodes, type RelationNode } from './relations.js';
import { viewKeyOf, type SingleView } from './single-view.js';

export interface ChangedDocuments {
  readonly projection: string;
  readonly before: Row | null;
  readonly after: Row | null;
}

export async function affectedKeys(view: SingleView, changes: readonly ChangedDocuments[], store: DocumentStore): Promise<Row[]> {
  const keys = new Map<string, Row>();
  const add = (key: Row | null) => key && keys.set(keyString(key), key);

  const manual = view.options.strategies ?? {};
  const automatic: ChangedDocuments[] = [];
  for (const c of changes) {
    const strategy = manual[c.projection];
    if (!strategy) {
      automatic.push(c);
      continue;
    }
    const found = await strategy(c, { find: (collection, filter) => store.collection(collection).find(filter) });
    for (const key of found) add(key);
  }

  const byProjection = new Map<string, Row[]>();
  for (const c of automatic) {
    const docs = byProjection.get(c.projection) ?? [];
    if (c.before) docs.push(c.before);
    if (c.after) docs.push(c.after);
    byProjection.set(c.projection, docs);
  }
  // A projection may appear at several places of the tree (e.g. the same table as two relations).
  for (const node of nodes(view.tree)) {
    const docs = byProjection.get(node.projection.name);
    if (!docs?.length) continue;
    for (const base of await walkUp(node, docs, store)) add(viewKeyOf(view, base));
  }
  return [...keys.values()];
}

async function walkUp(node: RelationNode, docs: Row[], store: DocumentStore): Promise<Row[]> {
  let current = docs;
  for (let n = node; n.parent && n.relation; n = n.parent) {
    // relation.on maps child field → parent field; going up we look for parents by those fields.
    const inverse = Object.fromEntries(Object.entries(n.relation.on).map(([child, parent]) => [parent, child]));
    current = await findMatching(store.collection(n.parent.projection.name), current, inverse);
    if (current.length === 0) break;
  }
  return current;
}
