/**
 * The DocumentStore contract: one suite that every store passes (memory in test/unit, DocumentDB or
 * MongoDB in test/integration). It pins what the interface promises, so the memory store is a
 * faithful double: results are compared with `_id` projected out, and after a failed batch it
 * asserts convergence of a retry, never which statements applied (the interface promises none).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Collection, Document, DocumentStore, WriteOperation } from '../../src/store/types.js';
import { failure } from './helpers.js';

export interface StoreFixture {
  store: DocumentStore;
  cleanup(): Promise<void>;
}

const NO_ID = { projection: { _id: 0 } } as const;

let sequence = 0;
/** Letters, digits and underscores only (safe on every server); unique per test and per run. */
function collectionName(label: string): string {
  sequence += 1;
  return `${label}_${sequence}_${randomUUID().slice(0, 8).replace(/-/g, '')}`;
}

function upsert(k: string, set: Document, more: Partial<Extract<WriteOperation, { kind: 'upsert' }>> = {}): WriteOperation {
  return { kind: 'upsert', filter: { k }, set, ...more };
}


async function keys(collection: Collection, filter: Document): Promise<unknown[]> {
  return (await collection.find(filter, { projection: { _id: 0, k: 1 }, sort: { k: 1 } })).map((document) => document['k']);
}

export function storeContract(name: string, makeStore: () => Promise<StoreFixture>): void {
  describe(`DocumentStore contract: ${name}`, () => {
    let fixture: StoreFixture | undefined;
    const fresh = (label: string): Collection => {
      assert.ok(fixture, 'store not started');
      return fixture.store.collection(collectionName(label));
    };
    before(async () => {
      fixture = await makeStore();
    });
    after(async () => {
      await fixture?.cleanup();
    });

    it('upsert inserts new keys, then updates them (matched vs modified)', async () => {
      const c = fresh('upsert');
      assert.deepEqual(await c.bulkWrite([upsert('a', { name: 'A', v: 1 }), upsert('b', { name: 'B', v: 1 })]), { upserted: 2, matched: 0, modified: 0, deleted: 0 });
      // b gets the value it already has: matched, not modified.
      const second = await c.bulkWrite([upsert('a', { v: 2 }), upsert('b', { v: 1 }), upsert('c', { name: 'C', v: 1 })]);
      assert.deepEqual(second, { upserted: 1, matched: 2, modified: 1, deleted: 0 });
      assert.equal(await c.count(), 3);
      assert.deepEqual(await c.find({}, { ...NO_ID, sort: { k: 1 } }), [
        { k: 'a', name: 'A', v: 2 },
        { k: 'b', name: 'B', v: 1 },
        { k: 'c', name: 'C', v: 1 },
      ]);
      assert.deepEqual(await c.bulkWrite([]), { upserted: 0, matched: 0, modified: 0, deleted: 0 });
    });

    it('setOnInsert applies only on insert; dotted set paths write nested fields', async () => {
      const c = fresh('set_on_insert');
      const created = new Date('2024-01-02T03:04:05.678Z');
      await c.bulkWrite([upsert('a', { 'address.city': 'Rome', v: 1 }, { setOnInsert: { createdAt: created, version: 1 } })]);
      const again = await c.bulkWrite([upsert('a', { 'address.zip': '00100', v: 2 }, { setOnInsert: { createdAt: new Date(0), version: 99 } })]);
      assert.deepEqual(again, { upserted: 0, matched: 1, modified: 1, deleted: 0 });
      assert.deepEqual(await c.find({ k: 'a' }, NO_ID), [{ k: 'a', address: { city: 'Rome', zip: '00100' }, v: 2, createdAt: created, version: 1 }]);
    });

    it('unset removes top-level and nested fields; unsetting what is absent changes nothing', async () => {
      const c = fresh('unset');
      await c.bulkWrite([upsert('a', { keep: 1, drop: 2, nested: { x: 1, y: 2 } })]);
      await c.bulkWrite([upsert('a', { keep: 3 }, { unset: ['drop', 'nested.x'] })]);
      assert.deepEqual(await c.find({ k: 'a' }, NO_ID), [{ k: 'a', keep: 3, nested: { y: 2 } }]);
      assert.deepEqual(await c.bulkWrite([upsert('a', { keep: 3 }, { unset: ['drop', 'never'] })]), { upserted: 0, matched: 1, modified: 0, deleted: 0 });
    });

    it('replace swaps the whole document, keeps _id, and inserts (without filter fields) when nothing matches', async () => {
      const c = fresh('replace');
      assert.deepEqual(await c.bulkWrite([{ kind: 'replace', filter: { k: 'a' }, document: { k: 'a', v: 1, old: true } }]), { upserted: 1, matched: 0, modified: 0, deleted: 0 });
      const before = await c.findOne({ k: 'a' });
      assert.ok(before && before['_id'] !== undefined, 'a stored document has an _id');
      assert.deepEqual(await c.bulkWrite([{ kind: 'replace', filter: { k: 'a' }, document: { k: 'a', v: 2 } }]), { upserted: 0, matched: 1, modified: 1, deleted: 0 });
      const after = await c.findOne({ k: 'a' });
      assert.equal(String(after?.['_id']), String(before['_id']));
      assert.deepEqual(await c.find({ k: 'a' }, NO_ID), [{ k: 'a', v: 2 }]);
      await c.bulkWrite([{ kind: 'replace', filter: { k: 'z', group: 1 }, document: { v: 9 } }]);
      assert.deepEqual(await c.find({ v: 9 }, NO_ID), [{ v: 9 }]);
      assert.equal(await c.findOne({ k: 'missing' }), null);
    });

    it('delete removes every matching document and reports how many', async () => {
      const c = fresh('delete');
      await c.bulkWrite(['a', 'b', 'c', 'd'].map((k, i) => upsert(k, { group: i % 2 === 0 ? 'even' : 'odd' })));
      assert.deepEqual(await c.bulkWrite([{ kind: 'delete', filter: { group: 'even' } }, { kind: 'delete', filter: { k: 'nothing' } }]), { upserted: 0, matched: 0, modified: 0, deleted: 2 });
      assert.deepEqual(await keys(c, {}), ['b', 'd']);
      assert.deepEqual(await c.bulkWrite([{ kind: 'delete', filter: { k: { $in: ['b', 'd', 'x'] } } }]), { upserted: 0, matched: 0, modified: 0, deleted: 2 });
      assert.equal(await c.count(), 0);
    });

    it('find with $in, multi-key sort, skip, limit and projections', async () => {
      const c = fresh('find');
      const rows = [
        { k: 'a', score: 3, secret: 's', extra: { x: 1, y: 2 } },
        { k: 'b', score: 5, secret: 's', extra: { x: 2, y: 2 } },
        { k: 'c', score: 3, secret: 's', extra: { x: 3, y: 2 } },
        { k: 'd', score: 9, secret: 's', extra: { x: 4, y: 2 } },
        { k: 'e', score: 1, secret: 's', extra: { x: 5, y: 2 } },
      ];
      await c.bulkWrite(rows.map((row) => ({ kind: 'replace', filter: { k: row.k }, document: row })));
      const page = await c.find({ k: { $in: ['a', 'b', 'c', 'e', 'zz'] } }, { projection: { _id: 0, k: 1, score: 1 }, sort: { score: -1, k: 1 }, skip: 1, limit: 2 });
      assert.deepEqual(page, [{ k: 'a', score: 3 }, { k: 'c', score: 3 }]);
      assert.deepEqual(await c.find({ k: 'd' }, { projection: { _id: 0, secret: 0, 'extra.y': 0 } }), [{ k: 'd', score: 9, extra: { x: 4 } }]);
      assert.deepEqual(await c.find({ k: 'b' }, { projection: { _id: 0, 'extra.x': 1 } }), [{ extra: { x: 2 } }]);
      const withId = await c.find({ k: 'e' }, { projection: { k: 1 } });
      assert.deepEqual(Object.keys(withId[0] ?? {}).sort(), ['_id', 'k'], '_id is included unless projected out');
      assert.deepEqual((await c.find({}, { sort: { k: -1 }, limit: 2 })).map((d) => d['k']), ['e', 'd']);
    });

    it('filter semantics: arrays, dotted paths, null and missing, $ne, $exists, ranges with type bracketing', async () => {
      const c = fresh('filters');
      const documents: Document[] = [
        { k: '1', tags: ['red', 'blue'], score: 5, meta: { x: 1, y: 2 }, at: new Date(1000), name: 'b' },
        { k: '2', tags: ['green'], score: 15, meta: { y: 2, x: 1 }, at: new Date(2000), name: 'a', gone: null },
        { k: '3', score: 'high', name: 10 },
      ];
      await c.bulkWrite(documents.map((document) => ({ kind: 'replace', filter: { k: document['k'] }, document })));
      assert.deepEqual(await keys(c, { tags: 'red' }), ['1'], 'a scalar matches an array containing it');
      assert.deepEqual(await keys(c, { tags: ['green'] }), ['2'], 'an array matches an equal array');
      assert.deepEqual(await keys(c, { 'meta.x': 1 }), ['1', '2']);
      assert.deepEqual(await keys(c, { meta: { x: 1, y: 2 } }), ['1'], 'embedded documents compare field order too');
      assert.deepEqual(await keys(c, { gone: null }), ['1', '2', '3'], 'null matches null and missing');
      assert.deepEqual(await keys(c, { gone: { $exists: true } }), ['2']);
      assert.deepEqual(await keys(c, { tags: { $exists: false } }), ['3']);
      assert.deepEqual(await keys(c, { tags: { $ne: 'red' } }), ['2', '3']);
      assert.deepEqual(await keys(c, { score: { $gt: 4 } }), ['1', '2'], 'numbers never compare with strings');
      assert.deepEqual(await keys(c, { score: { $gte: 5, $lt: 15 } }), ['1']);
      assert.deepEqual(await keys(c, { name: { $lt: 'b' } }), ['2']);
      assert.deepEqual(await keys(c, { at: { $gt: new Date(1500) } }), ['2']);
      assert.deepEqual(await keys(c, { tags: { $in: ['blue', 'green'] } }), ['1', '2']);
      assert.deepEqual(await keys(c, { k: { $in: [] } }), []);
    });

    it('a unique index violation fails with TRB_STORE_WRITE, retriable; createIndexes is idempotent', async () => {
      const c = fresh('unique');
      const indexes = [{ name: 'k_unique', fields: { k: 1 }, unique: true }, { name: 'email_unique', fields: { email: 1 }, unique: true }] as const;
      await c.createIndexes(indexes);
      await c.createIndexes(indexes);
      await c.bulkWrite([upsert('a', { email: 'a@x' })]);
      const error = await failure(c.bulkWrite([upsert('b', { email: 'a@x' })]));
      assert.equal(error.code, 'TRB_STORE_WRITE');
      assert.equal(error.retriable, true, 'a duplicate key is a race a retry resolves');
      assert.deepEqual(await keys(c, { email: 'a@x' }), ['a']);
      assert.equal(await c.count({ k: 'b' }), 0);
    });

    it('insert adds new documents (counted as upserted); a key the unique index already holds fails it retriably, and the batch before it stays applied', async () => {
      const c = fresh('insert');
      await c.createIndexes([{ name: 'k_unique', fields: { k: 1 }, unique: true }]);
      const first = await c.bulkWrite([
        { kind: 'insert', document: { k: 'a', v: 1, nested: { at: new Date(0) } } },
        { kind: 'insert', document: { k: 'b', v: 1 } },
      ]);
      assert.equal(first.upserted, 2);
      const error = await failure(c.bulkWrite([{ kind: 'insert', document: { k: 'c', v: 1 } }, { kind: 'insert', document: { k: 'a', v: 2 } }]));
      assert.equal(error.code, 'TRB_STORE_WRITE');
      assert.equal(error.retriable, true, 'someone inserted the key meanwhile: the writer reads again and updates');
      assert.deepEqual(await c.find({}, { ...NO_ID, sort: { k: 1 } }), [
        { k: 'a', v: 1, nested: { at: new Date(0) } },
        { k: 'b', v: 1 },
        { k: 'c', v: 1 },
      ]);
      const [stored] = await c.find({ k: 'a' });
      assert.ok(stored?.['_id'] !== undefined, 'an _id is given, as the driver gives one');
    });

    it('a batch failing in the middle throws; retrying the whole batch after the conflict clears converges', async () => {
      const c = fresh('batch');
      await c.createIndexes([{ name: 'email_unique', fields: { email: 1 }, unique: true }]);
      await c.bulkWrite([upsert('z', { email: 'b@x' })]); // another writer holds b's address for now
      const batch = [upsert('a', { email: 'a@x', v: 1 }), upsert('b', { email: 'b@x', v: 1 }), upsert('c', { email: 'c@x', v: 1 })];
      const error = await failure(c.bulkWrite(batch));
      assert.equal(error.code, 'TRB_STORE_WRITE');
      assert.equal(error.retriable, true);
      // Which statements applied differs between servers; that the failing one did not is certain.
      assert.deepEqual(await keys(c, { email: 'b@x' }), ['z']);
      await c.bulkWrite([upsert('z', {}, { unset: ['email'] })]);
      const retry = await c.bulkWrite(batch);
      assert.equal(retry.upserted + retry.matched, 3, 'each statement either inserted or found its document');
      assert.deepEqual(await c.find({ k: { $in: ['a', 'b', 'c'] } }, { ...NO_ID, sort: { k: 1 } }), [
        { k: 'a', email: 'a@x', v: 1 },
        { k: 'b', email: 'b@x', v: 1 },
        { k: 'c', email: 'c@x', v: 1 },
      ]);
      assert.equal(await c.count(), 4);
    });

    it('refuses writes no retry can fix as TRB_STORE_WRITE, not retriable', async () => {
      const c = fresh('refused');
      await c.bulkWrite([upsert('a', { scalar: 1, v: 1 })]);
      const conflict = await failure(c.bulkWrite([upsert('a', { v: 2 }, { unset: ['v'] })]));
      assert.deepEqual([conflict.code, conflict.retriable], ['TRB_STORE_WRITE', false], 'set and unset of one path conflict');
      const belowScalar = await failure(c.bulkWrite([upsert('a', { 'scalar.inner': 1 })]));
      assert.deepEqual([belowScalar.code, belowScalar.retriable], ['TRB_STORE_WRITE', false], 'no field below a scalar');
      assert.deepEqual(await c.find({}, NO_ID), [{ k: 'a', scalar: 1, v: 1 }]);
    });

    it('nested documents round-trip deep-equal (Dates, objects, arrays, null)', async () => {
      const c = fresh('round_trip');
      const body = {
        at: new Date('2020-02-29T12:00:00.123Z'),
        nothing: null,
        flag: false,
        numbers: { zero: 0, negative: -7, fraction: 3.25, large: 2 ** 40 },
        text: 'żółw ☃ 🐢',
        empty: {},
        list: [],
        nested: { level: { deeper: { values: [1, 'two', null, { three: 3, when: new Date(0) }] } } },
        rows: [{ a: 1, tags: ['x', 'y'] }, { a: 2, tags: [] }],
      };
      await c.bulkWrite([{ kind: 'replace', filter: { k: 'replaced' }, document: { k: 'replaced', ...body } }, upsert('upserted', body)]);
      assert.deepEqual(await c.find({ k: 'replaced' }, NO_ID), [{ k: 'replaced', ...body }]);
      assert.deepEqual(await c.find({ k: 'upserted' }, NO_ID), [{ k: 'upserted', ...body }]);
      assert.ok((await c.findOne({ k: 'upserted' }))?.['at'] instanceof Date, 'Dates come back as Dates');
    });

    it('count with and without a filter', async () => {
      const c = fresh('count');
      assert.equal(await c.count(), 0);
      await c.bulkWrite(['a', 'b', 'c', 'd', 'e'].map((k, i) => upsert(k, { group: i < 3 ? 'x' : 'y', n: i })));
      assert.equal(await c.count(), 5);
      assert.equal(await c.count({}), 5);
      assert.equal(await c.count({ group: 'x' }), 3);
      assert.equal(await c.count({ k: { $in: ['a', 'e', 'q'] } }), 2);
      assert.equal(await c.count({ n: { $gte: 3 } }), 2);
      assert.equal(await c.count({ group: 'none' }), 0);
    });

    it('a read with a time budget (maxTimeMS) answers as without one; 0 means no budget', async () => {
      const c = fresh('max_time');
      await c.bulkWrite(['a', 'b', 'c'].map((k, i) => upsert(k, { n: i })));
      for (const maxTimeMS of [0, 5_000]) {
        assert.deepEqual(await c.find({ n: { $gte: 1 } }, { ...NO_ID, sort: { k: 1 }, maxTimeMS }), [{ k: 'b', n: 1 }, { k: 'c', n: 2 }]);
        assert.equal(await c.count({ n: { $gte: 1 } }, { maxTimeMS }), 2);
      }
    });

    it('keyset paging by generated ObjectId _id ($gt + sort + limit) visits every document once', async () => {
      const c = fresh('keyset');
      await c.bulkWrite(Array.from({ length: 23 }, (_, i) => upsert(`k${String(i).padStart(2, '0')}`, { n: i })));
      const seen: unknown[] = [];
      let after: unknown;
      for (;;) {
        const page = await c.find(after === undefined ? {} : { _id: { $gt: after } }, { sort: { _id: 1 }, limit: 5 });
        if (page.length === 0) break;
        seen.push(...page.map((d) => d['k']));
        after = page.at(-1)?.['_id'];
      }
      assert.equal(seen.length, 23);
      assert.equal(new Set(seen).size, 23);
    });

    it('drop removes documents and indexes; dropping a missing collection succeeds', async () => {
      const c = fresh('drop');
      await c.createIndexes([{ name: 'email_unique', fields: { email: 1 }, unique: true }]);
      await c.bulkWrite([upsert('a', { email: 'same@x' })]);
      await c.drop();
      assert.equal(await c.count(), 0);
      assert.deepEqual(await c.find({}), []);
      await c.bulkWrite([upsert('a', { email: 'same@x' }), upsert('b', { email: 'same@x' })]);
      assert.equal(await c.count({ email: 'same@x' }), 2, 'the unique index went with the collection');
      await c.drop();
      await c.drop();
      await fresh('never_created').drop();
      assert.equal(await c.count(), 0);
    });

    it('updateMany sets through $[] and $[id] with arrayFilters on every matching document, and never inserts', async () => {
      const c = fresh('positional');
      const order = (id: string, skus: string[]) => ({ id, lines: skus.map((sku) => ({ sku, name: 'old' })) });
      await c.bulkWrite([
        upsert('a', { orders: [order('o1', ['T1', 'T2']), order('o2', ['T1'])] }),
        upsert('b', { orders: [order('o3', ['T2'])] }),
        upsert('c', { orders: [order('o4', ['T1'])] }),
      ]);
      const result = await c.bulkWrite([{ kind: 'updateMany', filter: { 'orders.lines.sku': 'T1' }, set: { 'orders.$[].lines.$[l].name': 'Tea', touched: true }, arrayFilters: [{ 'l.sku': 'T1' }] }]);
      assert.deepEqual([result.matched, result.modified, result.upserted], [2, 2, 0]);
      const docs = await c.find({}, { ...NO_ID, sort: { k: 1 } });
      assert.deepEqual(docs.map((d) => [d['k'], (d['orders'] as Array<{ lines: Array<{ name: string }> }>).map((o) => o.lines.map((l) => l.name)), d['touched']]), [
        ['a', [['Tea', 'old'], ['Tea']], true],
        ['b', [['old']], undefined],
        ['c', [['Tea']], true],
      ]);
      const none = await c.bulkWrite([{ kind: 'updateMany', filter: { 'orders.lines.sku': 'nothing' }, set: { 'orders.$[].lines.$[l].name': 'x' }, arrayFilters: [{ 'l.sku': 'nothing' }] }]);
      assert.deepEqual([none.matched, none.upserted, await c.count()], [0, 0, 3]);
    });

    it('renameTo replaces the target with the collection, its documents and its indexes', async () => {
      const live = fresh('live');
      const shadow = fresh('shadow');
      await live.bulkWrite([upsert('old', { v: 1 })]);
      await shadow.createIndexes([{ name: 'v_unique', fields: { v: 1 }, unique: true }]);
      await shadow.bulkWrite([upsert('a', { v: 1 }), upsert('b', { v: 2 })]);
      await shadow.renameTo(live.name);
      assert.deepEqual(await live.find({}, { ...NO_ID, sort: { k: 1 } }), [{ k: 'a', v: 1 }, { k: 'b', v: 2 }]);
      assert.equal(await shadow.count(), 0, 'the shadow name is free again');
      const duplicate = await failure(live.bulkWrite([upsert('c', { v: 1 })]));
      assert.equal(duplicate.code, 'TRB_STORE_WRITE', 'the unique index moved with the documents');
      await live.drop();
    });

  });
}
