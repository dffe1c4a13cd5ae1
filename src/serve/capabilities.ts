/**
 * What the store's query engine can do (evaluate queries on the server, install views), asked of
 * the store once (it may cost a round trip) instead of checking its class.
 */
import { BASIC_CAPABILITIES, type DocumentStore, type StoreCapabilities } from '../store/types.js';

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
