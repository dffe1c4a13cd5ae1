/**
 * The mongo store against the real server (DocumentDB in CI, MongoDB where MONGODB_URL points at one):
 * the shared contract, plus what only a server can show — driver errors kept as `cause`, failures
 * to reach it classified as retriable, and MongoDB semantics the contract does not pin.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MongoClient, MongoServerError, ObjectId } from 'mongodb';
import { MongoDocumentStore } from '../../src/store/mongo/mongo-store.js';
import { storeContract } from '../contract/store-contract.js';
import { services, uniqueName, dropDatabase } from './services.js';
import { failure } from '../contract/helpers.js';

/** Letters, digits and underscores only: DocumentDB keeps each database's collections in PostgreSQL tables. */
function databaseName(label: string): string {
  return uniqueName(label).replace(/[^A-Za-z0-9_]/g, '_');
}

function openStore(database: string): MongoDocumentStore {
  return new MongoDocumentStore({ url: services.mongoUrl, database, clientOptions: { serverSelectionTimeoutMS: 10_000 } });
}

storeContract('mongo', async () => {
  const database = databaseName('store_contract');
  const store = openStore(database);
  await store.connect();
  return {
    store,
    cleanup: async () => {
      await store.close();
      await dropDatabase(database);
    },
  };
});


describe('MongoDocumentStore on the real server', () => {
  const database = databaseName('store_mongo');
  const store = openStore(database);
  before(async () => {
    await store.connect();
  });
  after(async () => {
    await store.close();
    await dropDatabase(database);
  });

  it('keeps the driver error as cause, and the collection and database as context', async () => {
    const c = store.collection('errors');
    await c.createIndexes([{ name: 'k_unique', fields: { k: 1 }, unique: true }]);
    await c.bulkWrite([{ kind: 'replace', filter: { k: 'a' }, document: { k: 'a' } }]);
    const error = await failure(c.bulkWrite([{ kind: 'replace', filter: { k: 'b' }, document: { k: 'a' } }]));
    assert.equal(error.code, 'TRB_STORE_WRITE');
    assert.ok(error.cause instanceof MongoServerError);
    assert.equal(error.cause.code, 11000);
    assert.deepEqual({ database: error.context['database'], collection: error.context['collection'] }, { database, collection: 'errors' });
    assert.ok((await c.findOne({ k: 'a' }))?.['_id'] instanceof ObjectId, 'find returns _id as the server stores it');
  });

  it('writes a bulk of 300 replaces over existing documents, four at once', async () => {
    const c = store.collection('large_bulk');
    await c.createIndexes([{ name: 'pk', fields: { k: 1 }, unique: true }]);
    const replaces = (v: number, from: number) => Array.from({ length: 300 }, (_, i) => ({ kind: 'replace' as const, filter: { k: `${from}-${i}` }, document: { k: `${from}-${i}`, v } }));
    for (const from of [0, 1, 2, 3]) await c.bulkWrite(replaces(1, from));
    const results = await Promise.all([0, 1, 2, 3].map((from) => c.bulkWrite(replaces(2, from))));
    assert.deepEqual(results.map((r) => r.matched), [300, 300, 300, 300]);
    assert.equal(await c.count({ v: 2 }), 1200);
  });

  it('classifies an unreachable server as retriable: TRB_CONNECT on connect, TRB_STORE_READ/WRITE on use', async () => {
    const unreachable = new MongoDocumentStore({ url: 'mongodb://127.0.0.1:1/?directConnection=true', database: 'nowhere', clientOptions: { serverSelectionTimeoutMS: 300 } });
    try {
      const connect = await failure(unreachable.connect());
      assert.deepEqual([connect.code, connect.retriable], ['TRB_CONNECT', true]);
      const read = await failure(unreachable.collection('c').count());
      assert.deepEqual([read.code, read.retriable], ['TRB_STORE_READ', true]);
      const write = await failure(unreachable.collection('c').bulkWrite([{ kind: 'delete', filter: { k: 'a' } }]));
      assert.deepEqual([write.code, write.retriable], ['TRB_STORE_WRITE', true]);
    } finally {
      await unreachable.close();
    }
  });

  it('after close() calls fail, not retriable, until connect()', async () => {
    const ownDatabase = databaseName('store_closing');
    const own = openStore(ownDatabase);
    try {
      const c = own.collection('closing');
      await c.bulkWrite([{ kind: 'upsert', filter: { k: 'a' }, set: { v: 1 } }]);
      await own.close();
      const read = await failure(c.count());
      assert.deepEqual([read.code, read.retriable], ['TRB_STORE_READ', false]);
      const write = await failure(c.bulkWrite([{ kind: 'upsert', filter: { k: 'b' }, set: {} }]));
      assert.deepEqual([write.code, write.retriable], ['TRB_STORE_WRITE', false]);
      await own.connect();
      assert.deepEqual(await c.find({}, { projection: { _id: 0 } }), [{ k: 'a', v: 1 }]);
    } finally {
      await own.close();
      await dropDatabase(ownDatabase);
    }
  });

  it('refuses a filter the server rejects as a permanent read failure', async () => {
    const error = await failure(store.collection('errors').find({ k: { $unknownOperator: 1 } }));
    assert.deepEqual([error.code, error.retriable], ['TRB_STORE_READ', false]);
  });

  it("keeps MongoDB's semantics the contract does not assert (an identical replace modifies nothing; $unset of an array element leaves null)", async () => {
    const c = store.collection('differences');
    await c.bulkWrite([{ kind: 'replace', filter: { k: 'a' }, document: { k: 'a', list: [1, 2, 3] } }]);
    const identical = await c.bulkWrite([{ kind: 'replace', filter: { k: 'a' }, document: { k: 'a', list: [1, 2, 3] } }]);
    await c.bulkWrite([{ kind: 'upsert', filter: { k: 'a' }, set: {}, unset: ['list.1'] }]);
    const list = (await c.findOne({ k: 'a' }))?.['list'];
    assert.equal(identical.modified, 0);
    assert.deepEqual(list, [1, null, 3], 'MongoDB sets an $unset array element to null');
  });
  it("keeps indexes the server built with its own options: scripts/infra's DocumentDB builds composite-term indexes, and one built before that default stays usable", async () => {
    const client = new MongoClient(services.mongoUrl, { serverSelectionTimeoutMS: 10_000 });
    await client.connect();
    try {
      const raw = client.db(database);
      const c = store.collection('engine_options');
      await c.createIndexes([{ name: 'fresh', fields: { a: 1, __STATE__: 1 } }]);
      const fresh = (await raw.collection('engine_options').listIndexes().toArray()).find((index) => index['name'] === 'fresh');
      assert.equal(fresh?.['enableCompositeTerm'], 1, 'scripts/infra starts DocumentDB with documentdb.defaultUseCompositeOpClass=on (docs/infra.md)');
      // An index as a server without that default built it: the same request is now refused by the server (86) unless the store accepts it.
      await raw.command({ createIndexes: 'engine_options', indexes: [{ name: 'pk', key: { k: 1 }, unique: true, enableCompositeTerm: false }] });
      await c.createIndexes([{ name: 'pk', fields: { k: 1 }, unique: true }, { name: 'fk', fields: { f: 1 } }]);
      const stored = new Map((await raw.collection('engine_options').listIndexes().toArray()).map((index) => [index['name'] as string, index]));
      assert.deepEqual([...stored.keys()].sort(), ['_id_', 'fk', 'fresh', 'pk']);
      assert.equal(stored.get('pk')?.['enableCompositeTerm'], undefined, 'the old index is kept as it was');
      await c.bulkWrite([{ kind: 'replace', filter: { k: 'a' }, document: { k: 'a' } }]);
      await assert.rejects(raw.collection('engine_options').insertOne({ k: 'a' }), (e: { code?: number }) => e.code === 11000, 'and still unique');
      const error = await failure(c.createIndexes([{ name: 'pk', fields: { other: 1 }, unique: true }]));
      assert.equal(error.code, 'TRB_STORE_WRITE', 'a different index under the same name is still a conflict');
    } finally {
      await client.close();
    }
  });
});
