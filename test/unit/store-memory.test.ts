/**
 * The embedded store: the shared contract, plus what only it must guarantee (copy isolation, loud
 * refusal of filters it does not implement) and finer MongoDB semantics the contract leaves out.
 */
import { describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ObjectId } from 'mongodb';
import { TributaryError } from '../../src/errors.js';
import { CollectionIndexes } from '../../src/store/memory/indexes.js';
import { MemoryDocumentStore } from '../../src/store/memory/memory-store.js';
import type { Collection, Document, Filter, IndexSpec, WriteOperation } from '../../src/store/types.js';
import { storeContract } from '../contract/store-contract.js';
import { failure } from '../contract/helpers.js';

storeContract('memory', async () => {
  const store = new MemoryDocumentStore();
  await store.connect();
  return { store, cleanup: () => store.close() };
});


function collection(): Collection {
  return new MemoryDocumentStore().collection('c');
}

async function seed(c: Collection, documents: Document[]): Promise<void> {
  await c.bulkWrite(documents.map((document) => ({ kind: 'replace', filter: { k: document['k'] }, document })));
}

async function keys(c: Collection, filter: Filter): Promise<unknown[]> {
  return (await c.find(filter, { sort: { k: 1 } })).map((document) => document['k']);
}

describe('MemoryDocumentStore', () => {
  it('copies on write and on read: callers cannot reach stored state', async () => {
    const c = collection();
    const written = { k: 'a', nested: { list: [1, { x: 1 }] }, at: new Date(0) };
    await c.bulkWrite([{ kind: 'replace', filter: { k: 'a' }, document: written }]);
    written.nested.list.push(2);
    written.at.setTime(5);
    const set = { nested: { deep: [1] } };
    await c.bulkWrite([{ kind: 'upsert', filter: { k: 'b' }, set }]);
    set.nested.deep.push(2);

    const read = await c.findOne({ k: 'a' });
    assert.ok(read);
    (read['nested'] as { list: unknown[] }).list.length = 0;
    (read['at'] as Date).setTime(99);
    const [found] = await c.find({ k: 'a' }, { projection: { nested: 1 } });
    (found?.['nested'] as { list: unknown[] }).list.push('mutated');

    assert.deepEqual(await c.find({ k: 'a' }, { projection: { _id: 0 } }), [{ k: 'a', nested: { list: [1, { x: 1 }] }, at: new Date(0) }]);
    assert.deepEqual(await c.find({ k: 'b' }, { projection: { _id: 0 } }), [{ k: 'b', nested: { deep: [1] } }]);
  });

  it('refuses every filter operator it does not implement, naming it, even on an empty collection', async () => {
    const c = collection();
    const refused: [Filter, string][] = [
      [{ $or: [{ k: 'a' }] }, '$or'],
      [{ $and: [{ k: 'a' }] }, '$and'],
      [{ k: { $regex: '^a' } }, '$regex'],
      [{ k: /^a/ }, '$regex'],
      [{ tags: { $elemMatch: { x: 1 } } }, '$elemMatch'],
      [{ k: { $nin: ['a'] } }, '$nin'],
      [{ k: { $exists: true, other: 1 } }, 'mixes operators'],
      [{ k: { $gt: null } }, '$gt'],
      [{ k: { $in: 'a' } }, '$in'],
    ];
    for (const [filter, named] of refused) {
      for (const call of [() => c.find(filter), () => c.findOne(filter), () => c.count(filter), () => c.bulkWrite([{ kind: 'delete', filter }])]) {
        const error = await failure(call());
        assert.equal(error.code, 'TRB_CONFIG', JSON.stringify(filter));
        assert.ok(error.message.includes(named), `${error.message} names ${named}`);
      }
    }
  });

  it('follows MongoDB on dotted paths through arrays, positions, $eq and null', async () => {
    const c = collection();
    await seed(c, [
      { k: '1', rows: [{ a: 1 }, { a: 2, b: 1 }], list: [10, 20] },
      { k: '2', rows: [{ a: 3, b: 2 }], list: [20] },
      { k: '3', rows: 'scalar' },
    ]);
    assert.deepEqual(await keys(c, { 'rows.a': 2 }), ['1']);
    assert.deepEqual(await keys(c, { 'rows.0.a': 3 }), ['2']);
    assert.deepEqual(await keys(c, { 'list.1': 20 }), ['1']);
    assert.deepEqual(await keys(c, { 'rows.b': null }), ['1', '3'], 'an element without the field, or no path at all');
    assert.deepEqual(await keys(c, { 'rows.0.b': null }), ['1', '3']);
    assert.deepEqual(await keys(c, { list: { $eq: 20 } }), ['1', '2']);
    assert.deepEqual(await keys(c, { list: { $gt: 15, $lt: 25 } }), ['1', '2']);
    assert.deepEqual(await keys(c, { missing: { $in: [null] } }), ['1', '2', '3']);
    const [first] = await c.find({ k: '1' });
    assert.ok(first?.['_id'] instanceof ObjectId, 'inserted documents get an ObjectId');
    assert.deepEqual(Object.keys(first), ['_id', 'k', 'rows', 'list'], '_id first, as MongoDB stores it');
    assert.deepEqual(await keys(c, { _id: first['_id'] }), ['1']);
  });

  it('projects and sorts like MongoDB', async () => {
    const c = collection();
    await seed(c, [
      { k: 'a', v: [3, 8], rows: [{ x: 1, y: 1 }, 5, { y: 2 }] },
      { k: 'b', v: 'text' },
      { k: 'c' },
      { k: 'd', v: 4 },
    ]);
    assert.deepEqual(await c.find({ k: 'a' }, { projection: { _id: 0, 'rows.x': 1 } }), [{ rows: [{ x: 1 }, {}] }]);
    assert.deepEqual(await c.find({ k: 'a' }, { projection: { _id: 0, k: 0, v: 0, 'rows.y': 0 } }), [{ rows: [{ x: 1 }, 5, {}] }]);
    const [onlyId] = await c.find({ k: 'a' }, { projection: { _id: 1 } });
    assert.deepEqual(Object.keys(onlyId ?? {}), ['_id']);
    assert.equal((await failure(c.find({}, { projection: { k: 1, v: 0 } }))).code, 'TRB_CONFIG');
    // Missing sorts as null, before numbers, before strings; an array by its min (asc) or max (desc).
    assert.deepEqual((await c.find({}, { sort: { v: 1 } })).map((d) => d['k']), ['c', 'a', 'd', 'b']);
    assert.deepEqual((await c.find({}, { sort: { v: -1 } })).map((d) => d['k']), ['b', 'a', 'd', 'c']);
    assert.deepEqual((await c.find({}, { skip: 1, limit: 0 })).length, 3, 'limit 0 means no limit');
    assert.equal((await failure(c.find({}, { limit: -1 }))).code, 'TRB_CONFIG');
  });

  it('enforces unique indexes like MongoDB: missing is null, arrays index each element, building over duplicates fails', async () => {
    const c = collection();
    await c.createIndexes([{ name: 'ab', fields: { a: 1, b: 1 }, unique: true }, { name: 'tags', fields: { tags: 1 }, unique: true }]);
    await seed(c, [{ k: '1', a: 1, tags: ['x', 'y'] }]);
    const missingIsNull = await failure(seed(c, [{ k: '2', a: 1, b: null }]));
    assert.deepEqual([missingIsNull.code, missingIsNull.retriable], ['TRB_STORE_WRITE', true]);
    assert.equal((await failure(seed(c, [{ k: '3', a: 2, tags: ['z', 'y'] }]))).code, 'TRB_STORE_WRITE');
    await seed(c, [{ k: '4', a: 2, tags: ['z'] }]);
    const id = (await c.findOne({ k: '4' }))?.['_id'];
    assert.equal((await failure(c.bulkWrite([{ kind: 'replace', filter: { k: '5' }, document: { _id: id, k: '5' } }]))).code, 'TRB_STORE_WRITE', '_id is always unique');

    const building = await failure(c.createIndexes([{ name: 'b_unique', fields: { b: 1 }, unique: true }]));
    assert.deepEqual([building.code, building.retriable], ['TRB_STORE_WRITE', true], 'two documents without b collide');
    const renamed = await failure(c.createIndexes([{ name: 'other', fields: { a: 1, b: 1 }, unique: true }]));
    assert.deepEqual([renamed.code, renamed.retriable], ['TRB_STORE_WRITE', false]);
    const respecified = await failure(c.createIndexes([{ name: 'ab', fields: { b: 1 } }]));
    assert.deepEqual([respecified.code, respecified.retriable], ['TRB_STORE_WRITE', false]);
    assert.equal(await c.count(), 2);
  });

  it('refuses keys with $ or . and changes of _id, as permanent failures; stops a batch at the first failure', async () => {
    const c = collection();
    const bad: WriteOperation[] = [
      { kind: 'replace', filter: { k: 'a' }, document: { k: 'a', nested: { $x: 1 } } },
      { kind: 'upsert', filter: { k: 'a' }, set: { v: { 'a.b': 1 } } },
      { kind: 'upsert', filter: { k: 'a' }, set: { $v: 1 } },
    ];
    for (const operation of bad) assert.deepEqual(await failure(c.bulkWrite([operation])).then((e) => [e.code, e.retriable]), ['TRB_STORE_WRITE', false]);
    assert.equal(await c.count(), 0);

    await c.bulkWrite([{ kind: 'upsert', filter: { k: 'a' }, set: { v: 1 } }]);
    const batch = c.bulkWrite([
      { kind: 'upsert', filter: { k: 'a' }, set: { v: 2 } },
      { kind: 'upsert', filter: { k: 'a' }, set: { _id: 'other' } },
      { kind: 'upsert', filter: { k: 'b' }, set: { v: 1 } },
    ]);
    const error = await failure(batch);
    assert.deepEqual([error.code, error.retriable, error.context['operation']], ['TRB_STORE_WRITE', false, 1]);
    assert.deepEqual(await keys(c, {}), ['a'], 'the operation after the failure never ran');
    assert.equal((await c.findOne({ k: 'a' }))?.['v'], 2, 'the one before it stays applied');
  });

  it('upsert inserts: filter equalities, $setOnInsert, $set, then $unset; $unset of an array element leaves null', async () => {
    const c = collection();
    await c.bulkWrite([{ kind: 'upsert', filter: { k: 'a', 'm.id': 7, skip: { $in: [1] } }, set: { z: 1, 'm.name': 'n', k2: [1, 2, 3] }, setOnInsert: { b: 0 }, unset: ['gone'] }]);
    const [stored] = await c.find({}, { projection: { _id: 0 } });
    assert.deepEqual(stored, { k: 'a', m: { id: 7, name: 'n' }, b: 0, k2: [1, 2, 3], z: 1 });
    assert.deepEqual(Object.keys(stored ?? {}), ['k', 'm', 'b', 'k2', 'z'], 'new fields land in lexicographic order (MongoDB 5+)');
    await c.bulkWrite([{ kind: 'upsert', filter: { k: 'a' }, set: { 'k2.5': 6 }, unset: ['k2.1'] }]);
    assert.deepEqual((await c.findOne({ k: 'a' }))?.['k2'], [1, null, 3, null, null, 6]);
  });

  it('stays readable after close() (the runner closes it when a topology stops; tests inspect it after)', async () => {
    const store = new MemoryDocumentStore();
    await store.connect();
    await store.collection('c').bulkWrite([{ kind: 'upsert', filter: { k: 'a' }, set: {} }]);
    await store.close();
    assert.equal(await store.collection('c').count(), 1);
    assert.equal(store.kind, 'memory');
    assert.throws(() => store.collection('bad$name'), (e: unknown) => e instanceof TributaryError && e.code === 'TRB_CONFIG');
  });
});

describe('MemoryDocumentStore hash indexes', () => {
  const INDEXES: IndexSpec[] = [{ name: 'id', fields: { id: 1 } }, { name: 'fk', fields: { customer_id: 1, __STATE__: 1 } }, { name: 'tags', fields: { tags: 1 } }];
  const documents: Document[] = Array.from({ length: 40 }, (_, i) => ({
    _id: `d${(i * 7) % 40}`,
    id: `k${i % 12}`,
    ...(i % 5 === 0 ? {} : { customer_id: i % 6 === 0 ? null : `c${i % 4}` }), // missing, null or a value
    __STATE__: i % 3 === 0 ? 'DELETED' : 'PUBLIC',
    ...{ __internal__counter: i % 7, __internal__kafkaInfo: { offset: String(i % 4) } },
    tags: i % 2 === 1 ? ['x', `t${i % 3}`] : i % 4 === 0 ? [] : 'x',
    n: i % 5,
  }));
  const changes: WriteOperation[] = [
    { kind: 'upsert', filter: { id: 'k3' }, set: { n: 9, tags: ['t9'] } },
    { kind: 'delete', filter: { customer_id: 'c1', __STATE__: 'DELETED' } },
    { kind: 'replace', filter: { _id: 'd14' }, document: { id: 'k1', customer_id: 'c2', __STATE__: 'PUBLIC', n: 1 } },
    { kind: 'delete', filter: { _id: { $in: ['d0', 'd21'] } } },
    { kind: 'replace', filter: { _id: 'd0' }, document: { id: 'k5', customer_id: 'c1', __STATE__: 'PUBLIC', tags: 'x', n: 4 } },
  ];

  it('find, findOne and count read candidates from an index when a filter pins its fields, with the results of a scan', async () => {
    const [indexed, scanned] = [collection(), collection()];
    await indexed.createIndexes(INDEXES);
    for (const c of [indexed, scanned]) await c.bulkWrite([...documents.map((document): WriteOperation => ({ kind: 'replace', filter: { _id: document['_id'] }, document })), ...changes]);
    const lookups = mock.method(CollectionIndexes.prototype, 'candidates');
    const filters: [Filter, 'index' | 'scan'][] = [
      ...[{ id: 'k1' }, { id: { $in: ['k1', 'k5', 'k1', 'zz'] } }, { _id: 'd7' }, { id: { $in: [] } }].map((f): [Filter, 'index'] => [f, 'index']),
      [{ id: 'k3', __internal__counter: 3, '__internal__kafkaInfo.offset': '3' }, 'index'],
      [{ id: { $in: ['k2', 'k4', 'k6'] }, n: { $gte: 2 }, tags: { $exists: true } }, 'index'],
      [{ customer_id: { $in: ['c1', 'c2'] }, __STATE__: 'PUBLIC' }, 'index'],
      [{ customer_id: null, __STATE__: { $in: ['PUBLIC', 'DELETED'] } }, 'index'],
      [{ customer_id: { $eq: 'c3', $ne: 'c1' }, __STATE__: 'DELETED', n: { $lt: 3 } }, 'index'],
      [{ tags: 'x', n: { $gt: 0 } }, 'index'],
      [{ tags: { $in: ['t1', 't9', null] } }, 'index'],
      // A prefix of a compound index, no equality, an array value (it may equal a stored array as a whole), no filter.
      ...[{ customer_id: { $in: ['c1'] } }, { id: { $ne: 'k1' } }, { tags: ['x', 't1'] }, { tags: [] }, {}].map((f): [Filter, 'scan'] => [f, 'scan']),
    ];
    try {
      for (const [filter, expected] of filters) {
        const options = { sort: { n: -1 as const }, skip: 1, limit: 4 };
        const before = lookups.mock.callCount();
        const found = await indexed.find(filter);
        const call = lookups.mock.calls[before];
        assert.equal(call?.result === undefined ? 'scan' : 'index', expected, JSON.stringify(filter));
        assert.ok(expected === 'scan' || (call?.result?.length ?? 0) < documents.length, `${JSON.stringify(filter)} reads fewer documents than a scan`);
        assert.deepEqual(found, await scanned.find(filter), JSON.stringify(filter));
        assert.deepEqual(await indexed.find(filter, options), await scanned.find(filter, options), JSON.stringify(filter));
        assert.deepEqual(await indexed.findOne(filter), await scanned.findOne(filter), JSON.stringify(filter));
        assert.equal(await indexed.count(filter), await scanned.count(filter), JSON.stringify(filter));
      }
      assert.ok((await indexed.find({ id: { $in: ['k1', 'k5'] } })).length >= 4, 'the filters above do find documents');
    } finally {
      lookups.mock.restore();
    }
  });

  it('unique violations are raised as before, after a delete frees a key and after a replace changes one', async () => {
    const c = collection();
    await c.createIndexes([{ name: 'email_unique', fields: { email: 1 }, unique: true }]);
    await seed(c, [{ k: 'a', email: 'a@x' }, { k: 'b', email: 'b@x' }]);
    const rejected = async (operation: WriteOperation, index = 'email_unique'): Promise<void> => {
      const error = await failure(c.bulkWrite([operation]));
      assert.deepEqual([error.code, error.retriable, error.context['index']], ['TRB_STORE_WRITE', true, index], error.message);
    };
    await rejected({ kind: 'upsert', filter: { k: 'c' }, set: { email: 'a@x' } });
    await c.bulkWrite([{ kind: 'delete', filter: { email: 'a@x' } }]);
    await c.bulkWrite([{ kind: 'upsert', filter: { k: 'c' }, set: { email: 'a@x' } }]);
    await rejected({ kind: 'upsert', filter: { k: 'd' }, set: { email: 'a@x' } });

    await c.bulkWrite([{ kind: 'replace', filter: { k: 'b' }, document: { k: 'b', email: 'B@x' } }]);
    await c.bulkWrite([{ kind: 'upsert', filter: { k: 'e' }, set: { email: 'b@x' } }]);
    await rejected({ kind: 'upsert', filter: { k: 'f' }, set: { email: 'B@x' } });
    await rejected({ kind: 'replace', filter: { k: 'e' }, document: { k: 'e', email: 'B@x' } });
    await c.bulkWrite([{ kind: 'upsert', filter: { k: 'b' }, set: { email: 'B@x', v: 1 } }]);
    assert.deepEqual(await keys(c, { email: { $in: ['a@x', 'b@x', 'B@x'] } }), ['b', 'c', 'e']);

    const id = (await c.findOne({ k: 'c' }))?.['_id'];
    await rejected({ kind: 'replace', filter: { k: 'g' }, document: { _id: id, k: 'g' } }, '_id_');
    await c.bulkWrite([{ kind: 'delete', filter: { _id: id } }]);
    await c.bulkWrite([{ kind: 'replace', filter: { k: 'g' }, document: { _id: id, k: 'g' } }]);
    assert.deepEqual(await keys(c, { _id: id }), ['g']);
  });

  it('random sequences of writes leave identical find results with and without indexes', async () => {
    const value = fc.constantFrom<unknown>('a', 'b', 1, new Date(0), null, ['a', 2], { x: 1 });
    const field = fc.constantFrom('k', 'g', 'tags', 'm.x');
    const condition = fc.oneof(value, fc.record({ $in: fc.array(value, { maxLength: 3 }) }), fc.record({ $ne: value }), fc.record({ $exists: fc.boolean() }));
    const filter = fc.dictionary(field, condition, { maxKeys: 3 });
    const body = fc.record({ k: value, g: value, tags: value, m: fc.record({ x: value }), n: fc.nat(3) }, { requiredKeys: [] });
    const operation = fc.oneof(
      fc.record({ kind: fc.constant('upsert' as const), filter, set: body }),
      fc.record({ kind: fc.constant('replace' as const), filter, document: body }),
      fc.record({ kind: fc.constant('delete' as const), filter }),
    );
    const indexes: IndexSpec[] = [{ name: 'k', fields: { k: 1 } }, { name: 'gk', fields: { g: 1, k: -1 } }, { name: 'tags', fields: { tags: 1 } }, { name: 'mx', fields: { 'm.x': 1 } }];
    const outcome = (promise: Promise<unknown>) => promise.then((result) => ({ result }), (error: TributaryError) => ({ error: error.code }));
    // Indexes created after `indexAfter` batches (maybe never), so building over stored documents is exercised too.
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(operation, { minLength: 1, maxLength: 3 }), { maxLength: 25 }), fc.nat(25), fc.array(filter, { minLength: 1, maxLength: 6 }), async (batches, indexAfter, queries) => {
        const [indexed, scanned] = [collection(), collection()];
        for (const [i, batch] of batches.entries()) {
          if (i === indexAfter) await indexed.createIndexes(indexes);
          assert.deepEqual(await outcome(indexed.bulkWrite(batch)), await outcome(scanned.bulkWrite(batch)));
          for (const query of queries) {
            assert.deepEqual(await indexed.find(query, { projection: { _id: 0 } }), await scanned.find(query, { projection: { _id: 0 } }), JSON.stringify(query));
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});
