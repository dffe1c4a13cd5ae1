/**
 * What a stored single view says, without what only says when or how it was written: `_id`,
 * `createdAt`, `updatedAt`, the stamp of the last patch, the previous relation image a source view
 * keeps. Used to compare views (diffs, drift checks, replays).
 *
 *   contentOf({ b: 1, a: [{ y: 2, x: 1 }], updatedAt }) === contentOf({ a: [{ x: 1, y: 2 }], b: 1 })
 */
import type { Row } from '../cdc/change-event.js';

export const WRITE_METADATA = new Set(['_id', 'createdAt', 'updatedAt', '__internal__patch', '__internal__previous']);

/** A document's content as a canonical string: keys sorted at every depth, write metadata left out. */
export function contentOf(doc: Row): string {
  const canonical = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(canonical);
    if (value instanceof Date) return { $date: value.toISOString() };
    if (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
      return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Row)[k])]));
    }
    return value;
  };
  return JSON.stringify(canonical(Object.fromEntries(Object.entries(doc).filter(([k]) => !WRITE_METADATA.has(k)))));
}
