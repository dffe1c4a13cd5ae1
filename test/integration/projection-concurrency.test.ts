/**
 * Many concurrent version-guarded writers on the real store (issue #16 item 3): no lost and no
 * stale projection. Twenty writers, each with its own client, apply the events of 25 keys (30
 * changes each, counters 1..30) in a shuffled order, one event per "batch", exactly as the ingest
 * stage does: read the stored versions (`storedByKey`), plan (`planBatch`: replay guard and the
 * conditional write of `versionFilter`), bulk write, and on a retriable failure (a lost race shows
 * up as a duplicate key on the unique primary-key index) read and plan again.
 *
 * Half the writers plan from a `VersionCache` the way the ingest stage does when it is on: the
 * versions they wrote or read last, stale as soon as another writer moves the key. On an atomic
 * store a write planned from a stale version cannot apply, so the cache is correct: this test is the
 * proof that lets the ingest stage turn it on by default.
 *
 * At the end every key holds its newest change (counter 30, its document), and races were really
 * run (conflicts were retried).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MongoDocumentStore } from '../../src/runtime.js';
import { TributaryError } from '../../src/errors.js';
import { VersionCache } from '../../src/fastdata/projection/batch-memory.js';
import { COUNTER, keyString } from '../../src/fastdata/projection/metadata.js';
import { planBatch, type KeyedChange } from '../../src/fastdata/projection/plan-batch.js';
import { storedByKey } from '../../src/fastdata/stored-by-key.js';
import { prng } from '../../topologies/customer-360.generator.js';
import { dropDatabase, services, uniqueName } from './services.js';

const WRITERS = 20;
const KEYS = 25;
const CHANGES_PER_KEY = 30;
const COLLECTION = 'pr_accounts';

function change(k: number, counter: number): KeyedChange {
  const key = { account_id: `a${k}` };
  return {
    op: 'upsert',
    key,
    document: { ...key, balance: counter * 10, owner: `owner-${k}-${counter}` },
    position: { counter, type: 'lsn' },
    kafka: { topic: 'bank.accounts', partition: k % 3, offset: String(counter), timestamp: new Date(0).toISOString(), key },
  };
}

describe('projection writes: many concurrent version-guarded writers on the real store', () => {
  const database = uniqueName('pr_concurrency').replace(/[^A-Za-z0-9_]/g, '_');
  const stores = Array.from({ length: WRITERS }, () => new MongoDocumentStore({ url: services.mongoUrl, database }));
  before(async () => {
    await Promise.all(stores.map((s) => s.connect()));
    await (stores[0] as MongoDocumentStore).collection(COLLECTION).createIndexes([{ name: 'pk', fields: { account_id: 1 }, unique: true }]);
  });
  after(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await dropDatabase(database);
  });

  it('every key ends at its newest change; no write lost, none applied over a newer one; with and without a version cache', { timeout: 240_000 }, async () => {
    const random = prng(1616);
    const events: KeyedChange[] = [];
    for (let k = 0; k < KEYS; k++) for (let c = 1; c <= CHANGES_PER_KEY; c++) events.push(change(k, c));
    for (let i = events.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [events[i], events[j]] = [events[j] as KeyedChange, events[i] as KeyedChange];
    }
    const queue = [...events];
    let conflicts = 0;
    let stale = 0;
    let cachedPlans = 0;

    const onePartition = () => 'p';
    const writer = async (store: MongoDocumentStore, cache: VersionCache | undefined): Promise<void> => {
      const collection = store.collection(COLLECTION);
      for (let event = queue.shift(); event !== undefined; event = queue.shift()) {
        const k = keyString(event.key);
        for (let attempt = 1; ; attempt++) {
          const cached = cache?.get([k], onePartition).get(k);
          const stored = cached !== undefined ? new Map(cached === null ? [] : [[k, cached]]) : await storedByKey(collection, ['account_id'], [event.key]);
          if (cached !== undefined) cachedPlans++;
          const plan = planBatch([event], stored, { deleteMode: 'soft', now: new Date() });
          stale += plan.stale;
          try {
            await collection.bulkWrite(plan.writes);
            cache?.set(plan.changes.map((c) => [k, c.after] as const), onePartition);
            break;
          } catch (error) {
            assert.ok(error instanceof TributaryError && error.retriable, `only retriable failures are expected: ${String(error)}`);
            assert.ok(attempt < 200, 'a writer never gets through');
            conflicts++;
            cache?.forget([k], onePartition);
          }
        }
      }
    };
    await Promise.all(stores.map((store, i) => writer(store, i % 2 === 0 ? new VersionCache(1_000) : undefined)));

    const docs = await (stores[0] as MongoDocumentStore).collection(COLLECTION).find({}, { sort: { account_id: 1 } });
    assert.equal(docs.length, KEYS, 'one document per key');
    for (const doc of docs) {
      const k = Number(String(doc['account_id']).slice(1));
      assert.equal(doc[COUNTER], CHANGES_PER_KEY, `${String(doc['account_id'])} holds its newest change`);
      assert.deepEqual([doc['balance'], doc['owner']], [CHANGES_PER_KEY * 10, `owner-${k}-${CHANGES_PER_KEY}`]);
    }
    assert.ok(conflicts > 0, 'writers really raced (a conditional write lost at least once)');
    assert.ok(stale > 0, 'older changes arriving after newer ones were refused by the replay guard');
    assert.ok(cachedPlans > 0, 'cached writers planned from the cache');
  });
});
