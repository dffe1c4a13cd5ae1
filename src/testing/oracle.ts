/**
 * The oracle: recomputes every single view from the final projection collections with plain
 * in-memory joins (no batching, no strategies, no incremental state), so the maintained views can be
 * compared to what they must be. Deliberately independent of assemble.ts except for the user's own
 * `map` and `validate`.
 *
 *   projections (full collections)  --computeViews(view)-->  Map<key, view document>
 */
import type { Row } from '../fastdata/cdc/change-event.js';
import type { RelationNode } from '../fastdata/singleview/relations.js';
import type { SingleView } from '../fastdata/singleview/single-view.js';
import type { DocumentStore } from '../store/types.js';

const METADATA = new Set(['_id', 'createdAt', 'updatedAt', '__STATE__', '__internal__counter', '__internal__counterType', '__internal__kafkaInfo', '__internal__patch', '__internal__previous']);

function related(doc: Row, parent: Row, on: Readonly<Record<string, string>>): boolean {
  return Object.entries(on).every(([field, parentField]) => parent[parentField] !== undefined && parent[parentField] !== null && doc[field] === parent[parentField]);
}

function strip(doc: Row): Row {
  return Object.fromEntries(Object.entries(doc).filter(([k]) => k !== '_id'));
}

function resolve(node: RelationNode, parent: Row, all: Map<string, Row[]>): unknown {
  const rel = node.relation;
  if (!rel) return null;
  const docs = (all.get(node.projection.name) ?? [])
    .filter((d) => rel.onStates.includes(d.__STATE__ as never) && related(d, parent, rel.on))
    .sort((a, b) => compareKeys(a, b, node.projection.primaryKey))
    .map((d) => {
      const out: Row = strip(d);
      for (const child of node.children) out[child.name] = resolve(child, d, all);
      return out;
    });
  return rel.cardinality === 'many' ? docs : (docs[0] ?? null);
}

function compareKeys(a: Row, b: Row, keys: readonly string[]): number {
  for (const k of keys) {
    const x = a[k] as string | number;
    const y = b[k] as string | number;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** Every view that must exist, keyed by JSON of its key, computed from the store's projections. */
export async function computeViews(view: SingleView, store: DocumentStore): Promise<Map<string, Row>> {
  const all = new Map<string, Row[]>();
  for (const p of view.projections) all.set(p.name, await store.collection(p.name).find({}));
  const states = view.options.onStates ?? ['PUBLIC'];
  const out = new Map<string, Row>();
  for (const base of all.get(view.tree.projection.name) ?? []) {
    if (!states.includes(base.__STATE__ as never)) continue;
    const key = Object.fromEntries(Object.entries(view.key).map(([vf, bf]) => [vf, base[bf]]));
    const input: Row = { base: strip(base) };
    for (const child of view.tree.children) input[child.name] = resolve(child, base, all);
    const mapped = (await view.options.map(input as never, { key, signal: new AbortController().signal })) as Row;
    if (view.options.validate && !(await view.options.validate(mapped))) continue;
    out.set(JSON.stringify(key), { ...mapped, ...key });
  }
  return out;
}

/** The maintained views as the oracle sees them: live documents without store metadata. */
export async function storedViews(view: SingleView, store: DocumentStore): Promise<Map<string, Row>> {
  const out = new Map<string, Row>();
  for (const doc of await store.collection(view.name).find({})) {
    if (doc.__STATE__ === 'DELETED') continue;
    const key = Object.fromEntries(Object.keys(view.key).map((k) => [k, doc[k]]));
    out.set(JSON.stringify(key), Object.fromEntries(Object.entries(doc).filter(([k]) => !METADATA.has(k))));
  }
  return out;
}
