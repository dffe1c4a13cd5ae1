/**
 * The embedded document store: no I/O, same contract as the MongoDB store (test/contract). Used by
 * unit tests, the embedded demo and anything that must run without a database.
 *
 * It copies documents on the way in and on the way out, so a caller mutating what it wrote or read
 * can never change stored state (a real database gives the same guarantee by serialising). Unique
 * checks and filters that pin every field of an index by equality or `$in` use hash indexes
 * (indexes.ts); other filters scan the collection. Results come in insertion order, as a scan of
 * the documents in the order they were first inserted gives them (an update keeps a document's
 * place): it is sized for tests and demos, not for production volumes.
 */
import { TributaryError } from '../../errors.js';
import { BASIC_CAPABILITIES, type BulkWriteResult, type Collection, type Document, type DocumentStore, type Filter, type FindOptions, type IndexSpec, type ReadOptions, type StoreCapabilities, type WriteOperation } from '../types.js';
import { CollectionIndexes, type DocId } from './indexes.js';
import { compileFilter, compileProjection, compileSort, type Matcher } from './query.js';
import { positionallyUpdated } from './positional.js';
import { insertedDocument, newDocument, refused, replacementDocument, updatedDocument } from './update.js';
import { canonicalKey, cloneDocument, isPlainObject, type PlainObject } from './values.js';

interface CollectionState {
  /** By internal id; a Map iterates in insertion order and `set` on a present id keeps its place. */
  readonly documents: Map<DocId, PlainObject>;
  readonly indexes: CollectionIndexes;
  nextId: DocId;
}

/**
 * The stored documents `filter` matches, in insertion order: candidates from an index if one
 * applies, else a scan. With a time budget (`maxTimeMS`, as MongoDB's) the clock is read before
 * each document: a scan past it stops with TRB_QUERY_TIMEOUT (one document's match is not cut short).
 */
function* matching(state: CollectionState, filter: Filter, matches: Matcher, maxTimeMS?: number): Generator<[DocId, PlainObject]> {
  const overdue = timeBudget(maxTimeMS);
  const ids = state.indexes.candidates(filter, state.documents.size);
  if (ids === undefined) {
    for (const entry of state.documents) {
      overdue();
      if (matches(entry[1])) yield entry;
    }
    return;
  }
  for (const id of ids) {
    overdue();
    const document = state.documents.get(id);
    if (document !== undefined && matches(document)) yield [id, document];
  }
}

/** A check that throws TRB_QUERY_TIMEOUT once `maxTimeMS` has passed since it was made (0 or absent: never). */
function timeBudget(maxTimeMS: number | undefined): () => void {
  if (maxTimeMS === undefined || maxTimeMS === 0) return () => undefined;
  const deadline = performance.now() + maxTimeMS;
  return () => {
    if (performance.now() > deadline) throw new TributaryError('TRB_QUERY_TIMEOUT', `read exceeded its time budget of ${maxTimeMS} ms (maxTimeMS)`, { context: { maxTimeMS } });
  };
}

function first<T>(items: Iterator<T>): T | undefined {
  const next = items.next();
  return next.done === true ? undefined : next.value;
}

function sameIndex(a: IndexSpec, b: IndexSpec): boolean {
  return JSON.stringify(Object.entries(a.fields)) === JSON.stringify(Object.entries(b.fields)) && Boolean(a.unique) === Boolean(b.unique);
}

function checkOptions(options: FindOptions): void {
  for (const key of ['skip', 'limit', 'maxTimeMS'] as const) {
    const value = options[key];
    if (value !== undefined && (!Number.isInteger(value) || value < 0)) {
      throw new TributaryError('TRB_CONFIG', `read option ${key} must be a non-negative integer, got ${String(value)}`, { context: { [key]: value } });
    }
  }
}

const EMPTY_RESULT: BulkWriteResult = { upserted: 0, modified: 0, matched: 0, deleted: 0 };

/** What a collection handle may do to its store: reach its own state, or drop it. */
interface StateAccess {
  state(create: boolean): CollectionState;
  drop(): void;
  renameTo(target: string): void;
}

class MemoryCollection implements Collection {
  constructor(
    readonly name: string,
    private readonly owner: StateAccess,
  ) {}

  async bulkWrite(operations: readonly WriteOperation[]): Promise<BulkWriteResult> {
    if (operations.length === 0) return { ...EMPTY_RESULT }; // as the mongo store: nothing to send, nothing to check
    const state = this.owner.state(true);
    const result = { ...EMPTY_RESULT };
    // In order; the first failure stops the batch and earlier operations stay applied (as an
    // ordered bulk write on MongoDB does): callers retry the whole, idempotent batch.
    for (const [position, operation] of operations.entries()) {
      try {
        this.apply(state, operation, result);
      } catch (error) {
        if (error instanceof TributaryError) {
          throw new TributaryError(error.code, `bulkWrite on "${this.name}" failed at operation ${position}: ${error.message}`, {
            cause: error,
            retriable: error.retriable,
            context: { ...error.context, collection: this.name, operation: position },
          });
        }
        throw new TributaryError('TRB_STORE_WRITE', `bulkWrite on "${this.name}" failed at operation ${position}`, { cause: error, retriable: false });
      }
    }
    return result;
  }

  private apply(state: CollectionState, operation: WriteOperation, result: { -readonly [K in keyof BulkWriteResult]: number }): void {
    if (operation.kind === 'insert') {
      if (!isPlainObject(operation.document)) throw refused('an inserted document must be a plain object');
      const next = newDocument(operation.document);
      this.checkUnique(state, next, undefined);
      const inserted = state.nextId++;
      state.documents.set(inserted, next);
      state.indexes.add(inserted, next);
      result.upserted += 1;
      return;
    }
    const matches = compileFilter(operation.filter);
    if (operation.kind === 'updateMany') {
      for (const [id, document] of [...matching(state, operation.filter, matches)]) {
        const next = positionallyUpdated(document, operation.set, operation.arrayFilters ?? []);
        this.checkUnique(state, next, id);
        state.indexes.remove(id, document);
        state.documents.set(id, next);
        state.indexes.add(id, next);
        result.matched += 1;
        if (canonicalKey(document) !== canonicalKey(next)) result.modified += 1;
      }
      return;
    }
    if (operation.kind === 'delete') {
      for (const [id, document] of [...matching(state, operation.filter, matches)]) {
        state.indexes.remove(id, document);
        state.documents.delete(id);
        result.deleted += 1;
      }
      return;
    }
    const [id, existing] = first(matching(state, operation.filter, matches)) ?? [undefined, undefined];
    let next: PlainObject;
    if (operation.kind === 'upsert') next = existing === undefined ? insertedDocument(operation) : updatedDocument(existing, operation);
    else if (isPlainObject(operation.document)) next = replacementDocument(existing, operation.filter, operation.document);
    else throw refused('a replacement must be a plain object');
    this.checkUnique(state, next, id);
    if (id === undefined || existing === undefined) {
      const inserted = state.nextId++;
      state.documents.set(inserted, next);
      state.indexes.add(inserted, next);
      result.upserted += 1;
    } else {
      state.indexes.remove(id, existing);
      state.documents.set(id, next);
      state.indexes.add(id, next);
      result.matched += 1;
      if (canonicalKey(existing) !== canonicalKey(next)) result.modified += 1;
    }
  }

  /** A duplicate key is retriable, mirroring `classifyMongoError` for code 11000 (a concurrent-upsert race). */
  private checkUnique(state: CollectionState, candidate: PlainObject, self: DocId | undefined): void {
    const index = state.indexes.conflict(candidate, self);
    if (index === undefined) return;
    throw new TributaryError('TRB_STORE_WRITE', `E11000 duplicate key error: collection "${this.name}" index "${index.name}"`, {
      retriable: true,
      context: { collection: this.name, index: index.name, duplicateKey: true },
    });
  }

  async find(filter: Filter, options: FindOptions = {}): Promise<Document[]> {
    const matches = compileFilter(filter);
    checkOptions(options);
    const project = options.projection === undefined ? cloneDocument : compileProjection(options.projection);
    const compare = options.sort === undefined ? undefined : compileSort(options.sort);
    let found = [...matching(this.owner.state(false), filter, matches, options.maxTimeMS)].map(([, document]) => document);
    if (compare !== undefined) found = [...found].sort(compare); // stable: ties keep insertion order
    const skip = options.skip ?? 0;
    const end = options.limit === undefined || options.limit === 0 ? undefined : skip + options.limit; // limit 0 means none, as in MongoDB
    return found.slice(skip, end).map(project);
  }

  async findOne(filter: Filter): Promise<Document | null> {
    const matches: Matcher = compileFilter(filter);
    const found = first(matching(this.owner.state(false), filter, matches));
    return found === undefined ? null : cloneDocument(found[1]);
  }

  async count(filter: Filter = {}, options: ReadOptions = {}): Promise<number> {
    const matches = compileFilter(filter);
    checkOptions(options);
    let n = 0;
    for (const _match of matching(this.owner.state(false), filter, matches, options.maxTimeMS)) n += 1;
    return n;
  }

  async createIndexes(indexes: readonly IndexSpec[]): Promise<void> {
    for (const index of indexes) {
      const directions = Object.values(index.fields);
      if (typeof index.name !== 'string' || index.name === '' || directions.length === 0 || directions.some((d) => d !== 1 && d !== -1)) {
        throw new TributaryError('TRB_CONFIG', `invalid index spec "${String(index.name)}": needs a name and fields with direction 1 or -1`, { context: { index: index.name } });
      }
    }
    // Like MongoDB's createIndexes command, creating the collection is a side effect.
    const state = this.owner.state(true);
    for (const index of indexes) {
      const created = state.indexes.created();
      const named = created.find((other) => other.name === index.name);
      if (named !== undefined) {
        if (sameIndex(named, index)) continue;
        throw refused(`index "${index.name}" already exists with different keys or options`, { collection: this.name, index: index.name });
      }
      const twin = created.find((other) => sameIndex(other, index));
      if (twin !== undefined) throw refused(`index "${index.name}" already exists with a different name: "${twin.name}"`, { collection: this.name, index: index.name });
      const spec: IndexSpec = { name: index.name, fields: { ...index.fields }, ...(index.unique === true ? { unique: true } : {}) };
      if (!state.indexes.create(spec, state.documents)) {
        throw new TributaryError('TRB_STORE_WRITE', `E11000 duplicate key error building unique index "${index.name}" on "${this.name}"`, { retriable: true, context: { collection: this.name, index: index.name } });
      }
    }
  }

  async drop(): Promise<void> {
    this.owner.drop();
  }

  async renameTo(target: string): Promise<void> {
    this.owner.renameTo(target);
  }
}

export class MemoryDocumentStore implements DocumentStore {
  readonly kind = 'memory' as const;
  readonly #collections = new Map<string, CollectionState>();

  /** Nothing to reach. */
  async connect(): Promise<void> {}

  /** Flat filters only (query.ts), no views. */
  async capabilities(): Promise<StoreCapabilities> {
    return BASIC_CAPABILITIES;
  }

  collection(name: string): Collection {
    if (typeof name !== 'string' || name === '' || name.includes('$') || name.includes('\0')) {
      throw new TributaryError('TRB_CONFIG', `invalid collection name "${String(name)}"`, { context: { collection: name } });
    }
    return new MemoryCollection(name, {
      state: (create) => this.#state(name, create),
      drop: () => this.#collections.delete(name),
      renameTo: (target) => {
        this.collection(target); // the same name checks
        const state = this.#collections.get(name);
        if (state === undefined) throw new TributaryError('TRB_STORE_WRITE', `cannot rename "${name}": no such collection`, { retriable: false, context: { collection: name } });
        if (target === name) return;
        this.#collections.set(target, state); // one synchronous step: no reader sees neither
        this.#collections.delete(name);
      },
    });
  }

  /**
   * Nothing to release, and the data stays readable: the runner closes the store when a topology
   * stops, and tests (TestDriver) inspect it afterwards. A closed MongoDB store refuses calls instead.
   */
  async close(): Promise<void> {}

  /** A collection's state; with `create`, made on first write, as MongoDB creates collections. */
  #state(name: string, create: boolean): CollectionState {
    let state = this.#collections.get(name);
    if (state === undefined) {
      state = { documents: new Map(), indexes: new CollectionIndexes(), nextId: 0 };
      if (create) this.#collections.set(name, state);
    }
    return state;
  }
}
