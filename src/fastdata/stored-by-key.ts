/**
 * The stored documents of a batch's keys, in one query: the ingest stage reads its projection's
 * current versions with it, the aggregate stage the views it is about to replace.
 *
 *   keys [{id: 1}, {id: 2}]  --storedByKey(collection, ['id'])-->  Map { keyString({id: 1}) → doc }
 *                            ~~> one find: {id: {$in: [1, 2]}}  (per key field; exact match in memory)
 */
import type { Collection, Filter } from '../store/types.js';
import type { Row } from './cdc/change-event.js';
import { keyString } from './projection/metadata.js';

/** `fields`: read only these (and the key fields), when the caller needs no more of the documents. */
export async function storedByKey(collection: Collection, primaryKey: readonly string[], keys: readonly Row[], fields?: readonly string[]): Promise<Map<string, Row>> {
  const filter: Filter = {};
  for (const field of primaryKey) filter[field] = { $in: [...new Set(keys.map((k) => k[field]))] };
  const wanted = new Set(keys.map(keyString));
  const found = new Map<string, Row>();
  const projection = fields ? Object.fromEntries([...primaryKey, ...fields].map((f) => [f, 1 as const])) : undefined;
  for (const doc of await collection.find(filter, projection ? { projection } : {})) {
    const k = keyString(Object.fromEntries(primaryKey.map((f) => [f, doc[f]])));
    if (wanted.has(k)) found.set(k, doc);
  }
  return found;
}
