/**
 * Relations of a single view, declared from the base projection outwards:
 *
 *   include: {
 *     orders: hasMany(orders, { customer_id: 'customer_id' }, { include: { lines: hasMany(lines, { order_id: 'order_id' }) } }),
 *     prefs: hasOne(preferences, { customer_id: 'customer_id' }),
 *   }
 *
 * `on` maps a field of the included (target) projection to a field of its parent, as the ER
 * schema's `condition` does. The same declaration drives aggregation (parent → children) and the
 * strategy (changed child → parents → base), so the two can never disagree.
 */
import type { Projection } from '../projection/projection.js';
import type { RecordState } from '../projection/metadata.js';

export type Cardinality = 'one' | 'many';

export interface RelationOptions<I extends Includes> {
  /** Relations of the included projection (nested). */
  readonly include?: I;
  /** States of the included documents used by aggregation (default ['PUBLIC']). */
  readonly onStates?: readonly RecordState[];
}

export interface Relation<C extends Cardinality = Cardinality, D extends object = object, I extends Includes = Includes> {
  readonly cardinality: C;
  readonly target: Projection<D>;
  /** target field → parent field */
  readonly on: Readonly<Record<string, string>>;
  readonly include: I;
  readonly onStates: readonly RecordState[];
}

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface Includes extends Record<string, Relation<Cardinality, object, Includes>> {}

type DocOf<P> = P extends Projection<infer D> ? D : never;

// `NoInfer` on the results of hasOne / hasMany: written inline in `include`, the call is typed by
// its context (`Includes`), and inferring `I` from there gave nested includes an index signature,
// so a misspelt field of an included document type-checked. `I` comes from `options.include` only.

/** One related document (or null) per parent. */
export function hasOne<P extends Projection<object>, I extends Includes = Record<never, never>>(
  target: P,
  on: Partial<Record<keyof DocOf<P> & string, string>>,
  options: RelationOptions<I> = {},
): Relation<'one', DocOf<P>, NoInfer<I>> {
  return relation('one', target, on, options);
}

/** Every related document per parent, as an array ordered by the target's primary key. */
export function hasMany<P extends Projection<object>, I extends Includes = Record<never, never>>(
  target: P,
  on: Partial<Record<keyof DocOf<P> & string, string>>,
  options: RelationOptions<I> = {},
): Relation<'many', DocOf<P>, NoInfer<I>> {
  return relation('many', target, on, options);
}

function relation<C extends Cardinality, D extends object, I extends Includes>(
  cardinality: C,
  target: Projection<object>,
  on: Partial<Record<string, string>>,
  options: RelationOptions<I>,
): Relation<C, D, I> {
  const pairs = Object.entries(on).filter((e): e is [string, string] => typeof e[1] === 'string');
  return {
    cardinality,
    target: target as Projection<D>,
    on: Object.fromEntries(pairs),
    include: options.include ?? ({} as I),
    onStates: options.onStates ?? ['PUBLIC'],
  };
}

/** What `map` receives for one relation: documents with their own includes attached. */
export type Resolved<R> =
  R extends Relation<'many', infer D, infer I> ? Array<D & ResolvedIncludes<I>> : R extends Relation<'one', infer D, infer I> ? (D & ResolvedIncludes<I>) | null : never;

export type ResolvedIncludes<I> = { [K in keyof I]: Resolved<I[K]> };

/** A node of the include tree with its parent, for walking both ways. */
export interface RelationNode {
  readonly name: string;
  readonly path: readonly string[];
  readonly relation: Relation | null;
  readonly projection: Projection<object>;
  readonly parent: RelationNode | null;
  readonly children: RelationNode[];
}

export function relationTree(base: Projection<object>, include: Includes): RelationNode {
  const root: RelationNode = { name: '$base', path: [], relation: null, projection: base, parent: null, children: [] };
  const walk = (parent: RelationNode, includes: Includes) => {
    for (const [name, rel] of Object.entries(includes)) {
      const node: RelationNode = { name, path: [...parent.path, name], relation: rel, projection: rel.target, parent, children: [] };
      parent.children.push(node);
      walk(node, rel.include);
    }
  };
  walk(root, include);
  return root;
}

export function nodes(root: RelationNode): RelationNode[] {
  return [root, ...root.children.flatMap(nodes)];
}
