/**
 * The version of a single view's definition: what blue/green refreshes compare to know which
 * definition a process runs. `version` when the declaration sets one; otherwise a fingerprint of
 * everything that shapes the documents — the include tree (projections, join fields, states,
 * cardinality), the key, the states of the base, the upsert/delete modes, and the source text of
 * `map` and `validate`.
 *
 *   singleView({ name: 'sv_customers', ..., map })              --> 'f3a9c0d1e2b4' (changes when map's text changes)
 *   singleView({ name: 'sv_customers', ..., version: '2024-06' }) --> '2024-06'
 *
 * The fingerprint sees only the functions' own text: a change in a helper that `map` calls does
 * not change it, and a different build (another transpiler) may. Set `version` to pin it.
 */
import { createHash } from 'node:crypto';
import type { RelationNode } from './relations.js';

interface VersionedParts {
  readonly version?: string;
  readonly key: Readonly<Record<string, string>>;
  readonly onStates?: readonly string[];
  readonly upsert?: string;
  readonly delete?: string;
  readonly map: unknown;
  readonly validate?: unknown;
}

export function definitionVersion(parts: VersionedParts, tree: RelationNode): string {
  if (parts.version !== undefined) return parts.version;
  const shape = {
    key: parts.key,
    onStates: parts.onStates ?? ['PUBLIC'],
    upsert: parts.upsert ?? 'replace',
    delete: parts.delete ?? 'delete',
    tree: treeShape(tree),
    map: String(parts.map),
    validate: parts.validate === undefined ? null : String(parts.validate),
  };
  return createHash('sha256').update(JSON.stringify(shape)).digest('hex').slice(0, 12);
}

function treeShape(node: RelationNode): unknown {
  const relation = node.relation ? { cardinality: node.relation.cardinality, on: node.relation.on, onStates: node.relation.onStates } : null;
  return { name: node.name, projection: node.projection.name, relation, children: node.children.map(treeShape) };
}
