/**
 * The document store the framework writes read models to. Two implementations pass one contract
 * suite: `mongo/` (the mongodb driver; MongoDB or DocumentDB) and `memory/` (embedded).
 *
 * The interface is deliberately small, so any MongoDB-wire server with `$in` and unique indexes
 * serves: no transactions, no `$lookup` (joins are batched `$in` queries), no change streams, no
 * reliance on per-statement errors of a failed batch (a batch is retried whole).
 */

export type Document = Record<string, unknown>;
/** A flat equality filter on top-level fields, with `$in` allowed as a field's value. */
export type Filter = Record<string, unknown>;

export type WriteOperation =
  | { readonly kind: 'upsert'; readonly filter: Filter; readonly set: Document; readonly setOnInsert?: Document; readonly unset?: readonly string[] }
  | { readonly kind: 'replace'; readonly filter: Filter; readonly document: Document }
  /**
   * A new document, for a key its writer knows is absent. Cheaper than an upsert (DocumentDB: about
   * twice the rate: no query before the write); a unique index makes it safe: if the key was
   * written meanwhile the insert fails with a duplicate key, which is retriable (the writer reads
   * again and plans an update), as a lost upsert race is. Counted in `upserted`.
   */
  | { readonly kind: 'insert'; readonly document: Document }
  | { readonly kind: 'delete'; readonly filter: Filter }
  /**
   * `$set` on every document the filter matches (never inserts). Paths may use MongoDB's positional
   * operators `$[]` (every element) and `$[id]` (elements matching the `arrayFilters` entry on
   * `id.<field>`); an array named on such a path must exist in every document and element walked.
   */
  | { readonly kind: 'updateMany'; readonly filter: Filter; readonly set: Document; readonly arrayFilters?: readonly Filter[] };

export interface BulkWriteResult {
  readonly upserted: number;
  readonly modified: number;
  readonly matched: number;
  readonly deleted: number;
}

export interface IndexSpec {
  readonly name: string;
  readonly fields: Readonly<Record<string, 1 | -1>>;
  readonly unique?: boolean;
}

export interface ReadOptions {
  /**
   * Server-side time budget of the read in ms (MongoDB's `maxTimeMS`); absent or 0 = none. A read
   * past it fails with `TRB_QUERY_TIMEOUT` (not retriable: the same read would run as long again).
   */
  readonly maxTimeMS?: number;
}

export interface FindOptions extends ReadOptions {
  readonly projection?: Readonly<Record<string, 0 | 1>>;
  readonly sort?: Readonly<Record<string, 1 | -1>>;
  readonly limit?: number;
  readonly skip?: number;
}

export interface Collection {
  readonly name: string;
  /**
   * Applies the operations in order. On failure throws a TributaryError (`TRB_STORE_WRITE`) and
   * gives no guarantee which operations were applied: callers must be idempotent and may retry the
   * whole batch.
   */
  bulkWrite(operations: readonly WriteOperation[]): Promise<BulkWriteResult>;
  find(filter: Filter, options?: FindOptions): Promise<Document[]>;
  findOne(filter: Filter): Promise<Document | null>;
  count(filter?: Filter, options?: ReadOptions): Promise<number>;
  createIndexes(indexes: readonly IndexSpec[]): Promise<void>;
  drop(): Promise<void>;
  /**
   * Renames this collection to `target`, with its documents and indexes, replacing `target` if it
   * exists: readers of `target` see the old collection, then the new one, never neither (MongoDB
   * and DocumentDB `renameCollection` with `dropTarget`). Used to promote a shadow single view.
   */
  renameTo(target: string): Promise<void>;
}

/**
 * What the server behind a store answers beyond the interface above. Readers that can use more
 * (the read API) ask for it instead of checking a store's class or kind.
 */
export interface StoreCapabilities {
  /** `find` evaluates any MongoDB filter, sort, skip and projection on the server; false: only the flat filters of `Filter`. */
  readonly serverQueries: boolean;
  /** `createView` installs `$lookup` views (MongoDB). */
  readonly views: boolean;
}

/**
 * Whether a store call failed on a unique index: both engines mark such a failure
 * `context.duplicateKey` (MongoDB code 11000), found anywhere in the cause chain.
 */
export function isDuplicateKey(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if ((e as { context?: { duplicateKey?: unknown } }).context?.duplicateKey === true) return true;
  }
  return false;
}

/** What a store without `capabilities()` is taken to offer: flat filters, nothing more. */
export const BASIC_CAPABILITIES: StoreCapabilities = { serverQueries: false, views: false };

export interface DocumentStore {
  readonly kind: 'mongo' | 'memory';
  connect(): Promise<void>;
  collection(name: string): Collection;
  close(): Promise<void>;
  /** What the server answers (may cost one round trip; callers cache it). Absent: {@link BASIC_CAPABILITIES}. */
  capabilities?(): Promise<StoreCapabilities>;
  /** Creates or redefines a read-only view over `viewOn` (only where `capabilities().views`). */
  createView?(name: string, viewOn: string, pipeline: ReadonlyArray<Record<string, unknown>>): Promise<void>;
}
