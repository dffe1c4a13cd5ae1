/**
 * The embedded store: the shared contract, plus what only it must guarantee (copy isolation, loud
 * refusal of filters it does not implement) and finer MongoDB semantics the contract leaves out
 * because FerretDB deviates from them.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ObjectId } from 'mongodb';
import { TributaryError } from '../../src/errors.js';
import { MemoryDocumentStore } from '../../src/store/memory/memory-store.js';
import type { Collection, Document, Filter, WriteOperation } from '../../src/store/types.js';
import { storeContract } from '../contract/store-contract.js';

storeContract('memory', async () => {
  const store = new MemoryDocumentStore();
  await store.connect();
  return { store, cleanup: () => store.close() };
});

async function failure(promise: Promise<unknown>): Promise<TributaryError> {
  const error = await promise.then(
    () => assert.fail('expected the call to fail'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof TributaryError, `expected a TributaryError, got ${String(error)}`);
  return error;
}

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
