/**
 * Relations of a single view, declared from the base projection outwards:
 *
 *   include: {
 *     orders: hasMany(orders, { customer_id: 'customer_id' }, { include: { lines: hasMany(lines, { order_id: 'order_id' }) } }),
 *     prefs: hasOne(preferences, { customer_id: 'customer_id' }),
 *   }
 *
 * `on` maps a field of the included (target) projection to a field of its parent, as the ER
 * schema's `condition` does. Both sides are checked: the keys against the target's fields when
 * `hasOne`/`hasMany` is called, the values against the parent's fields when `singleView()` sees the
 * tree (`CheckedIncludes` at compile time, `singleView()` again at run time). The same declaration
 * drives aggregation (parent → children) and the strategy (changed child → parents → base), so the
 * two can never disagree.
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

/** A join condition: target field → parent field. */
export type JoinOn = Readonly<Record<string, string>>;

export interface Relation<C extends Cardinality = Cardinality, D extends object = object, I extends Includes = Includes, On extends JoinOn = JoinOn> {
  readonly cardinality: C;
  readonly target: Projection<D>;
  /** target field → parent field (the field names as literal types, so the parent side can be checked) */
  readonly on: On;
  readonly include: I;
  readonly onStates: readonly RecordState[];
}

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface Includes extends Record<string, Relation<Cardinality, object, Includes>> {}

type DocOf<P> = P extends Projection<infer D> ? D : never;

/** The join fields written in `on`, without the `undefined` of the optional keys. */
type JoinOf<On> = { readonly [K in keyof On]-?: Exclude<On[K], undefined> & string };

// `NoInfer` on the results of hasOne / hasMany: written inline in `include`, the call is typed by
// its context (`Includes`), and inferring `I` from there gave nested includes an index signature,
// so a misspelt field of an included document type-checked. `I` comes from `options.include` only.
// `const On` keeps the parent-side field names as literals for `CheckedIncludes`.

/** One related document (or null) per parent. */
export function hasOne<P extends Projection<object>, const On extends Partial<Record<keyof DocOf<P> & string, string>>, I extends Includes = Record<never, never>>(
  target: P,
  on: On,
  options: RelationOptions<I> = {},
): Relation<'one', DocOf<P>, NoInfer<I>, JoinOf<On>> {
  return relation('one', target, on, options);
}

/** Every related document per parent, as an array ordered by the target's primary key. */
export function hasMany<P extends Projection<object>, const On extends Partial<Record<keyof DocOf<P> & string, string>>, I extends Includes = Record<never, never>>(
  target: P,
  on: On,
  options: RelationOptions<I> = {},
): Relation<'many', DocOf<P>, NoInfer<I>, JoinOf<On>> {
  return relation('many', target, on, options);
}

/** Field names of a document type; any name when the type does not list its fields (`object`, `Row`). */
type FieldOf<Doc> = string extends keyof Doc ? string : [keyof Doc] extends [never] ? string : keyof Doc & string;

/**
 * `I` with every join's parent-side field required to be a field of its parent (`Parent` for the
 * top level, each relation's target below it). `singleView()` intersects its `include` with it, so
 * `hasOne(authors, { author_id: 'autor_id' })` under a base without `autor_id` does not compile:
 * "Type '"autor_id"' is not assignable to type '"author_id" | "title" | ...'".
 */
export type CheckedIncludes<Parent, I> = {
  readonly [K in keyof I]: I[K] extends Relation<infer C, infer D, infer Nested, infer On>
    ? Relation<C, D, CheckedIncludes<D, Nested> & Includes, { readonly [F in keyof On]: On[F] extends FieldOf<Parent> ? On[F] : FieldOf<Parent> }>
    : I[K];
};

function relation<C extends Cardinality, D extends object, I extends Includes, On extends JoinOn>(
  cardinality: C,
  target: Projection<object>,
  on: Partial<Record<string, string>>,
  options: RelationOptions<I>,
): Relation<C, D, I, On> {
  const pairs = Object.entries(on).filter((e): e is [string, string] => typeof e[1] === 'string');
  return {
    cardinality,
    target: target as Projection<D>,
    on: Object.fromEntries(pairs) as On,
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
