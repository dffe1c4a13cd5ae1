/**
 * Batched joins: every hop is one `$in` query for the whole batch, whatever the number of views.
 * Multi-field conditions use `$in` per field and an exact match in memory.
 */
import type { Collection } from '../../store/types.js';
import type { Row } from '../cdc/change-event.js';
import { keyString } from '../projection/metadata.js';

/** Documents of `collection` whose fields equal, for some source doc, the mapped source fields. */
export async function findMatching(
  collection: Collection,
  sources: readonly Row[],
  /** collection field → source field */
  on: Readonly<Record<string, string>>,
  extra: Record<string, unknown> = {},
): Promise<Row[]> {
  const pairs = Object.entries(on);
  const wanted = new Set<string>();
  const values = new Map<string, Set<unknown>>(pairs.map(([field]) => [field, new Set()]));
  for (const s of sources) {
    const tuple = pairs.map(([, sourceField]) => s[sourceField]);
    // A condition whose fields are missing on the source matches nothing (Fast Data SVC 5.6.3 fix).
    if (tuple.some((v) => v === undefined || v === null)) continue;
    wanted.add(keyString(Object.fromEntries(pairs.map(([field], i) => [field, tuple[i]]))));
    pairs.forEach(([field], i) => values.get(field)?.add(tuple[i]));
  }
  if (wanted.size === 0) return [];
  const filter: Record<string, unknown> = { ...extra };
  for (const [field, set] of values) filter[field] = { $in: [...set] };
  const found = await collection.find(filter);
  if (pairs.length === 1) return found;
  return found.filter((d) => wanted.has(keyString(Object.fromEntries(pairs.map(([field]) => [field, d[field]])))));
}

/**
 * `matches` for many sources at once: the docs are grouped once by their relation fields, so a
 * batch of P parents and D documents costs P + D lookups instead of P × D comparisons. The related
 * docs of a source come back in the order of `docs`.
 */
export function relatedIndex(docs: readonly Row[], on: Readonly<Record<string, string>>): (source: Row) => readonly Row[] {
  const pairs = Object.entries(on);
  const groups = new Map<string, Row[]>();
  for (const doc of docs) {
    const k = JSON.stringify(pairs.map(([field]) => doc[field]));
    const group = groups.get(k);
    if (group) group.push(doc);
    else groups.set(k, [doc]);
  }
  return (source) => {
    const tuple = pairs.map(([, sourceField]) => source[sourceField]);
    if (tuple.some((v) => v === undefined || v === null)) return [];
    // Same equality as `matches` (===, Dates by time, objects by JSON) for the values a projection holds.
    return groups.get(JSON.stringify(tuple)) ?? [];
  };
}

/** Whether `doc` is related to `source` under `on` (collection field → source field). */
export function matches(doc: Row, source: Row, on: Readonly<Record<string, string>>): boolean {
  for (const [field, sourceField] of Object.entries(on)) {
    const v = source[sourceField];
    if (v === undefined || v === null || !sameValue(doc[field], v)) return false;
  }
  return true;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  return typeof a === 'object' && a !== null && JSON.stringify(a) === JSON.stringify(b);
}
