/**
 * The import's model of one single view: dependency nodes (which become the `include` tree of
 * `singleView()`), and the parsed mapping that the generated `map` evaluates.
 */
import type { RecordState } from '../projection/metadata.js';
import type { Where } from './where.js';

/** One relation of the include tree (a dependency, or one branch of a dependency's `_select`). */
export interface DepNode {
  /** Include name: `@<config>.<dependency>` (`#<n>` / `#default` for `_select` branches); never a document field. */
  readonly slot: string;
  readonly projection: string;
  readonly parent: DepNode | null;
  /** hasMany (join dependencies, and conditions with constants, filtered in `map`) or hasOne. */
  readonly many: boolean;
  /** target field → parent field */
  readonly on: Readonly<Record<string, string>>;
  /** target field → constant, checked in `map` */
  readonly constants: Readonly<Record<string, unknown>>;
  readonly onStates: readonly RecordState[];
  readonly children: DepNode[];
  readonly where: Where;
}

export type Operand = { readonly kind: 'const'; readonly value: unknown } | { readonly kind: 'path'; readonly dep: string; readonly path: readonly string[] } | { readonly kind: 'fn'; readonly name: string };

export type CompareOp = '==' | '!=' | '>' | '<' | '>=' | '<=';
export const COMPARE_OPS: readonly CompareOp[] = ['==', '!=', '>', '<', '>=', '<='];

export interface Comparison {
  readonly op: CompareOp;
  readonly left: Operand;
  readonly right: Operand;
}

export type Expr =
  | Operand
  | { readonly kind: 'object'; readonly fields: ReadonlyArray<readonly [string, Expr]> }
  | { readonly kind: 'select'; readonly options: ReadonlyArray<{ readonly when: Comparison; readonly value: Expr }>; readonly fallback: Expr | null };

export type DepPlan =
  | { readonly kind: 'projection'; readonly name: string; readonly alternatives: ReadonlyArray<{ readonly when: Comparison | null; readonly node: DepNode }> }
  | { readonly kind: 'config'; readonly name: string; readonly config: ConfigPlan };

export interface ConfigPlan {
  readonly name: string;
  /** The `joinDependency` (its node is `many`): the config maps to an array, one item per joined document. */
  readonly join: (DepPlan & { kind: 'projection' }) | null;
  /** In resolution order (`dependencyOrder`, else declaration order), without the base and the join dependency. */
  readonly deps: readonly DepPlan[];
  readonly mapping: Expr;
}

export interface ViewPlan {
  readonly name: string;
  readonly base: DepNode;
  readonly baseDependency: string;
  /** view field → base field (singleViewKey.json composed with identifierQueryMapping) */
  readonly key: Readonly<Record<string, string>>;
  /** view field → identifier field (singleViewKey.json) */
  readonly keyIdentifier: Readonly<Record<string, string>>;
  /** identifier field → base field */
  readonly identifierToBase: Readonly<Record<string, string>>;
  readonly root: ConfigPlan;
}
