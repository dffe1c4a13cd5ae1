/**
 * What bounds a read's cost: `maxTimeMS` on every store query the read API makes (list, get,
 * count, each export batch, every query of a portable view, the watermark), configured by option
 * or SERVE_MAX_TIME_MS, surfacing as 503 TRB_QUERY_TIMEOUT; the in-process evaluation's deadline;
 * the mongo store passing the budget to the driver and reporting MaxTimeMSExpired as
 * TRB_QUERY_TIMEOUT; and the regex patterns refused for their cost. No I/O.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Collection as DriverCollection, MongoServerError } from 'mongodb';
import { MemoryDocumentStore } from '../../src/testing/index.js';
import { MongoDocumentStore } from '../../src/runtime.js';
import { createReadApi, type ReadApi } from '../../src/serve/index.js';
import { TributaryError, isTributaryError } from '../../src/errors.js';
import { createLogger } from '../../src/ops/logger.js';
import { executorFor } from '../../src/serve/executor.js';
import { repetitionProblem } from '../../src/serve/query/regex-cost.js';
import type { Collection, Document, DocumentStore, Filter, FindOptions, ReadOptions } from '../../src/store/types.js';
import topology from '../../topologies/customer-360.js';
import { seed } from '../fixtures/serve/data.js';
import { ordersWithCustomer } from '../fixtures/serve/views.js';

const logger = createLogger({ level: 'silent' });
const KEY = 'a-cursor-key-of-at-least-32-characters';

interface Call {
  readonly collection: string;
  readonly method: 'find' | 'count';
  readonly options: FindOptions | ReadOptions | undefined;
}

/** A store that says it is a MongoDB-wire store (filters pushed down), answers canned documents per collection and records every call. */
function recordingStore(answers: Record<string, Document[]>, fail?: TributaryError): DocumentStore & { calls: Call[] } {
  const calls: Call[] = [];
  const collection = (name: string): Collection => ({
    name,
    bulkWrite: async () => ({ upserted: 0, modified: 0, matched: 0, deleted: 0 }),
    renameTo: async () => undefined,
    find: async (_filter: Filter, options?: FindOptions) => {
      calls.push({ collection: name, method: 'find', options });
      if (fail) throw fail;
      return (answers[name] ?? []).map((d) => ({ ...d }));
    },
    findOne: async () => null,
    count: async (_filter?: Filter, options?: ReadOptions) => {
      calls.push({ collection: name, method: 'count', options });
      if (fail) throw fail;
      return (answers[name] ?? []).length;
    },
    createIndexes: async () => undefined,
    drop: async () => undefined,
  });
  // a server-side query engine: the plan (sort included) is sent to the store as it is
  const capabilities = async () => ({ serverQueries: true, views: false });
  return { kind: 'mongo', calls, connect: async () => undefined, close: async () => undefined, collection, capabilities };
}

const at = new Date('2026-01-01T00:00:00Z');
const answers = {
  pr_customers: [{ _id: 'c1', customer_id: 'c1', name: 'Ada', tier: 'gold', __STATE__: 'PUBLIC', createdAt: at, updatedAt: at }],
  pr_orders: [{ _id: 'o1', order_id: 'o1', customer_id: 'c1', total: 3, __STATE__: 'PUBLIC', createdAt: at, updatedAt: at }],
};

/** Every read route, on a collection and on a portable view (semi-join, page, attach). */
const ROUTES = [
  '/pr-customers/',
  '/pr-customers/?_s=name&_l=1',
  '/pr-customers/c1',
  '/pr-customers/count',
  '/pr-customers/export?_l=3',
  '/orders-with-customer/?_q=%7B%22customer.tier%22%3A%22gold%22%7D',
  '/orders-with-customer/o1',
  '/orders-with-customer/count?_q=%7B%22customer.tier%22%3A%22gold%22%7D',
  '/orders-with-customer/export?_l=2',
];

describe('maxTimeMS on every read-API query', () => {
  const apis: ReadApi[] = [];
  const start = async (store: DocumentStore, more: Partial<Parameters<typeof createReadApi>[0]> = {}) => {
    const api = await createReadApi({ topology, views: [ordersWithCustomer], viewMode: 'portable', store, logger, cursorKey: KEY, exportBatchSize: 1, ...more });
    apis.push(api);
    return api;
  };
  after(async () => {
    for (const api of apis) await api.close();
  });

  it('default 5000 ms on list, get, count, each export batch, every query of a view and the watermark', async () => {
    const store = recordingStore(answers);
    const api = await start(store);
    for (const url of ROUTES) assert.equal((await api.app.inject({ url, headers: { accept: 'application/json' } })).statusCode, 200, url);
    assert.ok(store.calls.some((c) => c.collection === 'pr_customers' && c.method === 'find' && (c.options as FindOptions).sort?.['updatedAt'] === -1), 'the watermark read is recorded');
    assert.ok(store.calls.filter((c) => c.collection === 'pr_customers' && c.method === 'find').length >= 3 + 3, 'export batches, semi-joins and attaches are recorded');
    for (const call of store.calls) assert.equal(call.options?.maxTimeMS, 5000, JSON.stringify(call));
  });

  it('configured by option or SERVE_MAX_TIME_MS (the option wins); 0 sends none; a bad value is TRB_CONFIG at start', async () => {
    for (const [more, expected] of [
      [{ maxTimeMS: 1234 }, 1234],
      [{ env: { SERVE_MAX_TIME_MS: '250' } }, 250],
      [{ maxTimeMS: 70, env: { SERVE_MAX_TIME_MS: '250' } }, 70],
      [{ maxTimeMS: 0 }, undefined],
    ] as const) {
      const store = recordingStore(answers);
      const api = await start(store, more);
      await api.app.inject('/pr-customers/count');
      await api.app.inject('/pr-customers/');
      assert.ok(store.calls.length >= 2);
      for (const call of store.calls) assert.equal(call.options?.maxTimeMS, expected, JSON.stringify(more));
    }
    for (const more of [{ maxTimeMS: -1 }, { maxTimeMS: 1.5 }, { env: { SERVE_MAX_TIME_MS: '5s' } }]) {
      await assert.rejects(start(recordingStore(answers), more), (e: unknown) => isTributaryError(e) && e.code === 'TRB_CONFIG', JSON.stringify(more));
    }
  });

  it('a query past its budget answers 503 TRB_QUERY_TIMEOUT on every route (export included: its first batch is read before the 200)', async () => {
    const api = await start(recordingStore(answers, new TributaryError('TRB_QUERY_TIMEOUT', 'find on "x" failed: operation exceeded time limit')));
    for (const url of ROUTES) {
      for (const accept of url.includes('/export') ? ['application/x-ndjson', 'application/json', 'text/csv'] : ['application/json']) {
        const r = await api.app.inject({ url, headers: { accept } });
        assert.equal(r.statusCode, 503, `${url} ${accept}: ${r.body}`);
        assert.equal((JSON.parse(r.body) as { code: string }).code, 'TRB_QUERY_TIMEOUT', url);
      }
    }
    const failing = await start(recordingStore(answers, new TributaryError('TRB_STORE_READ', 'find failed: connection reset')));
    const r = await failing.app.inject('/pr-customers/');
    assert.equal(r.statusCode, 503);
    assert.equal((JSON.parse(r.body) as { code: string }).code, 'TRB_STORE_READ', 'a failing store keeps its own code');
  });

  it('in process (memory store): the budget is passed to the store and checked before each document', async () => {
    const memory = new MemoryDocumentStore();
    await seed(memory);
    const seen: Array<FindOptions | undefined> = [];
    const spied: DocumentStore = {
      kind: 'memory',
      connect: async () => undefined,
      close: async () => undefined,
      collection: (name) => {
        const inner = memory.collection(name);
        return {
          name,
          bulkWrite: (operations) => inner.bulkWrite(operations),
          renameTo: (target) => inner.renameTo(target),
          find: (filter, options) => (seen.push(options), inner.find(filter, options)),
          findOne: (filter) => inner.findOne(filter),
          count: (filter, options) => inner.count(filter, options),
          createIndexes: (indexes) => inner.createIndexes(indexes),
          drop: () => inner.drop(),
        };
      },
    };
    let clock = 0;
    const executor = executorFor(spied, { maxTimeMS: 10, now: () => (clock += 4) });
    await assert.rejects(executor.find('pr_customers', { filter: {}, sort: [] }), (e: unknown) => isTributaryError(e) && e.code === 'TRB_QUERY_TIMEOUT');
    await assert.rejects(executor.count('pr_customers', {}), (e: unknown) => isTributaryError(e) && e.code === 'TRB_QUERY_TIMEOUT');
    assert.deepEqual(seen, [{ maxTimeMS: 10 }, { maxTimeMS: 10 }]);
    const unbounded = executorFor(spied, { maxTimeMS: 0, now: () => (clock += 1000) });
    assert.equal(await unbounded.count('pr_customers', {}), 6);
  });

  it('the memory store honours maxTimeMS itself (0 = none) and refuses a negative one', async () => {
    const memory = new MemoryDocumentStore();
    await seed(memory);
    assert.equal((await memory.collection('pr_customers').find({}, { maxTimeMS: 0 })).length, 6);
    assert.equal(await memory.collection('pr_customers').count({}, { maxTimeMS: 60_000 }), 6);
    await assert.rejects(memory.collection('pr_customers').count({}, { maxTimeMS: -1 }), (e: unknown) => isTributaryError(e) && e.code === 'TRB_CONFIG');
  });
});

describe('mongo store: maxTimeMS reaches the driver; MaxTimeMSExpired is TRB_QUERY_TIMEOUT', () => {
  const original = { find: DriverCollection.prototype.find, countDocuments: DriverCollection.prototype.countDocuments };
  const sent: Array<{ method: string; options: unknown }> = [];
  const expired = () => new MongoServerError({ message: 'operation exceeded time limit', code: 50, codeName: 'MaxTimeMSExpired' });
  before(() => {
    // The driver's collection calls are replaced: the store under test builds its commands without I/O.
    (DriverCollection.prototype as unknown as { find: unknown }).find = function (_filter: unknown, options: unknown) {
      sent.push({ method: 'find', options });
      return { toArray: () => Promise.reject(expired()) };
    };
    (DriverCollection.prototype as unknown as { countDocuments: unknown }).countDocuments = function (_filter: unknown, options: unknown) {
      sent.push({ method: 'countDocuments', options });
      return Promise.reject(expired());
    };
  });
  after(() => {
    DriverCollection.prototype.find = original.find;
    DriverCollection.prototype.countDocuments = original.countDocuments;
  });

  it('find and count', async () => {
    const store = new MongoDocumentStore({ url: 'mongodb://127.0.0.1:27017/?directConnection=true', database: 'ok_1' });
    const c = store.collection('pr_customers');
    for (const call of [() => c.find({ a: 1 }, { limit: 2, maxTimeMS: 150 }), () => c.count({ a: 1 }, { maxTimeMS: 150 })]) {
      const failure = await call().then(() => undefined, (e: unknown) => e);
      assert.ok(isTributaryError(failure), String(failure));
      assert.equal(failure.code, 'TRB_QUERY_TIMEOUT');
      assert.equal(failure.retriable, false);
    }
    assert.deepEqual(sent, [
      { method: 'find', options: { limit: 2, maxTimeMS: 150, batchSize: 2 } },
      { method: 'countDocuments', options: { maxTimeMS: 150 } },
    ]);
    assert.equal(store.clientReplacements, 0, 'a query over its budget does not retire the client');
    await store.close();
  });

  it('a find asks for its whole result in the first reply: batchSize is the limit, else 100 000 (no getMore, which DocumentDB answers at ~4x a first page)', async () => {
    const store = new MongoDocumentStore({ url: 'mongodb://127.0.0.1:27017/?directConnection=true', database: 'ok_1' });
    sent.length = 0;
    await store.collection('pr_customers').find({ a: { $in: [1, 2] } }).catch(() => undefined);
    assert.deepEqual(sent, [{ method: 'find', options: { batchSize: 100_000 } }]);
    await store.close();
  });
});

describe('regex cost: patterns refused before any query runs', () => {
  it('nested quantifiers and back-references are refused; ordinary patterns pass', () => {
    for (const pattern of ['^(a+)+$', '(a*)*b', '(\\w+\\s?)*$', '([a-z]+){2,}', '((ab)*c)+', '(x+x+)+y', '(a+)+?', '^(\\d+,)*\\d+$', '(a)\\1', '(?<n>a)\\k<n>']) {
      assert.ok(repetitionProblem(pattern) !== undefined, pattern);
    }
    for (const pattern of ['^Ada', '^[A-C]', 'a+b+c*', '(ab)+', '(foo|bar)*baz', '^(a+){1}$', '[(a+)+]', '\\(a+\\)+', '^x{2,5}$', '(a+)?b', 'a{', '^\\d{3}-\\d{4}$']) {
      assert.equal(repetitionProblem(pattern), undefined, pattern);
    }
  });

  it('over HTTP: a 400 TRB_QUERY_INVALID naming the $regex, also in the x-flag spelling', async () => {
    const store = new MemoryDocumentStore();
    await seed(store);
    const api = await createReadApi({ topology, store, logger, cursorKey: KEY });
    try {
      for (const condition of [{ $regex: '^(a+)+$' }, { $regex: '^(a+) +$', $options: 'x' }]) {
        const r = await api.app.inject(`/pr-customers/?_q=${encodeURIComponent(JSON.stringify({ name: condition }))}`);
        assert.equal(r.statusCode, 400, r.body);
        const body = JSON.parse(r.body) as { code: string; path: string; message: string };
        assert.equal(body.code, 'TRB_QUERY_INVALID');
        assert.equal(body.path, '_q.name.$regex');
        assert.match(body.message, /nested quantifiers/);
      }
      assert.equal((await api.app.inject(`/pr-customers/count?_q=${encodeURIComponent(JSON.stringify({ name: { $regex: '^(ada|bob) ' , $options: 'i' } }))}`)).body, '2');
    } finally {
      await api.close();
    }
  });
});
