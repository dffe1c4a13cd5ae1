/**
 * createMissingIndexes against a collection double (no I/O): an index the server already holds under
 * the requested name, with the same keys and meaningful options, is kept whatever engine options the
 * server stored with it; a different index under that name is still a conflict.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MongoServerError, type Collection, type Document, type IndexDescription } from 'mongodb';
import { createMissingIndexes } from '../../src/store/mongo/indexes.js';

/** A collection that holds `stored` and refuses, as DocumentDB does, any request naming one of them. */
function collectionHolding(stored: Document[]): { collection: Collection<Document>; created: IndexDescription[][] } {
  const created: IndexDescription[][] = [];
  const fake = {
    async createIndexes(specs: IndexDescription[]) {
      const clash = specs.find((spec) => stored.some((s) => s['name'] === spec.name));
      if (clash) throw new MongoServerError({ code: 86, errmsg: `An existing index has the same name as the requested index: ${clash.name}` });
      created.push(specs);
      stored.push(...specs.map((spec) => ({ v: 2, ...spec })));
      return specs.map((spec) => spec.name);
    },
    listIndexes() {
      return { toArray: async () => stored.map((index) => ({ ...index })) };
    },
  };
  return { collection: fake as unknown as Collection<Document>, created };
}

describe('createMissingIndexes', () => {
  it('creates every index in one command when none exists', async () => {
    const { collection, created } = collectionHolding([{ v: 2, name: '_id_', key: { _id: 1 } }]);
    await createMissingIndexes(collection, [{ name: 'pk', key: { id: 1 }, unique: true }, { name: 'fk', key: { customer: 1, __STATE__: 1 } }]);
    assert.deepEqual(created, [[{ name: 'pk', key: { id: 1 }, unique: true }, { name: 'fk', key: { customer: 1, __STATE__: 1 } }]]);
  });

  it('keeps an index stored with engine options of its own and creates only the missing ones', async () => {
    const { collection, created } = collectionHolding([{ v: 2, name: 'pk', key: { id: 1 }, unique: true, enableCompositeTerm: 1 }]);
    await createMissingIndexes(collection, [{ name: 'pk', key: { id: 1 }, unique: true }, { name: 'fk', key: { customer: 1 } }]);
    assert.deepEqual(created, [[{ name: 'fk', key: { customer: 1 } }]]);
  });

  it('creates nothing when every index is there', async () => {
    const { collection, created } = collectionHolding([{ v: 2, name: 'pk', key: { id: 1 }, unique: true, enableCompositeTerm: 1 }]);
    await createMissingIndexes(collection, [{ name: 'pk', key: { id: 1 }, unique: true }]);
    assert.deepEqual(created, []);
  });

  for (const [label, stored] of [
    ['other keys', { name: 'pk', key: { other: 1 }, unique: true }],
    ['the same keys in another order', { name: 'pk', key: { b: 1, a: 1 }, unique: true }],
    ['not unique', { name: 'pk', key: { a: 1, b: 1 } }],
    ['sparse', { name: 'pk', key: { a: 1, b: 1 }, unique: true, sparse: true }],
    ['a partial filter', { name: 'pk', key: { a: 1, b: 1 }, unique: true, partialFilterExpression: { a: { $exists: true } } }],
  ] as const) {
    it(`refuses, with the server's error, an index of the same name with ${label}`, async () => {
      const { collection, created } = collectionHolding([{ v: 2, ...stored }]);
      await assert.rejects(createMissingIndexes(collection, [{ name: 'pk', key: { a: 1, b: 1 }, unique: true }]), (e: unknown) => e instanceof MongoServerError && e.code === 86);
      assert.deepEqual(created, []);
    });
  }

  it('passes on errors that are not index conflicts', async () => {
    const failing = { createIndexes: async () => Promise.reject(new MongoServerError({ code: 13, errmsg: 'not authorized' })) } as unknown as Collection<Document>;
    await assert.rejects(createMissingIndexes(failing, [{ name: 'pk', key: { a: 1 } }]), (e: unknown) => e instanceof MongoServerError && e.code === 13);
  });
});
