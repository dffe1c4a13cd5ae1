/**
 * Smoke: the MongoDB driver against the MongoDB-wire server (DocumentDB in CI, MongoDB where
 * MONGODB_URL points at one). Checks what the projection writer relies on: upserts under a unique
 * index, `$in` reads, how a failing statement in an unordered batch is reported, `$lookup`, views
 * and transactions.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MongoBulkWriteError, MongoClient, type Db } from 'mongodb';
import { services, uniqueName } from '../services.js';

let client: MongoClient;
let db: Db;

before(async () => {
  client = new MongoClient(services.mongoUrl, { serverSelectionTimeoutMS: 10_000 });
  await client.connect();
  db = client.db(uniqueName('smoke').replace(/-/g, '_'));
});
after(async () => {
  await db.dropDatabase();
  await client.close();
});

describe('mongodb-wire smoke', () => {
  it('bulk upserts under a unique index, $in finds and deletes', async () => {
    const col = db.collection<{ customer_id: string; name: string; v: number }>('pr_customers');
    await col.createIndex({ customer_id: 1 }, { unique: true, name: 'mia_primary_key_index' });

    const ids = Array.from({ length: 50 }, (_, i) => `c-${i}`);
    const first = await col.bulkWrite(
      ids.map((id) => ({ updateOne: { filter: { customer_id: id }, update: { $set: { name: `n-${id}`, v: 1 } }, upsert: true } })),
      { ordered: true },
    );
    assert.equal(first.upsertedCount, 50);

    const second = await col.bulkWrite(
      ids.slice(0, 10).map((id) => ({ updateOne: { filter: { customer_id: id }, update: { $set: { v: 2 } }, upsert: true } })),
      { ordered: true },
    );
    assert.equal(second.upsertedCount, 0, 'existing keys are updated, not duplicated');
    assert.equal(second.matchedCount, 10);
    assert.equal(await col.countDocuments(), 50);

    const found = await col.find({ customer_id: { $in: ['c-1', 'c-2', 'c-40', 'missing'] } }).project({ _id: 0 }).sort({ customer_id: 1 }).toArray();
    assert.deepEqual(found, [
      { customer_id: 'c-1', name: 'n-c-1', v: 2 },
      { customer_id: 'c-2', name: 'n-c-2', v: 2 },
      { customer_id: 'c-40', name: 'n-c-40', v: 1 },
    ]);

    await assert.rejects(col.insertOne({ customer_id: 'c-1', name: 'dup', v: 0 }), (e: { code?: number }) => e.code === 11000);

    const removed = await col.bulkWrite([{ deleteOne: { filter: { customer_id: 'c-1' } } }, { deleteMany: { filter: { customer_id: { $in: ['c-2', 'c-3'] } } } }]);
    assert.equal(removed.deletedCount, 3);
    assert.equal(await col.countDocuments(), 47);
  });

  it('a failing statement in an unordered update batch: only that statement fails, and it is named', async () => {
    const col = db.collection<{ k: string; v: number; email?: string }>('batch_failure');
    await col.createIndex({ k: 1 }, { unique: true });
    await col.createIndex({ email: 1 }, { unique: true, name: 'email_unique' });
    await col.insertMany([{ k: 'a', v: 0, email: 'a@x' }, { k: 'b', v: 0, email: 'b@x' }]);

    const error = await col
      .bulkWrite(
        [
          { updateOne: { filter: { k: 'a' }, update: { $set: { v: 1 } }, upsert: true } },
          { updateOne: { filter: { k: 'b' }, update: { $set: { email: 'a@x' } }, upsert: true } }, // duplicate email
          { updateOne: { filter: { k: 'c' }, update: { $set: { v: 3, email: 'c@x' } }, upsert: true } },
        ],
        { ordered: false },
      )
      .then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof MongoBulkWriteError, 'the batch fails as a whole');

    const state = await col.find({}, { projection: { _id: 0, k: 1, v: 1 } }).sort({ k: 1 }).toArray();
    assert.deepEqual([error.writeErrors].flat().map((e) => e.index), [1]);
    assert.deepEqual(state, [{ k: 'a', v: 1 }, { k: 'b', v: 0 }, { k: 'c', v: 3 }]);
  });

  it('answers $lookup, views and multi-document transactions (what native views and the store rely on)', async () => {
    const col = db.collection('features');
    await col.insertOne({ k: 'x' });
    await db.collection('other').insertOne({ k: 'x', n: 1 });
    const lookup = await col.aggregate([{ $lookup: { from: 'other', localField: 'k', foreignField: 'k', as: 'j' } }, { $project: { _id: 0, k: 1, 'j.n': 1 } }]).toArray();
    assert.deepEqual(lookup, [{ k: 'x', j: [{ n: 1 }] }]);
    await db.createCollection('features_view', { viewOn: 'features', pipeline: [{ $project: { _id: 0, k: 1 } }] });
    assert.deepEqual(await db.collection('features_view').find({}).toArray(), [{ k: 'x' }]);
    const session = client.startSession();
    try {
      await assert.rejects(
        session.withTransaction(async () => {
          await col.insertOne({ k: 'in-aborted-transaction' }, { session });
          throw new Error('abort');
        }),
        /abort/,
      );
      await session.withTransaction(async () => {
        await col.insertOne({ k: 'committed' }, { session });
      });
    } finally {
      await session.endSession();
    }
    assert.deepEqual((await col.find({}, { projection: { _id: 0, k: 1 } }).sort({ k: 1 }).toArray()).map((d) => d.k), ['committed', 'x']);
  });

  it('accepts a burst of 200 clients connecting at once (the unpatched DocumentDB 0.106 gateway reset 16-46% of them)', async () => {
    // scripts/services/documentdb/gateway-one-listener.patch: v0.106 bound a new listener per
    // accepted connection, so connections arriving in between got ECONNRESET (issue #16).
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, async () => {
        const c = new MongoClient(services.mongoUrl, { serverSelectionTimeoutMS: 10_000 });
        try {
          await c.db('admin').command({ ping: 1 });
        } finally {
          await c.close();
        }
      }),
    );
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    assert.deepEqual(failed.map((r) => String(r.reason)).slice(0, 3), [], `${failed.length} of 200 connections failed`);
  });
});
