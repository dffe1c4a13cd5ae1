/**
 * Aggregation for a batch of view keys: one `$in` query on the base, then one per relation of the
 * include tree, then `map` and `validate` per view. No query is ever made per view.
 *
 *   keys [{customer_id: c1}, {customer_id: c2}]
 *     --> find pr_customers {customer_id $in [c1, c2]}
 *     --> find pr_orders {customer_id $in [...]} --> find pr_order_lines {order_id $in [...]} ...
 *     --> [{key, view | null (delete), error?}]
 */
import type { DocumentStore } from '../../store/types.js';
import type { Row } from '../cdc/change-event.js';
import { keyString, STATE, withoutId } from '../projection/metadata.js';
import { findMatching, relatedIndex } from './lookups.js';
import type { RelationNode } from './relations.js';
import { baseFilterOf, viewKeyOf, type SingleView } from './single-view.js';

export type AssemblyOutcome =
  | { readonly key: Row; readonly kind: 'upsert'; readonly view: Row }
  | { readonly key: Row; readonly kind: 'delete'; readonly reason: 'NO_BASE' | 'VALIDATION_ERROR' }
  | { readonly key: Row; readonly kind: 'error'; readonly error: Error };

export async function assemble(view: SingleView, keys: readonly Row[], store: DocumentStore): Promise<AssemblyOutcome[]> {
  const baseStates = view.options.onStates ?? ['PUBLIC'];
  const baseCollection = store.collection(view.tree.projection.name);
  const baseFilters = keys.map((k) => baseFilterOf(view, k));
  const identity = Object.fromEntries(Object.keys(baseFilters[0] ?? {}).map((f) => [f, f]));
  // The state is checked here, not in the query: DocumentDB evaluates a second condition per
  // document at about three times the cost of the key's $in alone, and rows in other states are few.
  const bases = (await findMatching(baseCollection, baseFilters, identity)).filter((d) => baseStates.includes(d[STATE] as never));
  const byKey = new Map<string, Row>();
  for (const b of bases) {
    const k = viewKeyOf(view, b);
    if (k) byKey.set(keyString(k), withoutId(b) as Row);
  }
  await attach(view.tree, [...byKey.values()], store);

  return keys.map((key): AssemblyOutcome => {
    const base = byKey.get(keyString(key));
    if (!base) return { key, kind: 'delete', reason: 'NO_BASE' };
    try {
      const input: Row = { base: Object.fromEntries(Object.entries(base).filter(([k]) => !k.startsWith('\u0000'))) };
      for (const child of view.tree.children) input[child.name] = base[childSlot(child)];
      const mapped = view.options.map(input as never) as Row;
      if (view.options.validate && !view.options.validate(mapped)) return { key, kind: 'delete', reason: 'VALIDATION_ERROR' };
      return { key, kind: 'upsert', view: { ...mapped, ...key } };
    } catch (error) {
      return { key, kind: 'error', error: error as Error };
    }
  });
}

/** Included documents are attached to their parent under a private slot, so `map` sees them as siblings of `base`. */
const childSlot = (node: RelationNode) => `\u0000${node.name}`;

async function attach(parentNode: RelationNode, parents: Row[], store: DocumentStore): Promise<void> {
  for (const child of parentNode.children) {
    const relation = child.relation;
    if (!relation) continue;
    // The state is checked below, not in the query (as for the bases above).
    const found = parents.length === 0 ? [] : await findMatching(store.collection(child.projection.name), parents, relation.on);
    const docs = found.filter((d) => relation.onStates.includes(d[STATE] as never)).map((d) => withoutId(d) as Row);
    docs.sort(byPrimaryKey(child.projection.primaryKey));
    await attach(child, docs, store);
    const relatedTo = relatedIndex(docs, relation.on);
    for (const parent of parents) {
      const related = relatedTo(parent).map((d) => exposeIncludes(child, d));
      parent[childSlot(child)] = relation.cardinality === 'many' ? related : (related[0] ?? null);
    }
  }
}

/** A nested document shows its own includes under their names, as `Resolved<>` types them. */
function exposeIncludes(node: RelationNode, doc: Row): Row {
  if (node.children.length === 0) return doc;
  const out: Row = { ...doc };
  for (const c of node.children) {
    out[c.name] = doc[childSlot(c)];
    delete out[childSlot(c)];
  }
  return out;
}

function byPrimaryKey(primaryKey: readonly string[]) {
  return (a: Row, b: Row): number => {
    for (const k of primaryKey) {
      const x = a[k] as string | number;
      const y = b[k] as string | number;
      if (x < y) return -1;
      if (x > y) return 1;
    }
    return 0;
  };
}
