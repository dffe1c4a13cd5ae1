/**
 * The document store on the MongoDB driver (v7), for MongoDB and for DocumentDB (the engine under
 * FerretDB 2 and Cosmos DB vCore, which CI runs: docs/infra.md).
 *
 * Every `bulkWrite` is one ordered driver bulkWrite (split into commands of at most
 * `maxOperationsPerCommand` when that is set). Nothing reads per-statement results: a failed batch
 * is "some prefix may have applied", and callers retry all of it, which is safe because every
 * operation is an idempotent upsert, replace or delete.
 */
import {
  MongoClient,
  MongoServerError,
  type AnyBulkWriteOperation,
  type Collection as DriverCollection,
  type Document as DriverDocument,
  type FindOptions as DriverFindOptions,
  type IndexDescription,
  type MongoClientOptions,
} from 'mongodb';
import { TributaryError, type ErrorCode } from '../../errors.js';
import type { BulkWriteResult, Collection, Document, DocumentStore, Filter, FindOptions, IndexSpec, ReadOptions, StoreCapabilities, WriteOperation } from '../types.js';
import { clientIsUnusable, isNamespaceNotFound, storeError, withDeadline } from './errors.js';
import { createMissingIndexes } from './indexes.js';

export { classifyMongoError } from './errors.js';

export interface MongoDocumentStoreOptions {
  /** A MongoDB connection string, e.g. `mongodb://127.0.0.1:27017/?directConnection=true`. */
  readonly url: string;
  readonly database: string;
  /** Driver options; `socketTimeoutMS` defaults to 60 000 so a stalled server fails (retriably) instead of hanging. */
  readonly clientOptions?: MongoClientOptions;
  /** Most write operations in one command. Default: no limit (the driver splits at 100 000). */
  readonly maxOperationsPerCommand?: number;
  /** Most write commands of this store in flight at once. Default: no limit. */
  readonly maxConcurrentWrites?: number;
  /**
   * Called when the store gives up on its driver client and makes a fresh one (after a
   * server-selection timeout, a call past `operationTimeoutMs`, or a client closed under it), with
   * the error that decided it: worth a warning in the logs. `tributary run` logs it.
   */
  readonly onClientReplaced?: (cause: unknown) => void;
  /**
   * Longest one driver call may take before the store gives up on it (retriable) and replaces the
   * client, in ms; 0 = no deadline. Default 120 000: twice the socket timeout, so it fires when the
   * driver hangs (a call waiting on a socket that is already gone; see clientIsUnusable). It counts
   * the whole call: a `find` that legitimately reads for longer (many batches) needs a larger one.
   */
  readonly operationTimeoutMs?: number;
}

/** The first reply of a `find` without a limit asks for this many documents (the server stops at 16 MiB). */
const FIRST_BATCH_DOCUMENTS = 100_000;

/** What this store's options ask of its writers. */
interface WriteLimits {
  readonly operationsPerCommand: number;
  readonly gate: Gate;
}

/** A counting semaphore: at most `limit` holders; the rest wait in order. */
class Gate {
  #free: number;
  readonly #waiting: Array<() => void> = [];
  constructor(limit: number) {
    this.#free = limit;
  }
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free++;
    }
  }
}

function toDriverOperation(operation: WriteOperation): AnyBulkWriteOperation {
  switch (operation.kind) {
    case 'upsert': {
      const update: DriverDocument = { $set: operation.set };
      if (operation.setOnInsert !== undefined && Object.keys(operation.setOnInsert).length > 0) update['$setOnInsert'] = operation.setOnInsert;
      if (operation.unset !== undefined && operation.unset.length > 0) update['$unset'] = Object.fromEntries(operation.unset.map((path) => [path, '']));
      return { updateOne: { filter: operation.filter, update, upsert: true } };
    }
    case 'replace':
      return { replaceOne: { filter: operation.filter, replacement: operation.document, upsert: true } };
    case 'insert':
      return { insertOne: { document: operation.document } };
    case 'delete':
      return { deleteMany: { filter: operation.filter } };
    case 'updateMany':
      return { updateMany: { filter: operation.filter, update: { $set: operation.set }, ...(operation.arrayFilters?.length ? { arrayFilters: operation.arrayFilters.map((f) => ({ ...f })) } : {}) } };
  }
}

/**
 * What a collection needs from its store. The store may replace its client between calls, so an
 * operation takes the current client once, uses only that one, and hands it back with a failure.
 */
interface StoreAccess {
  client(): MongoClient;
  /** `call` unless it outlives `operationTimeoutMs`; then an OperationDeadlineError. */
  deadline<T>(call: Promise<T>): Promise<T>;
  driver(client: MongoClient, collection: string): DriverCollection;
  writeLimits(): WriteLimits;
  fail(code: ErrorCode, message: string, error: unknown, context: Record<string, unknown>, client: MongoClient): TributaryError;
}

class MongoCollection implements Collection {
  readonly #store: StoreAccess;
  readonly #context: Record<string, unknown>;

  constructor(
    readonly name: string,
    store: StoreAccess,
    database: string,
  ) {
    this.#store = store;
    this.#context = { database, collection: name };
  }

  async bulkWrite(operations: readonly WriteOperation[]): Promise<BulkWriteResult> {
    // The driver refuses an empty batch; an empty batch trivially succeeded.
    if (operations.length === 0) return { upserted: 0, modified: 0, matched: 0, deleted: 0 };
    const client = this.#store.client();
    try {
      const { operationsPerCommand, gate } = this.#store.writeLimits();
      const driver = this.#store.driver(client, this.name);
      const total = { upserted: 0, modified: 0, matched: 0, deleted: 0 };
      for (let start = 0; start < operations.length; start += operationsPerCommand) {
        const chunk = operations.slice(start, start + operationsPerCommand).map(toDriverOperation);
        // the deadline inside the gate: a hung command must give its slot back
        const result = await gate.run(() => this.#store.deadline(driver.bulkWrite(chunk, { ordered: true })));
        total.upserted += result.upsertedCount + result.insertedCount;
        total.modified += result.modifiedCount;
        total.matched += result.matchedCount;
        total.deleted += result.deletedCount;
      }
      return total;
    } catch (error) {
      throw this.#store.fail('TRB_STORE_WRITE', `bulkWrite of ${operations.length} operations on "${this.name}" failed`, error, { ...this.#context, operations: operations.length }, client);
    }
  }

  /** One driver call on the current client, under the deadline; a failure becomes a store error (and may retire that client). */
  async #call<T>(code: ErrorCode, what: string, work: (driver: DriverCollection) => Promise<T>, context: Record<string, unknown> = this.#context): Promise<T> {
    const client = this.#store.client();
    try {
      return await this.#store.deadline(work(this.#store.driver(client, this.name)));
    } catch (error) {
      // MaxTimeMSExpired: the read's own budget ran out (ReadOptions.maxTimeMS), not the store failing.
      if (error instanceof MongoServerError && error.code === 50) throw new TributaryError('TRB_QUERY_TIMEOUT', `${what}: ${error.message}`, { cause: error, context });
      throw this.#store.fail(code, what, error, context, client);
    }
  }

  find(filter: Filter, options: FindOptions = {}): Promise<Document[]> {
    const driverOptions: DriverFindOptions = {};
    if (options.projection !== undefined) driverOptions.projection = { ...options.projection };
    if (options.sort !== undefined) driverOptions.sort = { ...options.sort };
    if (options.skip !== undefined) driverOptions.skip = options.skip;
    if (options.limit !== undefined) driverOptions.limit = options.limit;
    if (options.maxTimeMS !== undefined) driverOptions.maxTimeMS = options.maxTimeMS;
    // Everything in the first reply (up to the server's 16 MiB): with the default first batch of 101
    // documents, a larger result costs a getMore, which DocumentDB answers at ~4× a first page's
    // time (pg_stat_statements over bench/end-to-end.ts: 7.4 against 1.8 ms; a 300-document $in
    // read took 3.3 instead of 4.3 ms).
    driverOptions.batchSize = options.limit !== undefined && options.limit > 0 ? options.limit : FIRST_BATCH_DOCUMENTS;
    return this.#call('TRB_STORE_READ', `find on "${this.name}" failed`, (driver) => driver.find(filter, driverOptions).toArray());
  }

  findOne(filter: Filter): Promise<Document | null> {
    return this.#call('TRB_STORE_READ', `findOne on "${this.name}" failed`, (driver) => driver.findOne(filter));
  }

  count(filter: Filter = {}, options: ReadOptions = {}): Promise<number> {
    const driverOptions = options.maxTimeMS === undefined ? {} : { maxTimeMS: options.maxTimeMS };
    return this.#call('TRB_STORE_READ', `count on "${this.name}" failed`, (driver) => driver.countDocuments(filter, driverOptions));
  }

  async createIndexes(indexes: readonly IndexSpec[]): Promise<void> {
    if (indexes.length === 0) return;
    const context = { ...this.#context, indexes: indexes.map((index) => index.name) };
    // One command for all: DocumentDB builds indexes in a background job and answers when they are
    // ready (a second or two each), so one command waits once.
    const specs = indexes.map((index): IndexDescription => ({ name: index.name, key: { ...index.fields }, ...(index.unique === true ? { unique: true } : {}) }));
    await this.#call('TRB_STORE_WRITE', `createIndexes on "${this.name}" failed`, (driver) => createMissingIndexes(driver, specs), context);
  }

  async drop(): Promise<void> {
    // Dropping what does not exist is done (MongoDB < 7 reports "ns not found").
    const dropped = (driver: DriverCollection) => driver.drop().then(() => undefined, (error: unknown) => (isNamespaceNotFound(error) ? undefined : Promise.reject(error)));
    await this.#call('TRB_STORE_WRITE', `drop of "${this.name}" failed`, dropped);
  }

  async renameTo(target: string): Promise<void> {
    // renameCollection with dropTarget: one step on MongoDB and DocumentDB (drop and rename in one transaction).
    await this.#call('TRB_STORE_WRITE', `rename of "${this.name}" to "${target}" failed`, (driver) => driver.rename(target, { dropTarget: true }).then(() => undefined), { ...this.#context, target });
  }
}

export class MongoDocumentStore implements DocumentStore {
  readonly kind = 'mongo' as const;
  #client: MongoClient;
  /** Driver collections of each client (a replaced client's go with it). */
  readonly #drivers = new WeakMap<MongoClient, Map<string, DriverCollection>>();
  readonly #options: MongoDocumentStoreOptions;
  readonly #database: string;
  readonly #limits: WriteLimits;
  #closed = false;
  #replacements = 0;
  /** Closes of replaced clients still running: close() waits for them. */
  readonly #closing = new Set<Promise<void>>();
  readonly #deadlineMs: number;

  constructor(options: MongoDocumentStoreOptions) {
    if (typeof options.database !== 'string' || !/^[^/\\. "$*<>:|?\0]{1,63}$/.test(options.database)) {
      throw new TributaryError('TRB_CONFIG', `invalid MongoDB database name "${String(options.database)}"`, { context: { database: options.database } });
    }
    const deadline = options.operationTimeoutMs ?? 120_000;
    // setTimeout fires at once for NaN, Infinity or more than 2^31-1 ms: every call would fail
    if (!Number.isInteger(deadline) || deadline < 0 || deadline > 2 ** 31 - 1) {
      throw new TributaryError('TRB_CONFIG', `operationTimeoutMs must be an integer from 0 to ${2 ** 31 - 1}, not ${String(deadline)}`, { context: { operationTimeoutMs: deadline } });
    }
    this.#deadlineMs = deadline;
    this.#limits = { operationsPerCommand: limit(options, 'maxOperationsPerCommand'), gate: new Gate(limit(options, 'maxConcurrentWrites')) };
    try {
      this.#client = new MongoClient(options.url, clientOptionsOf(options));
    } catch (error) {
      // Never echo the URL: it may carry credentials.
      throw new TributaryError('TRB_CONFIG', `invalid MongoDB connection string: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    this.#options = options;
    this.#database = options.database;
  }

  /**
   * Connects eagerly so that an unreachable server fails at start-up, not at the first write. The
   * driver closes a client whose connect() failed, and every later operation on it fails with a
   * non-retriable "Topology is closed"; a fresh client instead lets a retried connect() or the next
   * operation reach the server once it is back.
   */
  async connect(): Promise<void> {
    this.#closed = false;
    try {
      await this.#client.connect();
      await withDeadline(this.#client.db('admin').command({ ping: 1 }), this.#deadlineMs);
    } catch (error) {
      if (!this.#closed) this.#replaceClient(); // closed meanwhile: leave no fresh client behind
      throw storeError('TRB_CONNECT', 'could not connect to MongoDB', error, { database: this.#database });
    }
  }

  collection(name: string): Collection {
    return new MongoCollection(name, this.#access, this.#database);
  }

  readonly #access: StoreAccess = {
    client: () => this.#client,
    deadline: (call) => withDeadline(call, this.#deadlineMs),
    driver: (client, collection) => {
      // The driver's Db and Collection resolve their options when made (~2 % of a busy worker's
      // CPU when made per call): one of each per client and collection name.
      let byName = this.#drivers.get(client);
      if (!byName) this.#drivers.set(client, (byName = new Map()));
      let driver = byName.get(collection);
      if (!driver) byName.set(collection, (driver = client.db(this.#database).collection(collection)));
      return driver;
    },
    writeLimits: () => this.#limits,
    fail: (code, message, error, context, client) => {
      const failure = storeError(code, message, error, context);
      if (this.#closed || !clientIsUnusable(error)) return failure;
      // Unless close() was called, an unusable client is the server having been away: the next try
      // goes through a fresh client (made once, by the first failure of the current client; a
      // failure of a client already replaced only retries).
      if (client === this.#client) {
        this.#replaceClient();
        this.#replacements++;
        this.#options.onClientReplaced?.(error);
      }
      return new TributaryError(code, failure.message, { cause: error, retriable: true, context });
    },
  };

  /** How often a wedged or closed client was replaced (for tests and diagnostics). */
  get clientReplacements(): number {
    return this.#replacements;
  }

  /**
   * The write limits (and their gate) stay: a fresh gate would let more writes in flight than
   * `maxConcurrentWrites` while the old client's writes end.
   */
  #replaceClient(): void {
    const failed = this.#client;
    this.#client = new MongoClient(this.#options.url, clientOptionsOf(this.#options));
    const closing = failed.close().catch(() => undefined);
    this.#closing.add(closing);
    void closing.finally(() => this.#closing.delete(closing));
  }

  /**
   * Creates (or redefines) a read-only MongoDB view `name` over `viewOn` with an aggregation
   * pipeline (the read API's native views: `capabilities().views`).
   */
  async createView(name: string, viewOn: string, pipeline: ReadonlyArray<Record<string, unknown>>): Promise<void> {
    const db = this.#client.db(this.#database);
    try {
      const existing = await withDeadline(db.listCollections({ name }, { nameOnly: false }).toArray(), this.#deadlineMs);
      if (existing.length === 0) await withDeadline(db.createCollection(name, { viewOn, pipeline: [...pipeline] }), this.#deadlineMs);
      else if (existing[0]?.type === 'view') await withDeadline(db.command({ collMod: name, viewOn, pipeline: [...pipeline] }), this.#deadlineMs);
      else throw new TributaryError('TRB_CONFIG', `cannot create view '${name}': a collection of that name exists`, { context: { collection: name } });
    } catch (error) {
      if (error instanceof TributaryError) throw error;
      throw storeError('TRB_STORE_WRITE', `could not create view '${name}'`, error, { collection: name });
    }
  }

  /** MongoDB and DocumentDB evaluate every query on the server and install `$lookup` views. */
  capabilities(): Promise<StoreCapabilities> {
    return Promise.resolve({ serverQueries: true, views: true });
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([this.#client.close(), ...this.#closing]);
  }
}

/** A write limit option: a positive integer, or unset for none. */
function limit(options: MongoDocumentStoreOptions, name: 'maxOperationsPerCommand' | 'maxConcurrentWrites'): number {
  const value = options[name];
  if (value === undefined) return Number.POSITIVE_INFINITY;
  if (!Number.isInteger(value) || value < 1) throw new TributaryError('TRB_CONFIG', `${name} must be a positive integer, not ${String(value)}`, { context: { [name]: value } });
  return value;
}

function clientOptionsOf(options: MongoDocumentStoreOptions): MongoClientOptions {
  return { socketTimeoutMS: 60_000, ...options.clientOptions };
}
