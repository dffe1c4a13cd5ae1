/**
 * Hash indexes of the embedded store.
 *
 * Why: without them every write checked unique keys against every stored document and every find,
 * findOne, count and write filter scanned the whole collection, so a run of n writes cost O(n²)
 * (the embedded demo with 20000 events spent almost all of its time there). Each index, the
 * implicit `_id_` one included, maps the key of a document's indexed values to the internal ids of
 * the documents that have it: a unique check is one lookup per key, and a filter that pins every
 * field of an index by equality or `$in` reads only the documents under the keys it names.
 *
 * Keys are built from `canonicalKey` (values.ts), so documents are found by value (1 and 1.0, equal
 * Dates, equal embedded documents), never by identity. An index only narrows the candidates: the
 * caller still runs the full matcher on each of them, so a candidate too many is harmless and
 * results equal those of a scan. Internal ids grow with every insert, so ascending ids are
 * insertion order, the order a scan returns.
 */
import type { Filter, IndexSpec } from '../types.js';
import { canonicalKey, isPlainObject, resolvePath, type PlainObject } from './values.js';

/** A stored document's internal id: its insertion sequence number in the collection. */
export type DocId = number;

/** MongoDB's implicit primary index: `_id` is unique in every collection. */
export const ID_INDEX: IndexSpec = { name: '_id_', fields: { _id: 1 }, unique: true };

/** A compound key: each field's canonical value, each prefixed with '|'. */
function joinKeys(prefixes: readonly string[], parts: readonly string[]): string[] {
  return prefixes.flatMap((prefix) => parts.map((part) => `${prefix}|${part}`));
}

/**
 * The keys a document has in an index. Like MongoDB, a missing field indexes as null and an array
 * indexes each of its elements (multikey), so a compound key is the cartesian product.
 */
export function indexKeys(document: PlainObject, index: IndexSpec): Set<string> {
  let keys = [''];
  for (const path of Object.keys(index.fields)) {
    const values = resolvePath(document, path).flatMap((value) => (Array.isArray(value) ? (value.length > 0 ? value : [null]) : [value]));
    keys = joinKeys(keys, [...new Set(values.map(canonicalKey))]);
  }
  return new Set(keys);
}

/**
 * The values a filter condition pins a field to, or undefined if it pins none: a literal (MongoDB
 * equality), `$eq`, or `$in`. An array value is left to the scan: it matches a stored array equal to
 * it as a whole, while the index holds that array's elements.
 */
function pinnedValues(condition: unknown): readonly unknown[] | undefined {
  let values: readonly unknown[];
  if (!isPlainObject(condition) || !Object.keys(condition).some((key) => key.startsWith('$'))) values = [condition];
  else if (Object.hasOwn(condition, '$eq')) values = [condition['$eq']];
  else if (Array.isArray(condition['$in'])) values = condition['$in'];
  else return undefined;
  return values.some((value) => Array.isArray(value)) ? undefined : values;
}

interface HashIndex {
  readonly spec: IndexSpec;
  readonly keys: Map<string, Set<DocId>>;
}

function addKeys(index: HashIndex, id: DocId, keys: Iterable<string>): void {
  for (const key of keys) {
    const ids = index.keys.get(key);
    if (ids === undefined) index.keys.set(key, new Set([id]));
    else ids.add(id);
  }
}

/** The indexes of one collection: `_id_` first, then the created ones in creation order. */
export class CollectionIndexes {
  readonly #indexes: HashIndex[] = [{ spec: ID_INDEX, keys: new Map() }];

  /** The created indexes (not the implicit `_id_`), in creation order. */
  created(): IndexSpec[] {
    return this.#indexes.slice(1).map((index) => index.spec);
  }

  /**
   * Builds an index over the stored documents and keeps it. Returns false, keeping nothing, if the
   * index is unique and two documents share a key.
   */
  create(spec: IndexSpec, documents: Iterable<[DocId, PlainObject]>): boolean {
    const index: HashIndex = { spec, keys: new Map() };
    for (const [id, document] of documents) {
      const keys = indexKeys(document, spec);
      if (spec.unique === true && [...keys].some((key) => index.keys.has(key))) return false;
      addKeys(index, id, keys);
    }
    this.#indexes.push(index);
    return true;
  }

  add(id: DocId, document: PlainObject): void {
    for (const index of this.#indexes) addKeys(index, id, indexKeys(document, index.spec));
  }

  remove(id: DocId, document: PlainObject): void {
    for (const index of this.#indexes) {
      for (const key of indexKeys(document, index.spec)) {
        const ids = index.keys.get(key);
        ids?.delete(id);
        if (ids?.size === 0) index.keys.delete(key);
      }
    }
  }

  /** The first unique index (`_id_` first) in which a document other than `self` holds one of `document`'s keys. */
  conflict(document: PlainObject, self: DocId | undefined): IndexSpec | undefined {
    for (const index of this.#indexes) {
      if (index.spec.unique !== true) continue;
      for (const key of indexKeys(document, index.spec)) {
        for (const other of index.keys.get(key) ?? []) if (other !== self) return index.spec;
      }
    }
    return undefined;
  }

  /**
   * The ids, ascending (insertion order), of every document that may match `filter`, read from the
   * index needing the fewest lookups among those whose fields the filter all pins; undefined when no
   * index applies, or when the lookups would outnumber the `stored` documents a scan reads.
   */
  candidates(filter: Filter, stored: number): DocId[] | undefined {
    let best: string[] | undefined;
    let bestIndex: HashIndex | undefined;
    for (const index of this.#indexes) {
      // On a tie the earlier index (`_id_` first) is kept.
      const keys = lookupKeys(filter, index.spec, best === undefined ? stored : best.length - 1);
      if (keys !== undefined) [best, bestIndex] = [keys, index];
    }
    if (best === undefined || bestIndex === undefined) return undefined;
    const ids = new Set<DocId>();
    for (const key of best) for (const id of bestIndex.keys.get(key) ?? []) ids.add(id);
    return [...ids].sort((a, b) => a - b);
  }
}

/** The keys to look up in `index` for `filter`, if it pins every field and they number at most `limit`. */
function lookupKeys(filter: Filter, index: IndexSpec, limit: number): string[] | undefined {
  const parts: string[][] = [];
  let combinations = 1;
  for (const path of Object.keys(index.fields)) {
    if (!Object.hasOwn(filter, path)) return undefined;
    const values = pinnedValues(filter[path]);
    if (values === undefined) return undefined;
    const fieldParts = [...new Set(values.map(canonicalKey))];
    combinations *= fieldParts.length;
    if (combinations > limit) return undefined;
    parts.push(fieldParts);
  }
  return parts.reduce<string[]>((keys, fieldParts) => joinKeys(keys, fieldParts), ['']);
}
