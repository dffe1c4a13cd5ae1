/**
 * The projection layer: the pure write plan (compaction, replay guard, soft/hard deletes,
 * metadata), CDC records to keyed changes, and the ingest operator on the embedded engine (one
 * query and one bulk write per batch, indexes, pr-update v1.0.0 / v2.0.0, dead letters).
 * Formats: fastdata.md §2.3–§2.5, §2.8, §3.1.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TributaryError } from '../../src/errors.js';
import { basic, debezium, type Row } from '../../src/fastdata/cdc/index.js';
import { fastData } from '../../src/fastdata/fast-data.js';
import { field } from '../../src/fastdata/projection/fields.js';
import { keyedChanges } from '../../src/fastdata/projection/keyed-changes.js';
import { keyString, type KafkaInfo } from '../../src/fastdata/projection/metadata.js';
import { planBatch, versionFilter, type KeyedChange, type PlanOptions } from '../../src/fastdata/projection/plan-batch.js';
import { projection, projectionIndexes } from '../../src/fastdata/projection/projection.js';
import { writeProjection } from '../../src/fastdata/projection/write-projection.js';
import type { WriteOperation } from '../../src/store/types.js';
import type { IndexSpec } from '../../src/store/types.js';
import { toTopic } from '../../src/stream/operators/to-topic.js';
import { ORIGIN, type StreamRecord } from '../../src/stream/record.js';
import { json } from '../../src/stream/serdes/json.js';
import { topology } from '../../src/stream/topology.js';
import { DEAD_LETTER_HEADERS } from '../../src/stream/runtime/dead-letter.js';
import { TestDriver } from '../../src/testing/test-driver.js';
import { CountingStore } from '../contract/counting-store.js';

const NOW = new Date('2026-03-04T05:06:07.000Z');
const EARLIER = new Date('2026-01-01T00:00:00.000Z');
const TOPIC = 'crm.public.customers';
const SOFT: PlanOptions = { deleteMode: 'soft', now: NOW };
const HARD: PlanOptions = { deleteMode: 'hard', now: NOW };

function kafka(offset: number, partition = 0): KafkaInfo {
  return { topic: TOPIC, partition, offset: String(offset), timestamp: '2026-03-04T05:00:00.000Z', key: { id: 'k' } };
}

interface EventOptions {
  readonly offset?: number;
  readonly partition?: number;
  readonly type?: KeyedChange['position']['type'];
  readonly snapshot?: boolean;
}

function upsert(key: Row, document: Row, counter: number, o: EventOptions = {}): KeyedChange {
  return {
    op: 'upsert',
    key,
    document: { ...key, ...document },
    position: { counter, type: o.type ?? 'lsn' },
    kafka: kafka(o.offset ?? counter, o.partition),
    ...(o.snapshot ? { snapshot: true } : {}),
  };
}

function remove(key: Row, counter: number, o: EventOptions & { before?: Row } = {}): KeyedChange {
  return { op: 'delete', key, document: o.before ?? null, position: { counter, type: o.type ?? 'lsn' }, kafka: kafka(o.offset ?? counter, o.partition) };
}

/** A stored projection document as planBatch writes it (with an `_id`, as a store returns it). */
function storedDoc(key: Row, fields: Row, counter: number, o: EventOptions & { state?: string; createdAt?: Date } = {}): Row {
  return {
    _id: 'stored-id',
    ...key,
    ...fields,
    createdAt: o.createdAt ?? EARLIER,
    updatedAt: EARLIER,
    __internal__counter: counter,
    __internal__counterType: o.type ?? 'lsn',
    __internal__kafkaInfo: kafka(o.offset ?? counter, o.partition),
    __STATE__: o.state ?? 'PUBLIC',
  };
}

function storedMap(...docs: Row[]): Map<string, Row> {
  return new Map(docs.map((d) => [keyString({ id: d['id'] }), d]));
}

/** The document a write leaves: a replace's, or an insert's (a key known to be absent). */
function replaced(write: WriteOperation | undefined): Row {
  assert.ok(write && (write.kind === 'replace' || write.kind === 'insert'), `expected a replace or an insert, got ${JSON.stringify(write)}`);
  return write.document;
}

/** The key a write is for (the tests' keys are `{ id }`). */
function keyOfWrite(write: WriteOperation): Row {
  return write.kind === 'insert' ? { id: write.document['id'] } : keyOf(write.filter);
}

/** The primary-key part of a write filter (the rest is the version condition). */
function keyOf(filter: Row): Row {
  return Object.fromEntries(Object.entries(filter).filter(([k]) => !k.startsWith('__internal__')));
}

/** Applies a plan's writes to a plain map, as the store would. */
function apply(stored: Map<string, Row>, writes: readonly WriteOperation[]): Map<string, Row> {
  const next = new Map(stored);
  for (const w of writes) {
    const k = keyString(keyOfWrite(w));
    if (w.kind === 'delete') next.delete(k);
    else if (w.kind === 'replace' || w.kind === 'insert') next.set(k, w.document);
  }
  return next;
}

const A = { id: 'a' };
const B = { id: 'b' };

describe('keyString', () => {
  it('writes a key as its fields sorted, as JSON pairs; one-field keys take a shorter path to the same text', () => {
    const pairs = (key: Record<string, unknown>) => JSON.stringify(Object.keys(key).sort().map((k) => [k, key[k]]));
    const keys: Array<Record<string, unknown>> = [
      { id: 1 }, { id: 'c"1' }, { id: undefined }, { id: null }, { id: new Date(0) }, { id: { nested: 1 } }, { 'we"ird': 2 },
      { id: -0 }, { id: Number.NaN }, { id: [1, undefined] }, { id: () => 1 }, { b: 2, a: 'x' }, { a: 1, c: undefined, b: null },
    ];
    for (const key of keys) assert.equal(keyString(key), pairs(key), JSON.stringify(Object.keys(key)));
    assert.equal(keyString({ b: 2, a: 'x' }), '[["a","x"],["b",2]]');
  });
});

describe('planBatch: compaction', () => {
  it('writes each key once: the first before (stored) and the last after survive', () => {
    const stored = storedMap(storedDoc(A, { name: 'Zed' }, 5));
    const plan = planBatch(
      [upsert(A, { name: 'Ann' }, 10), upsert(B, { name: 'Bo' }, 11), upsert(A, { name: 'Anna' }, 12), upsert(A, { name: 'Annie' }, 13)],
      stored,
      SOFT,
    );
    assert.equal(plan.writes.length, 2, 'one write per key');
    assert.deepEqual(plan.writes.map(keyOfWrite), [A, B]);
    const [toA, toB] = plan.writes;
    assert.ok(toA?.kind === 'replace');
    assert.deepEqual(toA.filter, versionFilter(A, stored.get(keyString(A)) ?? null), 'conditional on the version read');
    assert.equal(toB?.kind, 'insert', 'a key known to be absent is inserted: the unique primary-key index refuses it if someone inserted meanwhile');
    assert.equal(replaced(plan.writes[0])['name'], 'Annie');
    assert.equal(replaced(plan.writes[1])['name'], 'Bo');
    assert.equal(plan.changes.length, 2, 'one projection change per key');
    const [a, b] = plan.changes;
    assert.equal(a?.type, 'UPDATE');
    assert.equal(a?.before?.['name'], 'Zed');
    assert.equal(a?.before?.['_id'], undefined, 'events never carry the store _id');
    assert.equal(a?.after?.['name'], 'Annie');
    assert.equal(a?.after?.['__internal__counter'], 13);
    assert.equal(a?.applied, true);
    assert.deepEqual(a?.kafka, kafka(13), 'the change carries the last event position');
    assert.equal(b?.type, 'INSERT');
    assert.equal(b?.before, null);
    assert.equal(plan.stale, 0);
  });
});

describe('planBatch: replay guard', () => {
  it('does not apply an older counter, and still emits the change with applied=false', () => {
    const doc = storedDoc(A, { name: 'new' }, 20);
    const plan = planBatch([upsert(A, { name: 'old' }, 19, { offset: 99 })], storedMap(doc), SOFT);
    assert.deepEqual(plan.writes, []);
    assert.equal(plan.stale, 1);
    assert.equal(plan.changes.length, 1);
    const change = plan.changes[0];
    assert.equal(change?.applied, false);
    assert.equal(change?.type, 'UPDATE');
    assert.equal(change?.after?.['name'], 'new');
    assert.deepEqual(change?.before, change?.after);
  });

  it('refuses an equal counter with a lower offset in the same partition, applies a higher one', () => {
    const doc = storedDoc(A, { name: 'stored' }, 20, { offset: 50 });
    const lower = planBatch([upsert(A, { name: 'replayed' }, 20, { offset: 49 })], storedMap(doc), SOFT);
    assert.deepEqual(lower.writes, []);
    assert.equal(lower.changes[0]?.applied, false);
    const higher = planBatch([upsert(A, { name: 'next' }, 20, { offset: 51 })], storedMap(doc), SOFT);
    assert.equal(replaced(higher.writes[0])['name'], 'next');
  });

  it('does not compare offsets of different partitions (nor counters of different types)', () => {
    const doc = storedDoc(A, { name: 'stored' }, 20, { offset: 50, partition: 0 });
    const otherPartition = planBatch([upsert(A, { name: 'p1' }, 20, { offset: 3, partition: 1 })], storedMap(doc), SOFT);
    assert.equal(replaced(otherPartition.writes[0])['name'], 'p1');
    assert.equal(otherPartition.changes[0]?.applied, true);
    const otherType = planBatch([upsert(A, { name: 'ts' }, 1, { type: 'timestamp' })], storedMap(doc), SOFT);
    assert.equal(replaced(otherType.writes[0])['name'], 'ts');
  });

  it('guards against older events inside one batch too', () => {
    const plan = planBatch([upsert(A, { name: 'v2' }, 2), upsert(A, { name: 'v1' }, 1)], new Map(), SOFT);
    assert.equal(replaced(plan.writes[0])['name'], 'v2');
    assert.equal(plan.stale, 1);
  });
});

describe('planBatch: a retried attempt', () => {
  it('describes the transition from the before image of the first attempt, not from what that attempt wrote', () => {
    const original = storedDoc(A, { name: 'Zed', customer_id: 'c1' }, 5);
    const event = upsert(A, { name: 'Zed', customer_id: 'c2' }, 10);
    const firstAttempt = planBatch([event], storedMap(original), SOFT);
    // The first attempt's bulk write went through before the batch failed elsewhere: the retry reads it back.
    const written = { ...replaced(firstAttempt.writes[0]), _id: 'x' };
    const priorBefore = new Map([[keyString(A), original]]);
    const retry = planBatch([event], storedMap(written), { ...SOFT, priorBefore });
    assert.equal(replaced(retry.writes[0])['customer_id'], 'c2', 'an equal position is rewritten: the same state again');
    const rewrite = retry.writes[0];
    assert.ok(rewrite?.kind === 'replace');
    assert.deepEqual(rewrite.filter, versionFilter(A, written), 'conditional on what the retry read');
    const change = retry.changes[0];
    assert.equal(change?.before?.['customer_id'], 'c1', 'the customer the row left is still in the before image');
    assert.equal(change?.before?.['_id'], undefined);
    assert.equal(change?.after?.['customer_id'], 'c2');
    assert.equal(change?.type, 'UPDATE');
    const insertRetry = planBatch([event], storedMap(written), { ...SOFT, priorBefore: new Map([[keyString(A), null]]) });
    assert.equal(insertRetry.changes[0]?.type, 'INSERT', 'a row the first attempt created is still an insert');
  });
});

describe('planBatch: snapshot reads', () => {
  it('a snapshot never overwrites a newer state', () => {
    const doc = storedDoc(A, { name: 'streamed' }, 200);
    const plan = planBatch([upsert(A, { name: 'snapshot' }, 100, { snapshot: true })], storedMap(doc), SOFT);
    assert.deepEqual(plan.writes, []);
    assert.equal(plan.changes[0]?.applied, false);
  });

  it('a snapshot is not applied over a state whose position cannot be compared', () => {
    const lsn = storedDoc(A, { name: 'streamed' }, 200, { type: 'lsn' });
    const plan = planBatch([upsert(A, { name: 'snapshot' }, 1767400000000, { snapshot: true, type: 'ts_ms' })], storedMap(lsn), SOFT);
    assert.deepEqual(plan.writes, [], 'an ts_ms snapshot cannot prove it follows an lsn state');
    const otherPartition = storedDoc(A, { name: 'streamed' }, 200, { offset: 7, partition: 1 });
    const tie = planBatch([upsert(A, { name: 'snapshot' }, 200, { snapshot: true, offset: 9, partition: 0 })], storedMap(otherPartition), SOFT);
    assert.deepEqual(tie.writes, []);
  });

  it('a snapshot inserts a missing row and replaces a provably older one', () => {
    const missing = planBatch([upsert(A, { name: 'snapshot' }, 100, { snapshot: true })], new Map(), SOFT);
    assert.equal(missing.changes[0]?.type, 'INSERT');
    assert.equal(replaced(missing.writes[0])['name'], 'snapshot');
    const older = planBatch([upsert(A, { name: 'snapshot' }, 100, { snapshot: true })], storedMap(storedDoc(A, { name: 'old' }, 50)), SOFT);
    assert.equal(replaced(older.writes[0])['name'], 'snapshot');
  });
});

describe('planBatch: deletes', () => {
  it('a soft delete keeps the document and its position, and a later older insert does not resurrect it', () => {
    let stored = storedMap(storedDoc(A, { name: 'Ann' }, 10));
    const del = planBatch([remove(A, 20)], stored, SOFT);
    const tombstone = replaced(del.writes[0]);
    assert.equal(tombstone['__STATE__'], 'DELETED');
    assert.equal(tombstone['name'], 'Ann', 'the last known image is kept');
    assert.equal(tombstone['__internal__counter'], 20);
    assert.deepEqual(tombstone['createdAt'], EARLIER);
    assert.deepEqual(tombstone['updatedAt'], NOW);
    assert.equal(del.changes[0]?.type, 'DELETE');
    assert.equal(del.changes[0]?.before?.['__STATE__'], 'PUBLIC');
    stored = apply(stored, del.writes);

    const replay = planBatch([upsert(A, { name: 'Ann (replayed insert)' }, 15)], stored, SOFT);
    assert.deepEqual(replay.writes, []);
    assert.equal(replay.changes[0]?.applied, false);
    assert.equal(replay.changes[0]?.type, 'DELETE', 'the row stays deleted');
    assert.equal(stored.get(keyString(A))?.['__STATE__'], 'DELETED');
  });

  it('a hard delete removes the document', () => {
    const stored = storedMap(storedDoc(A, { name: 'Ann' }, 10));
    const plan = planBatch([remove(A, 20)], stored, HARD);
    assert.deepEqual(plan.writes, [{ kind: 'delete', filter: versionFilter(A, stored.get(keyString(A)) ?? null) }]);
    assert.equal(plan.changes[0]?.type, 'DELETE');
    assert.equal(plan.changes[0]?.before?.['name'], 'Ann');
    assert.equal(plan.changes[0]?.after, null);
  });

  it('a delete of a missing key does not fail: soft writes a positioned tombstone, hard a no-op delete', () => {
    const soft = planBatch([remove(A, 20, { before: { id: 'a', name: 'Ann' } })], new Map(), SOFT);
    const tombstone = replaced(soft.writes[0]);
    assert.equal(tombstone['__STATE__'], 'DELETED');
    assert.equal(tombstone['name'], 'Ann', 'the delete event image is used');
    assert.equal(tombstone['__internal__counter'], 20, 'the position protects against an older insert arriving later');
    assert.equal(soft.changes[0]?.type, 'DELETE');
    assert.equal(soft.changes[0]?.before, null);
    const late = planBatch([upsert(A, { name: 'late' }, 19)], apply(new Map(), soft.writes), SOFT);
    assert.deepEqual(late.writes, []);

    const hard = planBatch([remove(A, 20)], new Map(), HARD);
    assert.deepEqual(hard.writes, [{ kind: 'delete', filter: { ...A, __internal__counter: { $exists: false } } }]);
    assert.equal(hard.changes[0]?.type, 'DELETE');
    assert.equal(hard.changes[0]?.before, null);
    assert.equal(hard.changes[0]?.after, null);
  });
});

describe('planBatch: metadata', () => {
  it('keeps createdAt on update and resets it on re-insert after a soft delete', () => {
    const stored = storedMap(storedDoc(A, { name: 'Ann' }, 10, { createdAt: EARLIER }));
    const update = planBatch([upsert(A, { name: 'Anna' }, 11)], stored, SOFT);
    assert.deepEqual(replaced(update.writes[0])['createdAt'], EARLIER);
    assert.deepEqual(replaced(update.writes[0])['updatedAt'], NOW);

    const deleted = storedMap(storedDoc(A, { name: 'Ann' }, 10, { createdAt: EARLIER, state: 'DELETED' }));
    const reinsert = planBatch([upsert(A, { name: 'Ann again' }, 11)], deleted, SOFT);
    assert.deepEqual(replaced(reinsert.writes[0])['createdAt'], NOW);
    assert.equal(reinsert.changes[0]?.type, 'INSERT');

    const sameBatch = planBatch([remove(A, 11), upsert(A, { name: 'back' }, 12)], stored, SOFT);
    assert.deepEqual(replaced(sameBatch.writes[0])['createdAt'], NOW);
    assert.equal(replaced(sameBatch.writes[0])['__STATE__'], 'PUBLIC');
    assert.equal(sameBatch.changes[0]?.type, 'UPDATE', 'live before, live after');
  });

  it('writes the Fast Data metadata fields, and never copies them from the message', () => {
    const event = upsert(A, { name: 'Ann', __STATE__: 'DRAFT', createdAt: 'x', updatedAt: 'y', __internal__counter: -1 }, 42, { offset: 7 });
    const doc = replaced(planBatch([event], new Map(), SOFT).writes[0]);
    assert.deepEqual(doc, {
      id: 'a',
      name: 'Ann',
      __STATE__: 'PUBLIC',
      createdAt: NOW,
      updatedAt: NOW,
      __internal__counter: 42,
      __internal__counterType: 'lsn',
      __internal__kafkaInfo: { topic: TOPIC, partition: 0, offset: '7', timestamp: '2026-03-04T05:00:00.000Z', key: { id: 'k' } },
    });
  });
});

// --- keyedChanges --------------------------------------------------------------------------

const customers = projection({
  name: 'pr_customers',
  source: { topic: TOPIC, adapter: debezium() },
  primaryKey: ['customer_id'],
  fields: { customer_id: field.string({ from: 'id' }), name: field.string({ from: 'full_name' }), tier: field.integer({ nullable: true }) },
});

/** The same projection with the opt-in version cache. */
const cachedCustomers = projection({ ...customers.options, versionCacheSize: 1_000 } as Parameters<typeof projection>[0]);

function record(key: unknown, value: unknown, offset = 7, partition = 2): StreamRecord<unknown, unknown> {
  const timestamp = Date.parse('2026-03-04T05:00:00.000Z');
  const origin = { topic: TOPIC, partition, offset: String(offset), timestamp, rawKey: null, rawValue: null, headers: {} };
  return { topic: TOPIC, partition, offset: String(offset), timestamp, key, value, headers: {}, [ORIGIN]: origin };
}

function changesOf(r: StreamRecord<unknown, unknown>): KeyedChange[] {
  const out = keyedChanges(customers, r);
  if ('skip' in out) assert.fail(`unexpected skip ${out.skip}`);
  return out;
}

describe('keyedChanges', () => {
  it('casts and renames fields, keys by the projection primary key, and records where the event came from', () => {
    const [change, ...rest] = changesOf(record({ id: 1 }, { op: 'c', before: null, after: { id: 1, full_name: 'Ann', tier: '2.7' }, source: { lsn: 300 } }));
    assert.equal(rest.length, 0);
    assert.deepEqual(change, {
      op: 'upsert',
      key: { customer_id: '1' },
      id: '[["customer_id","1"]]',
      document: { customer_id: '1', name: 'Ann', tier: 2 },
      position: { counter: 300, type: 'lsn' },
      kafka: { topic: TOPIC, partition: 2, offset: '7', timestamp: '2026-03-04T05:00:00.000Z', key: { id: 1 } },
    });
  });

  it('a primary-key change is a delete of the old key and an insert of the new one', () => {
    const changes = changesOf(record({ id: 2 }, { op: 'u', before: { id: 1, full_name: 'Ann' }, after: { id: 2, full_name: 'Ann' }, source: { lsn: 301 } }));
    assert.deepEqual(
      changes.map((c) => [c.op, c.key]),
      [
        ['delete', { customer_id: '1' }],
        ['upsert', { customer_id: '2' }],
      ],
    );
    const plan = planBatch(changes, storedMap(), SOFT);
    assert.deepEqual(plan.changes.map((c) => c.type), ['DELETE', 'INSERT'], 'two pr-updates');
  });

  it('a record without its primary key fails with TRB_MISSING_KEY', () => {
    assert.throws(
      () => keyedChanges(customers, record(null, { op: 'c', before: null, after: { full_name: 'No Id' }, source: { lsn: 1 } })),
      (error: unknown) => error instanceof TributaryError && error.code === 'TRB_MISSING_KEY' && /customer_id/.test(error.message),
    );
  });

  it('snapshot reads are flagged, tombstones are skipped', () => {
    const [snap] = changesOf(record({ id: 1 }, { op: 'r', before: null, after: { id: 1, full_name: 'Ann' }, source: { lsn: 5 } }));
    assert.equal(snap?.snapshot, true);
    assert.deepEqual(keyedChanges(customers, record({ id: 1 }, null)), { skip: 'tombstone' });
  });
});

// --- writeProjection on the embedded engine ----------------------------------------------------


const debeziumSerdes = { key: json<unknown>(), value: json<unknown>() };

function dbz(op: 'c' | 'u' | 'd' | 'r', id: number, row: Row | null, lsn: number): { key: unknown; value: unknown } {
  return {
    key: { id },
    value: { op, before: op === 'd' ? { id, full_name: 'gone' } : null, after: op === 'd' ? null : { id, ...row }, source: { lsn, ts_ms: 1767400000000 } },
  };
}

describe('writeProjection on the TestDriver', () => {
  it('creates the projection indexes at start: the unique primary key; Fast Data\'s counter and state indexes only when asked', async () => {
    const withFastData = projection({ ...customers.options, name: 'pr_customers_fd', fastDataIndexes: true } as Parameters<typeof projection>[0]);
    const fd = new Map(projectionIndexes(withFastData).map((i) => [i.name, i]));
    assert.deepEqual(fd.get('mia_internal_counter_index')?.fields, { customer_id: 1, __internal__counter: 1, __internal__counterType: 1 });
    assert.deepEqual(fd.get('mia_internal_counter_type_index')?.fields, { customer_id: 1, __internal__counterType: 1 });
    assert.deepEqual(fd.get('mia_state_index')?.fields, { customer_id: 1, __STATE__: 1 });
    const store = new CountingStore();
    const driver = await TestDriver.start(fastData({ name: 'idx', projections: [customers] }), { store });
    try {
      const created = store.calls.filter((c) => c.collection === 'pr_customers' && c.method === 'createIndexes').flatMap((c) => c.arg as IndexSpec[]);
      assert.deepEqual(created, [{ name: 'mia_primary_key_index', fields: { customer_id: 1 }, unique: true }]);
      assert.deepEqual(created, projectionIndexes(customers));
      // The unique index is live: a second document with the same key is refused.
      await store.inner.collection('pr_customers').bulkWrite([{ kind: 'replace', filter: { _id: 1 }, document: { _id: 1, customer_id: 'x' } }]);
      await assert.rejects(store.inner.collection('pr_customers').bulkWrite([{ kind: 'replace', filter: { _id: 2 }, document: { _id: 2, customer_id: 'x' } }]), /mia_primary_key_index/);
    } finally {
      await driver.close();
    }
  });

  it('makes at most one find and one bulkWrite per batch, whatever the number of records and keys; with the version cache, keys it wrote are not read again', async () => {
    const store = new CountingStore();
    const driver = await TestDriver.start(fastData({ name: 'bulk', projections: [cachedCustomers] }), { store });
    try {
      await driver.pipeInput(
        TOPIC,
        [dbz('c', 1, { full_name: 'Ann' }, 10), dbz('c', 2, { full_name: 'Bo' }, 11), dbz('u', 1, { full_name: 'Anna' }, 12), dbz('c', 3, { full_name: 'Cy' }, 13), dbz('d', 2, null, 14)],
        debeziumSerdes,
      );
      await driver.idle();
      assert.equal(store.count('pr_customers', 'find'), 1);
      assert.equal(store.count('pr_customers', 'bulkWrite'), 1);
      assert.equal(store.count('pr_customers', 'findOne'), 0);
      const [write] = store.calls.filter((c) => c.method === 'bulkWrite');
      assert.equal((write?.arg as WriteOperation[]).length, 3, 'compacted: one write per key');

      await driver.pipeInput(TOPIC, [dbz('u', 3, { full_name: 'Cyd' }, 15), dbz('u', 1, { full_name: 'Annie' }, 16)], debeziumSerdes);
      await driver.idle();
      assert.equal(store.count('pr_customers', 'find'), 1, 'keys 1 and 3 were written by this stage: their versions are cached');
      assert.equal(store.count('pr_customers', 'bulkWrite'), 2);


      const docs = await store.inner.collection('pr_customers').find({}, { sort: { customer_id: 1 } });
      assert.deepEqual(docs.map((d) => [d['customer_id'], d['name'], d['__STATE__']]), [
        ['1', 'Annie', 'PUBLIC'],
        ['2', 'Bo', 'DELETED'], // the stored image is kept (a Debezium before image may hold only the key)
        ['3', 'Cyd', 'PUBLIC'],
      ]);
      const pr = await driver.readOutput('pr_customers.pr-update', { key: json<Row>(), value: json<Row>() });
      assert.deepEqual(pr.map((r) => r.key), [{ customer_id: '1' }, { customer_id: '2' }, { customer_id: '3' }, { customer_id: '3' }, { customer_id: '1' }], 'one pr-update per key per batch, keyed by primary key');

      await driver.pipeInput(TOPIC, [dbz('u', 4, { full_name: 'Di' }, 17), dbz('u', 1, { full_name: 'Ann' }, 18)], debeziumSerdes);
      await driver.idle();
      const finds = store.calls.filter((c) => c.method === 'find' && c.collection === 'pr_customers');
      assert.equal(finds.length, 2, 'a batch with an unseen key reads only that key');
      assert.deepEqual(finds[1]?.arg, { customer_id: { $in: ['4'] } });
      assert.deepEqual((await store.inner.collection('pr_customers').findOne({ customer_id: '1' }))?.['name'], 'Ann');
    } finally {
      await driver.close();
    }
  });

  it('a cached version made stale by another writer is caught by the conditional write, re-read, and the newer state kept', async () => {
    const store = new CountingStore();
    const driver = await TestDriver.start(fastData({ name: 'stale', projections: [cachedCustomers] }), { store });
    try {
      await driver.pipeInput(TOPIC, [dbz('c', 1, { full_name: 'Ann' }, 10)], debeziumSerdes);
      await driver.idle();
      // Another writer (a key change sent as one update, on another partition) writes key 1 at lsn 30.
      const current = await store.inner.collection('pr_customers').findOne({ customer_id: '1' });
      const { _id: _ignored, ...doc } = current as Row;
      await store.inner.collection('pr_customers').bulkWrite([{ kind: 'replace', filter: { customer_id: '1' }, document: { ...doc, name: 'Other', __internal__counter: 30 } }]);
      // This stage still caches lsn 10: lsn 20 looks newer to it, its write conflicts, it re-reads and finds lsn 30.
      await driver.pipeInput(TOPIC, [dbz('u', 1, { full_name: 'Anna' }, 20)], debeziumSerdes);
      await driver.idle();
      const stored = await store.inner.collection('pr_customers').findOne({ customer_id: '1' });
      assert.equal(stored?.['name'], 'Other', 'the older event was not applied over the newer version');
      assert.equal(stored?.['__internal__counter'], 30);
      const finds = store.calls.filter((c) => c.method === 'find' && c.collection === 'pr_customers');
      assert.equal(finds.length, 2, 'read once at first, once after the conflict');
      const pr = await driver.readOutput('pr_customers.pr-update', { key: json<Row>(), value: json<Row>() });
      assert.equal(pr.length, 2, 'the replayed event still emits its pr-update');
    } finally {
      await driver.close();
    }
  });

  it('dead-letters a record without its primary key (TRB_MISSING_KEY) and goes on with the batch and the stream', async () => {
    const store = new CountingStore();
    const driver = await TestDriver.start(fastData({ name: 'dlq', projections: [customers] }), { store });
    try {
      await driver.pipeInput(
        TOPIC,
        [dbz('c', 1, { full_name: 'Ann' }, 10), { key: null, value: { op: 'c', before: null, after: { full_name: 'No Id' }, source: { lsn: 11 } } }, dbz('c', 2, { full_name: 'Bo' }, 12)],
        debeziumSerdes,
      );
      await driver.idle();
      await driver.pipeInput(TOPIC, [dbz('c', 3, { full_name: 'Cy' }, 13)], debeziumSerdes);
      await driver.idle();
      const dlq = driver.broker.partitions(`${TOPIC}.dlq`).flat();
      assert.equal(dlq.length, 1);
      assert.equal(dlq[0]?.headers[DEAD_LETTER_HEADERS.code], 'TRB_MISSING_KEY');
      assert.equal(dlq[0]?.headers[DEAD_LETTER_HEADERS.offset], '1');
      assert.match(String(dlq[0]?.value), /No Id/, 'the original bytes are kept');
      assert.deepEqual((await store.inner.collection('pr_customers').find({}, { sort: { customer_id: 1 } })).map((d) => d['customer_id']), ['1', '2', '3']);
    } finally {
      await driver.close();
    }
  });

  it('dead-letters a row without a required field (TRB_MISSING_FIELD): absent, or null when not nullable; a required nullable field may be null', async () => {
    const strict = projection({
      name: 'pr_customers',
      source: { topic: TOPIC, adapter: debezium() },
      primaryKey: ['customer_id'],
      fields: {
        customer_id: field.string({ from: 'id' }),
        name: field.string({ from: 'full_name', required: true }),
        tier: field.integer({ required: true, nullable: true }),
        vip: field.boolean({ required: true }),
      },
    });
    const store = new CountingStore();
    const driver = await TestDriver.start(fastData({ name: 'required', projections: [strict] }), { store });
    try {
      await driver.pipeInput(
        TOPIC,
        [
          dbz('c', 1, { full_name: 'Ann', tier: 2, vip: 'true' }, 10),
          dbz('c', 2, { tier: 1, vip: 'false' }, 11), // no full_name
          dbz('c', 3, { full_name: 'Cy', tier: null, vip: 'true' }, 12), // tier null: nullable, kept
          dbz('c', 4, { full_name: 'Di', vip: 'true' }, 13), // no tier
          dbz('c', 5, { full_name: 'Ed', tier: 3, vip: 'yes' }, 14), // vip casts to nothing: null, not nullable
        ],
        debeziumSerdes,
      );
      await driver.idle();
      const dlq = driver.broker.partitions(`${TOPIC}.dlq`).flat();
      assert.deepEqual(
        dlq.map((d) => [d.headers[DEAD_LETTER_HEADERS.code], d.headers[DEAD_LETTER_HEADERS.offset], /required fields? (.*) missing/.exec(String(d.headers[DEAD_LETTER_HEADERS.message]))?.[1]]),
        [
          ['TRB_MISSING_FIELD', '1', "'name'"],
          ['TRB_MISSING_FIELD', '3', "'tier'"],
          ['TRB_MISSING_FIELD', '4', "'vip'"],
        ],
      );
      assert.deepEqual(
        (await store.inner.collection('pr_customers').find({}, { sort: { customer_id: 1 }, projection: { _id: 0, customer_id: 1, name: 1, tier: 1, vip: 1 } })),
        [
          { customer_id: '1', name: 'Ann', tier: 2, vip: true },
          { customer_id: '3', name: 'Cy', tier: null, vip: true },
        ],
      );
    } finally {
      await driver.close();
    }
  });

  for (const version of ['v1.0.0', 'v2.0.0'] as const) {
    it(`emits pr-update ${version} with the Fast Data field names and the messageSchema header`, async () => {
      const p = projection({
        name: 'pr_customers',
        source: { topic: TOPIC, adapter: debezium() },
        primaryKey: ['customer_id'],
        fields: { customer_id: field.string({ from: 'id' }), name: field.string({ from: 'full_name' }) },
        systemOfRecord: 'crm',
        prUpdate: { version },
      });
      const t = topology(`pr-${version.replaceAll('.', '-')}`);
      t.stream(TOPIC, { ...debeziumSerdes, name: 'ingest' }).pipe(writeProjection(p, { now: () => NOW }), toTopic('pr', { key: json(), value: json() }));
      const driver = await TestDriver.start(t);
      try {
        await driver.pipeInput(TOPIC, [dbz('c', 1, { full_name: 'Ann' }, 10)], debeziumSerdes);
        await driver.idle();
        await driver.pipeInput(TOPIC, [dbz('u', 1, { full_name: 'Anna' }, 11)], debeziumSerdes);
        await driver.idle();
        await driver.pipeInput(TOPIC, [dbz('d', 1, null, 12)], debeziumSerdes);
        await driver.idle();

        const input = driver.broker.partitions(TOPIC)[0] ?? [];
        const info = (offset: number): KafkaInfo => ({ topic: TOPIC, partition: 0, offset: String(offset), timestamp: new Date(input[offset]?.timestamp ?? 0).toISOString(), key: { id: 1 } });
        const doc = (name: string, offset: number, state = 'PUBLIC'): Row => ({
          customer_id: '1',
          name,
          createdAt: NOW.toISOString(),
          updatedAt: NOW.toISOString(),
          __internal__counter: 10 + offset,
          __internal__counterType: 'lsn',
          __internal__kafkaInfo: info(offset),
          __STATE__: state,
        });
        const out = await driver.readOutput('pr', { key: json<Row>(), value: json<Row>() });
        assert.deepEqual(out.map((r) => r.key), [{ customer_id: '1' }, { customer_id: '1' }, { customer_id: '1' }]);
        for (const r of out) assert.equal(r.headers['messageSchema'], JSON.stringify({ type: 'pr-update', version }));
        const steps: Array<['INSERT' | 'UPDATE' | 'DELETE', Row | null, Row]> = [
          ['INSERT', null, doc('Ann', 0)],
          ['UPDATE', doc('Ann', 0), doc('Anna', 1)],
          ['DELETE', doc('Anna', 1), doc('Anna', 2, 'DELETED')],
        ];
        steps.forEach(([type, before, after], i) => {
          const r = out[i];
          if (version === 'v1.0.0') {
            assert.deepEqual(r?.value, {
              operationType: type,
              operationTimestamp: NOW.toISOString(),
              projectionName: 'pr_customers',
              source: 'crm',
              primaryKeys: ['customer_id'],
              before,
              after,
              __internal__kafkaInfo: info(i),
            });
            assert.equal(r?.headers['context'], undefined);
          } else {
            assert.deepEqual(r?.value, {
              operation: { type, timestamp: NOW.toISOString() },
              source: 'crm',
              storageNamespace: 'pr_customers',
              primaryKeys: ['customer_id'],
              before,
              after,
            });
            assert.deepEqual(JSON.parse(String(r?.headers['context'])), {
              ingestion: { topic: TOPIC, partitionID: 0, offset: i, timestamp: info(i).timestamp, pollTimestamp: NOW.toISOString() },
            });
          }
        });
      } finally {
        await driver.close();
      }
    });
  }

  it('emits the pr-update of a replayed (older) event without applying it', async () => {
    const store = new CountingStore();
    const driver = await TestDriver.start(fastData({ name: 'replay', projections: [customers] }), { store });
    try {
      await driver.pipeInput(TOPIC, [dbz('u', 1, { full_name: 'new' }, 50)], debeziumSerdes);
      await driver.idle();
      await driver.pipeInput(TOPIC, [dbz('u', 1, { full_name: 'old' }, 40), dbz('r', 1, { full_name: 'snapshot' }, 30)], debeziumSerdes);
      await driver.idle();
      assert.equal(store.count('pr_customers', 'bulkWrite'), 1, 'nothing to write for the replayed batch');
      const doc = await store.inner.collection('pr_customers').findOne({ customer_id: '1' });
      assert.equal(doc?.['name'], 'new');
      const pr = await driver.readOutput('pr_customers.pr-update', { key: json<Row>(), value: json<Row>() });
      assert.equal(pr.length, 2, 'the replayed key still gets its pr-update, so no trigger is lost');
      assert.deepEqual((pr[1]?.value?.['after'] as Row)['name'], 'new');
    } finally {
      await driver.close();
    }
  });

  it('hard deletes remove the document (basic adapter: null value)', async () => {
    const p = projection({ name: 'pr_hard', source: { topic: 'hard', adapter: basic() }, primaryKey: ['id'], fields: { id: field.string(), n: field.integer() }, deleteMode: 'hard' });
    const store = new CountingStore();
    const driver = await TestDriver.start(fastData({ name: 'hard', projections: [p] }), { store });
    try {
      await driver.pipeInput('hard', [{ key: { id: 'x' }, value: { id: 'x', n: 1 } }, { key: { id: 'y' }, value: { id: 'y', n: 2 } }], debeziumSerdes);
      await driver.idle();
      await driver.pipeInput('hard', [{ key: { id: 'x' }, value: null }], debeziumSerdes);
      await driver.idle();
      assert.deepEqual((await store.inner.collection('pr_hard').find({})).map((d) => d['id']), ['y']);
      const pr = await driver.readOutput('pr_hard.pr-update', { key: json<Row>(), value: json<Row>() });
      assert.equal((pr.at(-1)?.value?.['operation'] as Row)['type'], 'DELETE');
      assert.equal(pr.at(-1)?.value?.['after'], null);
    } finally {
      await driver.close();
    }
  });
});
