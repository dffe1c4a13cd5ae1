/** The fields Tributary adds to every projection document (CRUD-Service and Fast Data compatible). */
import type { Row } from '../cdc/change-event.js';

export const STATE = '__STATE__';
export const COUNTER = '__internal__counter';
export const COUNTER_TYPE = '__internal__counterType';
export const KAFKA_INFO = '__internal__kafkaInfo';
export const METADATA_FIELDS = ['_id', STATE, 'createdAt', 'updatedAt', COUNTER, COUNTER_TYPE, KAFKA_INFO] as const;

export type RecordState = 'PUBLIC' | 'DRAFT' | 'TRASH' | 'DELETED';

/** Where a projection version came from (Fast Data `__internal__kafkaInfo`). */
export interface KafkaInfo {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  /** ISO 8601 */
  readonly timestamp: string;
  readonly key: unknown;
}

export function isLive(doc: Row | null | undefined): doc is Row {
  return doc !== null && doc !== undefined && doc[STATE] !== 'DELETED';
}

/** A stored document without `_id` (which belongs to the store, not to events). */
export function withoutId(doc: Row | null): Row | null {
  if (doc === null) return null;
  const { _id: _ignored, ...rest } = doc;
  return rest;
}

/**
 * Stable string for a key object, used to group and compact by key: its fields sorted, as JSON
 * pairs. A one-field key (most primary keys) is written without building the pairs (this runs
 * for every change); both paths give the same text.
 *
 *   keyString({ b: 2, a: 'x' })  -->  '[["a","x"],["b",2]]'
 */
export function keyString(key: Row): string {
  const fields = Object.keys(key);
  if (fields.length === 1) {
    const field = fields[0] as string;
    // In an array JSON writes undefined (and functions, symbols) as null; JSON.stringify alone gives undefined.
    return `[[${JSON.stringify(field)},${JSON.stringify(key[field]) ?? 'null'}]]`;
  }
  return JSON.stringify(fields.sort().map((k) => [k, key[k]]));
}
