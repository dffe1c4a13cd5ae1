/**
 * What the store's query engine can answer correctly, asked of the store once (it may cost a round
 * trip) instead of checking its class. FerretDB 1.24 answers `$elemMatch` with field conditions on
 * embedded documents (`{orders: {$elemMatch: {status: 'paid'}}}`) with no documents at all instead
 * of an error (observed; operator-only `$elemMatch` works), so there that form is refused with
 * TRB_QUERY_UNSUPPORTED rather than silently returning nothing.
 */
import { BASIC_CAPABILITIES, type DocumentStore, type StoreCapabilities } from '../store/types.js';

export interface QueryCapabilities {
  /** `$elemMatch` with field conditions on embedded documents. */
  readonly elemMatchOnDocuments: boolean;
}

export const FULL_CAPABILITIES: QueryCapabilities = { elemMatchOnDocuments: true };

/** The store's capabilities, asked once (cached); a failed ask is asked again by the next caller. */
export function storeCapabilities(store: DocumentStore): () => Promise<StoreCapabilities> {
  let cached: Promise<StoreCapabilities> | undefined;
  return () => {
    cached ??= store.capabilities ? store.capabilities() : Promise.resolve(BASIC_CAPABILITIES);
    cached.catch(() => {
      cached = undefined;
    });
    return cached;
  };
}

/** What the read API's query validation needs to know of the store. */
export function capabilityProbe(store: DocumentStore): () => Promise<QueryCapabilities> {
  const ask = storeCapabilities(store);
  return async () => ({ elemMatchOnDocuments: (await ask()).elemMatchOnDocuments });
}
