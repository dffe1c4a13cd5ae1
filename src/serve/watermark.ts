/**
 * `X-Tributary-Watermark`: how fresh a read model is, as the `updatedAt` of its newest document
 * (the pipeline stamps `updatedAt` on every projection and single-view write). Without an index on
 * `updatedAt` that read is a collection scan (it grows with the collection), so it
 * runs at most once per `ttlMs` per collection and off the request path: a request gets the last
 * known value at once and, when it is older than `ttlMs`, triggers one refresh in the background.
 * Only the very first request of a collection waits for the read.
 */
import type { ReadExecutor } from './executor.js';

export interface Watermarks {
  get(collection: string): Promise<string | undefined>;
}

interface Entry {
  at: number;
  value: string | undefined;
  refreshing: Promise<string | undefined> | undefined;
}

export function watermarks(executor: ReadExecutor, ttlMs: number, now: () => number = Date.now): Watermarks {
  const cache = new Map<string, Entry>();
  const refresh = (collection: string, entry: Entry): Promise<string | undefined> => {
    entry.refreshing ??= executor
      .find(collection, { filter: {}, sort: [['updatedAt', -1]], projection: { updatedAt: 1, _id: 0 }, limit: 1 })
      .then(([doc]) => format(doc?.['updatedAt']))
      // Freshness is advisory: a failed read keeps the last value rather than failing requests.
      .catch(() => entry.value)
      .then((value) => {
        entry.value = value;
        entry.at = now();
        entry.refreshing = undefined;
        return value;
      });
    return entry.refreshing;
  };
  return {
    async get(collection) {
      let entry = cache.get(collection);
      if (!entry) {
        entry = { at: 0, value: undefined, refreshing: undefined };
        cache.set(collection, entry);
        return refresh(collection, entry);
      }
      if (entry.refreshing && entry.at === 0) return entry.refreshing;
      if (now() - entry.at >= ttlMs) void refresh(collection, entry);
      return entry.value;
    },
  };
}

function format(value: unknown): string | undefined {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  return undefined;
}
