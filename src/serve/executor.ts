/**
 * Runs a validated read plan against the store. A store whose server evaluates queries
 * (`capabilities().serverQueries`: MongoDB, FerretDB) gets the whole filter, sort, skip and limit.
 * One that only understands the pipeline's flat filters (the embedded memory store) has the plan
 * evaluated in process by the memory store's own matcher (store/memory/match.ts, vocabulary 'query'); it is a development and test
 * store, not a serving one.
 */
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

export function executorFor(store: DocumentStore): ReadExecutor {
  const capabilities = storeCapabilities(store);
  const chosen = async () => ((await capabilities()).serverQueries ? pushdown(store) : inProcess(store));
  return {
    find: async (collection, plan) => (await chosen()).find(collection, plan),
    count: async (collection, filter) => (await chosen()).count(collection, filter),
  };
}

function pushdown(store: DocumentStore): ReadExecutor {
  return {
    find: (collection, plan) => {
      const options: { -readonly [K in keyof FindOptions]: FindOptions[K] } = {};
      if (plan.sort.length > 0) options.sort = Object.fromEntries(plan.sort);
      if (plan.projection) options.projection = plan.projection;
      if (plan.skip !== undefined && plan.skip > 0) options.skip = plan.skip;
      if (plan.limit !== undefined) options.limit = plan.limit;
      return store.collection(collection).find(plan.filter, options);
    },
    count: (collection, filter) => store.collection(collection).count(filter),
  };
}

function inProcess(store: DocumentStore): ReadExecutor {
  const matching = async (collection: string, filter: Record<string, unknown>) => {
    const matcher = compileMatcher(filter, 'query');
    return (await store.collection(collection).find({})).filter(matcher);
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
