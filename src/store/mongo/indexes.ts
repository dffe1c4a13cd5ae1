/**
 * Ensuring a collection's indexes when some may already exist, built with options we do not send.
 *
 *   createMissingIndexes(orders, [{ name: 'pk', key: { id: 1 }, unique: true }, { name: 'fk', key: { customer: 1 } }])
 *     'pk' stored as { key: { id: 1 }, unique: true, enableCompositeTerm: 1 }   -> kept as it is
 *     'fk' absent                                                                -> created
 *     'fk' stored as { key: { other: 1 } }                                       -> the server's conflict error
 *
 * Why: a server fills in options of its own when it builds an index — DocumentDB records
 * `enableCompositeTerm` when its `documentdb.defaultUseCompositeOpClass` is on (scripts/infra sets it,
 * docs/infra.md) — and then refuses a second createIndexes of the same name without that option
 * (IndexKeySpecsConflict, 86). So an index built before the server's default changed would stop
 * every later start. An index under the requested name with the same keys, in order, and the same
 * options that change what it holds (unique, sparse, partial filter, collation, TTL) is the index
 * asked for; anything else under that name is a real conflict and fails as before.
 */
import { MongoServerError, type Collection, type Document, type IndexDescription } from 'mongodb';

/** IndexOptionsConflict, IndexKeySpecsConflict. */
const INDEX_CONFLICT_CODES = new Set([85, 86]);

export async function createMissingIndexes(collection: Collection<Document>, specs: readonly IndexDescription[]): Promise<void> {
  try {
    await collection.createIndexes([...specs]);
  } catch (error) {
    if (!(error instanceof MongoServerError) || typeof error.code !== 'number' || !INDEX_CONFLICT_CODES.has(error.code)) throw error;
    const existing = new Map((await collection.listIndexes().toArray()).map((index) => [index['name'] as string, index]));
    const missing = specs.filter((spec) => {
      const stored = existing.get(spec.name ?? '');
      if (stored === undefined) return true;
      if (!sameIndex(stored, spec)) throw error; // a different index under our name: the conflict is real
      return false;
    });
    if (missing.length > 0) await collection.createIndexes(missing);
  }
}

/** Options that change what an index holds or refuses; anything else a server stores (`v`, engine options) is its own business. */
const MEANINGFUL_OPTIONS = ['unique', 'sparse', 'partialFilterExpression', 'collation', 'expireAfterSeconds'] as const;

function sameIndex(stored: Document, spec: IndexDescription): boolean {
  // A key spec is an ordered list of (field, direction): a Map or a plain object, compared as its entries.
  const keys = (key: unknown) => JSON.stringify(key instanceof Map ? [...key] : Object.entries(key as object));
  const option = (index: Document | IndexDescription, name: (typeof MEANINGFUL_OPTIONS)[number]) => {
    const value = (index as Document)[name];
    return value === false || value === undefined ? undefined : JSON.stringify(value);
  };
  return keys(stored['key']) === keys(spec.key) && MEANINGFUL_OPTIONS.every((name) => option(stored, name) === option(spec, name));
}
