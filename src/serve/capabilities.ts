/**
 * What the store's query engine can answer correctly. FerretDB 1.24 answers `$elemMatch` with
 * field conditions on embedded documents (`{orders: {$elemMatch: {status: 'paid'}}}`) with no
 * documents at all instead of an error (observed; operator-only `$elemMatch` works), so on
 * FerretDB that form is refused with TRB_QUERY_UNSUPPORTED rather than silently returning nothing.
 */
import { MongoDocumentStore } from '../store/mongo/mongo-store.js';
import type { DocumentStore } from '../store/types.js';

export interface QueryCapabilities {
  /** `$elemMatch` with field conditions on embedded documents. */
  readonly elemMatchOnDocuments: boolean;
}

export const FULL_CAPABILITIES: QueryCapabilities = { elemMatchOnDocuments: true };

/** Asks the server once (cached); a failed probe is asked again by the next request. */
export function capabilityProbe(store: DocumentStore): () => Promise<QueryCapabilities> {
  if (!(store instanceof MongoDocumentStore)) return async () => FULL_CAPABILITIES;
  let cached: Promise<QueryCapabilities> | undefined;
  return () => {
    cached ??= store.writeLimits().then((limits) => ({ elemMatchOnDocuments: limits.server !== 'ferretdb' }));
    cached.catch(() => {
      cached = undefined;
    });
    return cached;
  };
}
