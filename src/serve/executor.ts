/**
 * Runs a validated read plan against the store. A store whose server evaluates queries
 * (`capabilities().serverQueries`: MongoDB, DocumentDB) gets the whole filter, sort, skip and limit.
 * One that only understands the pipeline's flat filters (the embedded memory store) has the plan
 * evaluated in process by the memory store's own matcher (store/memory/match.ts, vocabulary
 * 'query'); it is a development and test store, not a serving one.
 *
 * Every store query carries the read API's time budget (`maxTimeMS`): the server stops a query past
 * it, and the store reports TRB_QUERY_TIMEOUT. In process, the clock is read before each document
 * is matched (one document's match is not cut short: query/regex-cost.ts refuses the patterns that
 * could make it long).
 */
import { TributaryError } from '../errors.js';
import type { Document, DocumentStore, FindOptions } from '../store/types.js';
import { compileMatcher } from '../store/memory/match.js';
import { compileProjection, compileSort } from '../store/memory/query.js';
import type { SortSpec } from './query/cursor.js';
import { storeCapabilities } from './capabilities.js';

export interface FindPlan {
  readonly filter: Record<string, unknown>;
  readonly sort: SortSpec;
  readonly projection?: Readonly<Record<string, 0 | 1>>;
  readonly skip?: number;
  readonly limit?: number;
}

export interface ReadExecutor {
  find(collection: string, plan: FindPlan): Promise<Document[]>;
  count(collection: string, filter: Record<string, unknown>): Promise<number>;
}

export interface ExecutorOptions {
  /** Time budget of each store query in ms; 0 = none. */
  readonly maxTimeMS: number;
  /** Milliseconds clock of the in-process evaluation (tests pass a fake one). */
  readonly now?: () => number;
}

export function executorFor(store: DocumentStore, options: ExecutorOptions): ReadExecutor {
  const capabilities = storeCapabilities(store);
  const chosen = async () => ((await capabilities()).serverQueries ? pushdown(store, options) : inProcess(store, options));
  return {
    find: async (collection, plan) => (await chosen()).find(collection, plan),
    count: async (collection, filter) => (await chosen()).count(collection, filter),
  };
}

function pushdown(store: DocumentStore, { maxTimeMS }: ExecutorOptions): ReadExecutor {
  const budget = maxTimeMS > 0 ? { maxTimeMS } : {};
  return {
    find: (collection, plan) => {
      const options: { -readonly [K in keyof FindOptions]: FindOptions[K] } = { ...budget };
      if (plan.sort.length > 0) options.sort = Object.fromEntries(plan.sort);
      if (plan.projection) options.projection = plan.projection;
      if (plan.skip !== undefined && plan.skip > 0) options.skip = plan.skip;
      if (plan.limit !== undefined) options.limit = plan.limit;
      return store.collection(collection).find(plan.filter, options);
    },
    count: (collection, filter) => store.collection(collection).count(filter, budget),
  };
}

function inProcess(store: DocumentStore, { maxTimeMS, now = () => performance.now() }: ExecutorOptions): ReadExecutor {
  const budget = maxTimeMS > 0 ? { maxTimeMS } : {};
  const matching = async (collection: string, filter: Record<string, unknown>) => {
    const matcher = compileMatcher(filter, 'query');
    const deadline = maxTimeMS > 0 ? now() + maxTimeMS : Number.POSITIVE_INFINITY;
    const matched: Document[] = [];
    for (const doc of await store.collection(collection).find({}, budget)) {
      if (now() > deadline) throw new TributaryError('TRB_QUERY_TIMEOUT', `query on "${collection}" exceeded its time budget of ${maxTimeMS} ms (maxTimeMS)`, { context: { collection, maxTimeMS } });
      if (matcher(doc)) matched.push(doc);
    }
    return matched;
  };
  return {
    find: async (collection, plan) => {
      let docs = await matching(collection, plan.filter);
      if (plan.sort.length > 0) docs.sort(compileSort(Object.fromEntries(plan.sort)));
      const start = plan.skip ?? 0;
      docs = docs.slice(start, plan.limit === undefined ? undefined : start + plan.limit);
      if (plan.projection) {
        const project = compileProjection(plan.projection);
        docs = docs.map(project);
      }
      return docs;
    },
    count: async (collection, filter) => (await matching(collection, filter)).length,
  };
}
