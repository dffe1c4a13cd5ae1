/**
 * Aggregation for a batch of view keys: one `$in` query on the base, then one per relation of the
 * include tree, then `map` and `validate` per view. No query is ever made per view.
 *
 *   keys [{customer_id: c1}, {customer_id: c2}]
 *     --> find pr_customers {customer_id $in [c1, c2]}
 *     --> find pr_orders {customer_id $in [...]} --> find pr_order_lines {order_id $in [...]} ...
 *     --> map (sync or async, at most mapConcurrency at once, each within maxAggregationMs) --> validate
 *     --> [{key, view | null (delete), error?}]   (in the order of the keys)
 */
import { isPromiseLike } from '../../stream/operators/define.js';
import type { DocumentStore } from '../../store/types.js';
import type { Row } from '../cdc/change-event.js';
import { keyString, STATE, withoutId } from '../projection/metadata.js';
import { AggregationError, aggregationErrorOf } from './aggregation-errors.js';
import { findMatching, relatedIndex } from './lookups.js';
import type { RelationNode } from './relations.js';
import { baseFilterOf, viewKeyOf, type SingleView } from './single-view.js';

export type AssemblyOutcome =
  | { readonly key: Row; readonly kind: 'upsert'; readonly view: Row }
  | { readonly key: Row; readonly kind: 'delete'; readonly reason: 'NO_BASE' | 'VALIDATION_ERROR' }
  | { readonly key: Row; readonly kind: 'error'; readonly error: AggregationError };

/** Told, per relation of the include tree, the projection documents joined into the views (after the state filter). */
export type JoinedDocs = (projection: string, docs: readonly Row[]) => void;

export async function assemble(view: SingleView, keys: readonly Row[], store: DocumentStore, joined?: JoinedDocs): Promise<AssemblyOutcome[]> {
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
  await attach(view.tree, [...byKey.values()], store, joined);

  const concurrency = view.options.mapConcurrency ?? 8;
  const limitMs = view.options.maxAggregationMs ?? 60_000;
  return inKeyOrder(keys, concurrency, (key): AssemblyOutcome | Promise<AssemblyOutcome> => {
    const base = byKey.get(keyString(key));
    if (!base) return { key, kind: 'delete', reason: 'NO_BASE' };
    const input: Row = { base: Object.fromEntries(Object.entries(base).filter(([k]) => !k.startsWith('\u0000'))) };
    for (const child of view.tree.children) input[child.name] = base[childSlot(child)];
    return mapOne(view, key, input, limitMs);
  });
}

/**
 * `map` then `validate` for one key. A synchronous map stays synchronous (no timer, no microtask:
 * the common case costs nothing more); a promise is raced against `limitMs`.
 */
function mapOne(view: SingleView, key: Row, input: Row, limitMs: number): AssemblyOutcome | Promise<AssemblyOutcome> {
  const abort = new AbortController();
  try {
    const mapped = view.options.map(input as never, { key, signal: abort.signal });
    const outcome = isPromiseLike(mapped) ? Promise.resolve(mapped).then((m) => validated(view, key, m)) : validated(view, key, mapped);
    if (!isPromiseLike(outcome)) return outcome;
    return withDeadline(Promise.resolve(outcome), limitMs, abort, view.name).catch((error: unknown) => failed(key, error));
  } catch (error) {
    return failed(key, error);
  }
}

function validated(view: SingleView, key: Row, mapped: unknown): AssemblyOutcome | Promise<AssemblyOutcome> {
  if (typeof mapped !== 'object' || mapped === null || Array.isArray(mapped)) {
    throw new AggregationError('NO_SV_GENERATED', `map() produced no single view (${mapped === null ? 'null' : Array.isArray(mapped) ? 'an array' : typeof mapped})`);
  }
  const valid = view.options.validate ? view.options.validate(mapped) : true;
  const outcome = (ok: boolean): AssemblyOutcome => (ok ? { key, kind: 'upsert', view: Object.assign({}, mapped as Row, key) } : { key, kind: 'delete', reason: 'VALIDATION_ERROR' });
  return isPromiseLike(valid) ? Promise.resolve(valid).then(outcome) : outcome(valid);
}

const failed = (key: Row, error: unknown): AssemblyOutcome => ({ key, kind: 'error', error: aggregationErrorOf(error) });

function withDeadline<T>(work: Promise<T>, limitMs: number, abort: AbortController, view: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      const error = new AggregationError('SINGLE_VIEW_AGGREGATION_MAX_TIME', `aggregation of ${view} exceeded maxAggregationMs (${limitMs} ms)`);
      abort.abort(error);
      reject(error);
    }, limitMs);
  });
  // race() handles a late rejection of `work` too, so an abandoned map can never become unhandled.
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/** fn over items, at most `limit` pending at once, results in the items' order (so writes stay in key order). */
async function inKeyOrder<T, R>(items: readonly T[], limit: number, fn: (item: T) => R | Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      const result = fn(items[i] as T);
      out[i] = isPromiseLike(result) ? await result : result;
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Included documents are attached to their parent under a private slot, so `map` sees them as siblings of `base`. */
const childSlot = (node: RelationNode) => `\u0000${node.name}`;

/**
 * Sibling includes are read one after the other, not at once: on DocumentDB with both cores busy,
 * reading them together made each aggregate batch slower (102–160 ms against 63 ms) and the end to
 * end p99 worse (545–1 417 ms against 393 ms at 1 000 events/s; docs/benchmarks.md, run 20261207T021734).
 */
async function attach(parentNode: RelationNode, parents: Row[], store: DocumentStore, joined: JoinedDocs | undefined): Promise<void> {
  for (const child of parentNode.children) {
    const relation = child.relation;
    if (!relation) continue;
    // The state is checked below, not in the query (as for the bases above).
    const found = parents.length === 0 ? [] : await findMatching(store.collection(child.projection.name), parents, relation.on);
    const docs = found.filter((d) => relation.onStates.includes(d[STATE] as never)).map((d) => withoutId(d) as Row);
    docs.sort(byPrimaryKey(child.projection.primaryKey));
    joined?.(child.projection.name, docs);
    await attach(child, docs, store, joined);
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
