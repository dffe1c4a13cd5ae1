/**
 * Patch fan-out (Fast Data's Single View Patch, declared in code): the fields of a view that come
 * from one related projection are updated in place, with one positional update for every view that
 * embeds the changed document, instead of re-aggregating each of those views.
 *
 *   patch: [patchFrom(products, { at: 'orders[].lines[]', match: { sku: 'sku' }, set: { productName: 'name' } })]
 *
 *   pr-update pr_products {sku: T1, name: 'Tea'} (an update, still PUBLIC, sku unchanged)
 *     --> updateMany sv_customers { 'orders.lines.sku': 'T1' }
 *           $set { 'orders.$[a0].lines.$[a1].productName': 'Tea', __internal__patch: {…}, updatedAt }
 *           arrayFilters [{ 'a0.lines.sku': 'T1' }, { 'a1.sku': 'T1' }]
 *
 * The declaration is a promise the view's `map` keeps: the projection's documents reach the view
 * only at `at`, each element holding the `match` fields of the document it came from and copying
 * the `set` fields unchanged. Anything else — an insert, a delete, a change of state, of the match
 * or join fields — is re-aggregated as usual.
 *
 * Patches and aggregations of the same views never lose each other's work: a patch stamps every
 * view it changes (`__internal__patch.id`), and the aggregate stage of a view with patch rules reads
 * its stored views *before* the projections and writes each only if its stamp is still the one it
 * read; otherwise the write conflicts (retriable) and the batch is aggregated again from fresh
 * projections. So an aggregation that read a projection before a patch never overwrites the patch.
 * A patch that ran while a view did not embed the document yet (its aggregation, started by the
 * document's insert, had read the old values and not written) matched nothing and stamped nothing:
 * so after writing, the aggregate stage reads the patchable documents it joined again
 * (`patchedSince`); if a rule's fields changed meanwhile, the batch is aggregated again. A patch
 * that comes after that read finds the view embedding the document.
 */
import { randomUUID } from 'node:crypto';
import { TributaryError } from '../../errors.js';
import type { BulkWriteResult, DocumentStore, Filter, IndexSpec, WriteOperation } from '../../store/types.js';
import type { Row } from '../cdc/change-event.js';
import type { Projection } from '../projection/projection.js';
import { keyString } from '../projection/metadata.js';
import { findMatching, matches } from './lookups.js';
import { nodes, type RelationNode } from './relations.js';
import type { SingleView } from './single-view.js';

export const PATCH_FIELD = '__internal__patch';

type DocOf<P> = P extends Projection<infer D> ? D : never;

export interface PatchRule<P extends Projection<object> = Projection<object>> {
  readonly projection: P;
  /** Where the projection's values sit in the view: 'orders[].lines[]', 'orders[].product', 'favourite', '' (the view itself). */
  readonly at: string;
  /** Element field → projection field: which elements hold this projection document. */
  readonly match: Readonly<Record<string, keyof DocOf<P> & string>>;
  /** Element field → projection field: the values `map` copies from it. */
  readonly set: Readonly<Record<string, keyof DocOf<P> & string>>;
}

export function patchFrom<P extends Projection<object>>(projection: P, rule: Omit<PatchRule<P>, 'projection'>): PatchRule<P> {
  return { projection, ...rule };
}

/** Any rule, as the runtime sees it (field names as plain strings). */
export interface AnyPatchRule {
  readonly projection: Projection<object>;
  readonly at: string;
  readonly match: Readonly<Record<string, string>>;
  readonly set: Readonly<Record<string, string>>;
}

interface Segment {
  readonly name: string;
  readonly array: boolean;
}

/** A rule turned into store paths, checked against the view's include tree. */
export interface CompiledPatch {
  readonly rule: AnyPatchRule;
  /** Every place of the include tree the projection is joined at. */
  readonly nodes: readonly RelationNode[];
  /** Element field → dotted path to filter views on ('orders.lines.sku'). */
  readonly filterPaths: Readonly<Record<string, string>>;
  /** Element field → positional path to set ('orders.$[a0].lines.$[a1].productName'). */
  readonly setPaths: Readonly<Record<string, string>>;
  /**
   * One entry per array `at` walks: its identifier and, per match field, the path inside its elements
   * ('a0' → 'lines.sku', 'a1' → 'sku'). Every array is filtered, not only the last: an element that
   * cannot hold the row is never walked (DocumentDB turns `$[]` over an empty inner array with
   * `$[e]` below into `[null]`; MongoDB would refuse an element missing the inner array).
   */
  readonly arrays: ReadonlyArray<{ readonly id: string; readonly paths: Readonly<Record<string, string>> }>;
}


export function compilePatches(view: { readonly name: string; readonly tree: RelationNode }, rules: readonly AnyPatchRule[]): CompiledPatch[] {
  return rules.map((rule) => {
    const where = `patch rule for ${rule.projection.name} of single view '${view.name}'`;
    const joined = nodes(view.tree).filter((n) => n.relation && n.projection.name === rule.projection.name);
    if (joined.length === 0) throw new TributaryError('TRB_TOPOLOGY', `${where}: ${rule.projection.name} is not a relation of the view (patch rules are for included projections)`);
    if (Object.keys(rule.match).length === 0 || Object.keys(rule.set).length === 0) throw new TributaryError('TRB_TOPOLOGY', `${where}: needs at least one match and one set field`);
    const segments: Segment[] = rule.at === '' ? [] : rule.at.split('.').map((part) => {
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(\[\])?$/.exec(part);
      if (!m) throw new TributaryError('TRB_TOPOLOGY', `${where}: 'at' segment '${part}' must be a field name, with [] for an array ('orders[].lines[]')`);
      return { name: m[1] as string, array: m[2] === '[]' };
    });
    const id = (i: number) => `a${i}`;
    const positional = segments.map((s, i) => (s.array ? `${s.name}.$[${id(i)}]` : s.name));
    const dotted = segments.map((s) => s.name);
    const fields = (record: Readonly<Record<string, string>>, path: (field: string) => string) => Object.fromEntries(Object.keys(record).map((f) => [f, path(f)]));
    return {
      rule,
      nodes: joined,
      filterPaths: fields(rule.match, (f) => [...dotted, f].join('.')),
      setPaths: fields(rule.set, (f) => [...positional, f].join('.')),
      arrays: segments.flatMap((s, i) => (s.array ? [{ id: id(i), paths: fields(rule.match, (f) => [...dotted.slice(i + 1), f].join('.')) }] : [])),
    };
  });
}

/** A change as the trigger stage reads it. */
export interface PatchableChange {
  readonly projection: string;
  readonly type: string;
  readonly before: Row | null;
  readonly after: Row | null;
}

/**
 * Splits a batch's changes: the documents every change of which a rule can patch (per primary key;
 * the last image wins), and the changes to re-aggregate as usual.
 */
export function planPatches<C extends PatchableChange>(patches: readonly CompiledPatch[], changes: readonly C[]): { readonly patch: Array<{ readonly patch: CompiledPatch; readonly after: Row }>; readonly rest: C[] } {
  if (patches.length === 0) return { patch: [], rest: [...changes] };
  const byProjection = new Map(patches.map((p) => [p.rule.projection.name, patches.filter((q) => q.rule.projection.name === p.rule.projection.name)]));
  const groups = new Map<string, C[]>();
  const rest: C[] = [];
  for (const change of changes) {
    const rules = byProjection.get(change.projection);
    const doc = change.after ?? change.before;
    if (!rules || !doc) {
      rest.push(change);
      continue;
    }
    const key = `${change.projection}\u0000${keyString(Object.fromEntries(rules[0]!.rule.projection.primaryKey.map((k) => [k, doc[k]])))}`;
    groups.set(key, [...(groups.get(key) ?? []), change]);
  }
  const patch: Array<{ patch: CompiledPatch; after: Row }> = [];
  for (const group of groups.values()) {
    const rules = byProjection.get(group[0]!.projection) as CompiledPatch[];
    if (!group.every((c) => rules.every((r) => patchable(r, c)))) {
      rest.push(...group);
      continue;
    }
    const after = group.at(-1)!.after as Row;
    for (const rule of rules) patch.push({ patch: rule, after });
  }
  return { patch, rest };
}

/**
 * An update of a document the view keeps including, in the same places (every place the projection
 * is joined at): nothing but `set` values can have changed in the view.
 */
function patchable(patch: CompiledPatch, change: PatchableChange): boolean {
  const { before, after } = change;
  if (change.type !== 'UPDATE' || !before || !after) return false;
  const kept = (fields: readonly string[]) => matches(after, before, Object.fromEntries(fields.map((f) => [f, f])));
  if (!kept(Object.values(patch.rule.match)) || !kept(patch.rule.projection.primaryKey)) return false;
  return patch.nodes.every((node) => {
    const states = (node.relation?.onStates ?? []) as readonly unknown[];
    return states.includes(before['__STATE__'] ?? 'PUBLIC') && states.includes(after['__STATE__'] ?? 'PUBLIC') && kept(Object.keys(node.relation?.on ?? {}));
  });
}

/** One positional update per patched document. */
export function patchWrite(patch: CompiledPatch, after: Row, stamp: { readonly id: string; readonly at: Date }): WriteOperation {
  const filter: Filter = Object.fromEntries(Object.entries(patch.filterPaths).map(([field, path]) => [path, after[patch.rule.match[field] as string]]));
  const set: Row = Object.fromEntries(Object.entries(patch.setPaths).map(([field, path]) => [path, after[patch.rule.set[field] as string] ?? null]));
  const primaryKey = Object.fromEntries(patch.rule.projection.primaryKey.map((k) => [k, after[k]]));
  return {
    kind: 'updateMany',
    filter,
    set: Object.assign(set, { [PATCH_FIELD]: { id: stamp.id, projection: patch.rule.projection.name, key: primaryKey, at: stamp.at }, updatedAt: stamp.at }),
    ...(patch.arrays.length > 0
      ? { arrayFilters: patch.arrays.map((a) => Object.fromEntries(Object.entries(a.paths).map(([field, path]) => [`${a.id}.${path}`, after[patch.rule.match[field] as string]]))) }
      : {}),
  };
}

/** Applies the patches in one bulk write; returns the stamp ids (to find the patched views). */
export async function applyPatches(view: SingleView, planned: ReadonlyArray<{ readonly patch: CompiledPatch; readonly after: Row }>, store: DocumentStore, at: Date): Promise<{ readonly ids: string[]; readonly result: BulkWriteResult | null }> {
  if (planned.length === 0) return { ids: [], result: null };
  const ids: string[] = planned.map(() => randomUUID());
  const result = await store.collection(view.name).bulkWrite(planned.map((p, i) => patchWrite(p.patch, p.after, { id: ids[i] as string, at })));
  return { ids, result };
}

/** The indexes a view's patch rules filter on (multikey through arrays). */
export function patchIndexes(patches: readonly CompiledPatch[]): IndexSpec[] {
  const out = new Map<string, IndexSpec>();
  for (const p of patches) {
    const fields = Object.values(p.filterPaths);
    const name = `patch_${fields.join('_').replace(/\./g, '_')}`;
    out.set(name, { name, fields: Object.fromEntries(fields.map((f) => [f, 1 as const])) });
  }
  return [...out.values()];
}

/**
 * The aggregate stage's writes of a view with patch rules, made conditional on the patch stamp each
 * view had when the batch read it (before reading the projections).
 */
export function guardedWrites(writes: readonly WriteOperation[], existing: ReadonlyMap<string, Row>, keyFields: readonly string[]): WriteOperation[] {
  return writes.map((write) => {
    if (write.kind === 'updateMany' || write.kind === 'insert') return write; // views are never inserted blind
    const key = Object.fromEntries(keyFields.map((f) => [f, write.filter[f]]));
    const stamp = (existing.get(keyString(key))?.[PATCH_FIELD] as { id?: unknown } | undefined)?.id;
    // Object.assign for the filter: a spread given a new field is one hidden class per view on Node 20 (../projection/plan-batch.ts).
    return { ...write, filter: Object.assign({}, write.filter, { [`${PATCH_FIELD}.id`]: stamp === undefined ? { $exists: false } : stamp }) };
  });
}

/** A conditional delete that matched nothing lost a race with a patch: the batch must be aggregated again. */
export function assertNoPatchRace(view: string, writes: readonly WriteOperation[], existing: ReadonlyMap<string, Row>, keyFields: readonly string[], result: BulkWriteResult): void {
  const expected = writes.filter((w) => w.kind === 'delete' && existing.has(keyString(Object.fromEntries(keyFields.map((f) => [f, w.filter[f]]))))).length;
  if (result.deleted < expected) {
    throw new TributaryError('TRB_STORE_WRITE', `a patch changed views of ${view} while their batch was aggregated: aggregating it again`, { retriable: true, context: { view } });
  }
}

/**
 * What an aggregation of a view with patch rules joined from the patched projections: per
 * projection, each document's primary key → the values its rules match and set.
 */
export class PatchableReads {
  readonly #fields = new Map<string, { readonly projection: AnyPatchRule['projection']; readonly fields: readonly string[] }>();
  readonly #read = new Map<string, Map<string, Row>>();

  constructor(patches: readonly CompiledPatch[]) {
    for (const p of patches) {
      const known = this.#fields.get(p.rule.projection.name)?.fields ?? [];
      const fields = [...new Set([...known, ...Object.values(p.rule.match), ...Object.values(p.rule.set)])];
      this.#fields.set(p.rule.projection.name, { projection: p.rule.projection, fields });
    }
  }

  /** assemble()'s `joined`: keeps the documents of patched projections. */
  readonly joined = (projection: string, docs: readonly Row[]): void => {
    const spec = this.#fields.get(projection);
    if (!spec) return;
    const read = this.#read.get(projection) ?? new Map<string, Row>();
    for (const doc of docs) read.set(keyString(primaryKeyOf(spec.projection, doc)), doc);
    this.#read.set(projection, read);
  };

  /**
   * Whether a document joined (and written into views) has since had a field of its rules changed:
   * a patch of it may have found no view to patch. One `$in` per patched projection.
   */
  async patchedSince(store: DocumentStore): Promise<boolean> {
    for (const [projection, read] of this.#read) {
      const spec = this.#fields.get(projection);
      if (!spec || read.size === 0) continue;
      const identity = Object.fromEntries(spec.projection.primaryKey.map((k) => [k, k]));
      const now = await findMatching(store.collection(projection), [...read.values()], identity);
      for (const doc of now) {
        const before = read.get(keyString(primaryKeyOf(spec.projection, doc)));
        if (before && spec.fields.some((f) => !sameValue(before[f], doc[f]))) return true;
      }
    }
    return false;
  }
}

const primaryKeyOf = (projection: AnyPatchRule['projection'], doc: Row): Row => Object.fromEntries(projection.primaryKey.map((k) => [k, doc[k]]));
const sameValue = (a: unknown, b: unknown): boolean => a === b || JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
