/**
 * The embedded document store: no I/O, same contract as the MongoDB store (test/contract). Used by
 * unit tests, the embedded demo and anything that must run without a database.
 *
 * It copies documents on the way in and on the way out, so a caller mutating what it wrote or read
 * can never change stored state (a real database gives the same guarantee by serialising). Queries
 * are linear scans: it is sized for tests and demos, not for production volumes.
 */
import { TributaryError } from '../../errors.js';
import type { BulkWriteResult, Collection, Document, DocumentStore, Filter, FindOptions, IndexSpec, WriteOperation } from '../types.js';
import { compileFilter, compileProjection, compileSort, type Matcher } from './query.js';
import { insertedDocument, refused, replacementDocument, updatedDocument } from './update.js';
import { canonicalKey, cloneDocument, isPlainObject, resolvePath, type PlainObject } from './values.js';

interface CollectionState {
  documents: PlainObject[];
  readonly indexes: Map<string, IndexSpec>;
}

/** MongoDB's implicit primary index: `_id` is unique in every collection. */
const ID_INDEX: IndexSpec = { name: '_id_', fields: { _id: 1 }, unique: true };

/**
 * The keys a document has in an index. Like MongoDB, a missing field indexes as null and an array
 * indexes each of its elements (multikey), so a compound key is the cartesian product.
 */
function indexKeys(document: PlainObject, index: IndexSpec): Set<string> {
  let keys = [''];
  for (const path of Object.keys(index.fields)) {
    const values = resolvePath(document, path).flatMap((value) => (Array.isArray(value) ? (value.length > 0 ? value : [null]) : [value]));
    const parts = [...new Set(values.map(canonicalKey))];
    keys = keys.flatMap((prefix) => parts.map((part) => `${prefix}|${part}`));
  }
  return new Set(keys);
}

function sameIndex(a: IndexSpec, b: IndexSpec): boolean {
  return JSON.stringify(Object.entries(a.fields)) === JSON.stringify(Object.entries(b.fields)) && Boolean(a.unique) === Boolean(b.unique);
}

function checkOptions(options: FindOptions): void {
  for (const key of ['skip', 'limit'] as const) {
    const value = options[key];
    if (value !== undefined && (!Number.isInteger(value) || value < 0)) {
      throw new TributaryError('TRB_CONFIG', `find option ${key} must be a non-negative integer, got ${String(value)}`, { context: { [key]: value } });
    }
  }
}

const EMPTY_RESULT: BulkWriteResult = { upserted: 0, modified: 0, matched: 0, deleted: 0 };

/** What a collection handle may do to its store: reach its own state, or drop it. */
interface StateAccess {
  state(create: boolean): CollectionState;
  drop(): void;
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
    // In order; the first failure stops the batch and earlier operations stay applied (as on
    // FerretDB, and as the interface allows): callers retry the whole, idempotent batch.
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
    const matches = compileFilter(operation.filter);
    if (operation.kind === 'delete') {
      const before = state.documents.length;
      state.documents = state.documents.filter((document) => !matches(document));
      result.deleted += before - state.documents.length;
      return;
    }
    const position = state.documents.findIndex(matches);
    const existing = position >= 0 ? state.documents[position] : undefined;
    let next: PlainObject;
    if (operation.kind === 'upsert') next = existing === undefined ? insertedDocument(operation) : updatedDocument(existing, operation);
    else if (isPlainObject(operation.document)) next = replacementDocument(existing, operation.filter, operation.document);
    else throw refused('a replacement must be a plain object');
    this.checkUnique(state, next, position);
    if (existing === undefined) {
      state.documents.push(next);
      result.upserted += 1;
    } else {
      state.documents[position] = next;
      result.matched += 1;
      if (canonicalKey(existing) !== canonicalKey(next)) result.modified += 1;
    }
  }

  /** A duplicate key is retriable, mirroring `classifyMongoError` for code 11000 (a concurrent-upsert race). */
  private checkUnique(state: CollectionState, candidate: PlainObject, self: number): void {
    for (const index of [ID_INDEX, ...[...state.indexes.values()].filter((i) => i.unique === true)]) {
      const keys = indexKeys(candidate, index);
      state.documents.forEach((other, position) => {
        if (position === self) return;
        for (const key of indexKeys(other, index)) {
          if (keys.has(key)) {
            throw new TributaryError('TRB_STORE_WRITE', `E11000 duplicate key error: collection "${this.name}" index "${index.name}"`, {
              retriable: true,
              context: { collection: this.name, index: index.name },
            });
          }
        }
      });
    }
  }

  async find(filter: Filter, options: FindOptions = {}): Promise<Document[]> {
    const matches = compileFilter(filter);
    checkOptions(options);
    const project = options.projection === undefined ? cloneDocument : compileProjection(options.projection);
    const compare = options.sort === undefined ? undefined : compileSort(options.sort);
    let found = this.owner.state(false).documents.filter(matches);
    if (compare !== undefined) found = [...found].sort(compare); // stable: ties keep insertion order
    const skip = options.skip ?? 0;
    const end = options.limit === undefined || options.limit === 0 ? undefined : skip + options.limit; // limit 0 means none, as in MongoDB
    return found.slice(skip, end).map(project);
  }

  async findOne(filter: Filter): Promise<Document | null> {
    const matches: Matcher = compileFilter(filter);
    const found = this.owner.state(false).documents.find(matches);
    return found === undefined ? null : cloneDocument(found);
  }

  async count(filter: Filter = {}): Promise<number> {
    const matches = compileFilter(filter);
    return this.owner.state(false).documents.filter(matches).length;
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
      const named = state.indexes.get(index.name);
      if (named !== undefined) {
        if (sameIndex(named, index)) continue;
        throw refused(`index "${index.name}" already exists with different keys or options`, { collection: this.name, index: index.name });
      }
      const twin = [...state.indexes.values()].find((other) => sameIndex(other, index));
      if (twin !== undefined) throw refused(`index "${index.name}" already exists with a different name: "${twin.name}"`, { collection: this.name, index: index.name });
      if (index.unique === true) {
        const seen = new Set<string>();
        for (const document of state.documents) {
          for (const key of indexKeys(document, index)) {
            if (seen.has(key)) throw new TributaryError('TRB_STORE_WRITE', `E11000 duplicate key error building unique index "${index.name}" on "${this.name}"`, { retriable: true, context: { collection: this.name, index: index.name } });
          }
          for (const key of indexKeys(document, index)) seen.add(key);
        }
      }
      state.indexes.set(index.name, { name: index.name, fields: { ...index.fields }, ...(index.unique === true ? { unique: true } : {}) });
    }
  }

  async drop(): Promise<void> {
    this.owner.drop();
  }
}

export class MemoryDocumentStore implements DocumentStore {
  readonly kind = 'memory' as const;
  readonly #collections = new Map<string, CollectionState>();

  /** Nothing to reach. */
  async connect(): Promise<void> {}

  collection(name: string): Collection {
    if (typeof name !== 'string' || name === '' || name.includes('$') || name.includes('\0')) {
      throw new TributaryError('TRB_CONFIG', `invalid collection name "${String(name)}"`, { context: { collection: name } });
    }
    return new MemoryCollection(name, {
      state: (create) => this.#state(name, create),
      drop: () => this.#collections.delete(name),
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
      state = { documents: [], indexes: new Map() };
      if (create) this.#collections.set(name, state);
    }
    return state;
  }
}
