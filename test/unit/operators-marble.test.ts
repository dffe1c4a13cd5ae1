/**
 * One marble-style test per operator: input → output, with what it produced, wrote and rejected.
 * Synchronous operators run under RxJS's TestScheduler, so frames count ('-a-b|' → '-x-y|');
 * operators that wait on something (mapAsync's promises, the store of the batch operators) are shown
 * as one batch, which is how the runtime runs them ('abc|' → 'xy|': their output comes at the end
 * of the batch). Each operator is built with a test context, as the runtime builds it per batch.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { from, lastValueFrom, toArray, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { basic } from '../../src/fastdata/cdc/index.js';
import { field } from '../../src/fastdata/projection/fields.js';
import { projection } from '../../src/fastdata/projection/projection.js';
import { writeProjection } from '../../src/fastdata/projection/write-projection.js';
import { aggregateViews } from '../../src/fastdata/singleview/aggregate-views.js';
import { singleView } from '../../src/fastdata/singleview/single-view.js';
import { triggerViews } from '../../src/fastdata/singleview/trigger-views.js';
import { MemoryDocumentStore } from '../../src/store/memory/memory-store.js';
import type { DocumentStore } from '../../src/store/types.js';
import { defineBatchOperator, filter, flatMap, map, mapAsync, mapValues, peek, toCollection, toTopic, type Operator, type OperatorContext } from '../../src/stream/operators/index.js';
import { ORIGIN, type AnyRecord, type StreamRecord } from '../../src/stream/record.js';
import { json, string } from '../../src/stream/serdes/index.js';
import type { OutgoingMessage } from '../../src/stream/transport/types.js';

type Rec<V> = StreamRecord<string, V>;

function rec<V>(key: string, value: V, offset = 0): Rec<V> {
  const origin = { topic: 'in', partition: 0, offset: String(offset), timestamp: 1_000, rawKey: Buffer.from(key), rawValue: null, headers: {} };
  return { topic: 'in', partition: 0, offset: String(offset), timestamp: 1_000, key, value, headers: {}, [ORIGIN]: origin };
}

/** A context as the runtime hands one per batch; what the operator produced, rejected and when. */
function testContext(store?: DocumentStore) {
  const emitted: OutgoingMessage[] = [];
  const rejected: Array<{ key: unknown; code: string }> = [];
  const context: OperatorContext = {
    stream: 'marble',
    keyConcurrency: 2,
    ...(store ? { store } : {}),
    now: () => Date.parse('2026-01-02T03:04:05.000Z'),
    reject: (record, _error, code) => void rejected.push({ key: record.key, code }),
    emit: (message) => void emitted.push(message),
    observeStoreWrite() {},
  };
  return { context, emitted, rejected };
}

/** Frame-accurate marbles for a synchronous operator. */
function marble<A, B>(op: Operator<A, B>, context: OperatorContext, input: string, values: Record<string, A>, expected: string, expectedValues: Record<string, B>): void {
  new TestScheduler((actual, wanted) => assert.deepEqual(actual, wanted)).run(({ cold, expectObservable }) => {
    expectObservable(cold(input, values).pipe(op.build(context)) as Observable<B>).toBe(expected, expectedValues);
  });
}

/** One batch through an operator that waits on something: its outputs, in order. */
function batch<A, B>(op: Operator<A, B>, context: OperatorContext, inputs: readonly A[]): Promise<B[]> {
  return lastValueFrom(from(inputs).pipe(op.build(context), toArray()));
}

describe('operators, marble by marble', () => {
  it("filter: '-a-b-c|' keeps a and c", () => {
    const { context, rejected } = testContext();
    const [a, b, c] = [rec('a', 1), rec('b', -2), rec('c', 3)];
    marble(filter((r: Rec<number>) => r.value > 0), context, '-a-b-c|', { a, b, c }, '-a---c|', { a, c });
    assert.deepEqual(rejected, []);
  });

  it("map: '-a-b-c|' → '-x---z|', b's throw goes to the policy", () => {
    const { context, rejected } = testContext();
    const op = map((r: Rec<number>) => {
      if (r.value === 2) throw new Error('two');
      return { key: r.key.toUpperCase(), value: r.value * 10 };
    });
    const [a, b, c] = [rec('a', 1), rec('b', 2), rec('c', 3)];
    marble(op, context, '-a-b-c|', { a, b, c }, '-x---z|', { x: { ...a, key: 'A', value: 10 }, z: { ...c, key: 'C', value: 30 } });
    assert.deepEqual(rejected, [{ key: 'b', code: 'TRB_PROCESS' }]);
  });

  it("mapValues: '-a-b|' → '-x-y|', keys and origin kept", () => {
    const { context } = testContext();
    const [a, b] = [rec('a', { n: 1 }), rec('b', { n: 2 })];
    marble(mapValues((v: { n: number }) => v.n + 1), context, '-a-b|', { a, b }, '-x-y|', { x: { ...a, value: 2 }, y: { ...b, value: 3 } });
  });

  it("flatMap: '-a----b|' → '-(pq)--|': two records from a, none from b", () => {
    const { context } = testContext();
    const [a, b] = [rec('a', [1, 2]), rec('b', [] as number[])];
    const op = flatMap((r: Rec<number[]>) => r.value.map((n) => ({ key: `${r.key}${n}`, value: n })));
    marble(op, context, '-a----b|', { a, b }, '-(pq)--|', { p: { ...a, key: 'a1', value: 1 }, q: { ...a, key: 'a2', value: 2 } });
  });

  it("peek: '-a-b|' → '-a-b|', with its side effect once per record", () => {
    const { context } = testContext();
    const seen: string[] = [];
    const [a, b] = [rec('a', 1), rec('b', 2)];
    marble(peek((r: Rec<number>) => void seen.push(r.key)), context, '-a-b|', { a, b }, '-a-b|', { a, b });
    assert.deepEqual(seen, ['a', 'b']);
  });

  it("toTopic: '-a-b|' → '-a-b|', and one message per record for the batch's produce call", () => {
    const { context, emitted } = testContext();
    const [a, b] = [rec('a', { n: 1 }), rec('b', { n: 2 })];
    marble(toTopic('out', { key: string(), value: json<{ n: number }>() }), context, '-a-b|', { a, b }, '-a-b|', { a, b });
    assert.deepEqual(emitted.map((m) => [m.topic, m.key?.toString(), m.value?.toString(), m.timestamp]), [['out', 'a', '{"n":1}', 1_000], ['out', 'b', '{"n":2}', 1_000]]);
  });

  it("mapAsync (keyConcurrency 2): 'a1 b a2|' → per-key order kept ('a1' before 'a2')", async () => {
    const { context } = testContext();
    const op = mapAsync(async (r: Rec<string>) => {
      await new Promise((resolve) => setImmediate(resolve));
      return { key: r.key, value: `${r.value}!` };
    });
    const out = await batch(op, context, [rec('a', 'a1'), rec('b', 'b'), rec('a', 'a2')]);
    assert.deepEqual(out.filter((r) => r.key === 'a').map((r) => r.value), ['a1!', 'a2!']);
    assert.deepEqual(out.map((r) => r.value).sort(), ['a1!', 'a2!', 'b!']);
  });

  it("toCollection: 'a b a2|' → 'a b a2|', one bulk write where the last record of a key wins", async () => {
    const store = new MemoryDocumentStore();
    const { context } = testContext(store);
    const op = toCollection('docs', { filter: (r: Rec<number>) => ({ id: r.key }), document: (r: Rec<number>) => ({ n: r.value }) });
    const input = [rec('a', 1), rec('b', 2), rec('a', 3)];
    assert.deepEqual(await batch(op, context, input), input);
    assert.deepEqual((await store.collection('docs').find({}, { sort: { id: 1 }, projection: { _id: 0 } })), [{ id: 'a', n: 3 }, { id: 'b', n: 2 }]);
  });

  it('defineBatchOperator: a write or a produce it did not declare fails the batch with TRB_TOPOLOGY', async () => {
    const store = new MemoryDocumentStore();
    const { context } = testContext(store);
    const sneaky = defineBatchOperator<AnyRecord, AnyRecord, AnyRecord>({
      name: 'sneaky',
      needs: { store: true },
      writes: [{ kind: 'collection', name: 'declared' }],
      decode: (r) => r,
      async work({ kept }, io) {
        await io.write('elsewhere', [{ kind: 'delete', filter: { id: 1 } }]);
        return kept;
      },
    });
    await assert.rejects(batch(sneaky, context, [rec('a', 1)]), { code: 'TRB_TOPOLOGY', message: /wrote to collection 'elsewhere', which it does not declare \(it declares: collection declared\)/ });
    const producing = defineBatchOperator<AnyRecord, AnyRecord, AnyRecord>({
      name: 'producing',
      needs: {},
      writes: [],
      decode: (r) => r,
      async work({ kept }, io) {
        io.emit({ topic: 'somewhere', key: null, value: null });
        return kept;
      },
    });
    await assert.rejects(batch(producing, context, [rec('a', 1)]), { code: 'TRB_TOPOLOGY' });
  });

  it('defineBatchOperator: an iterable from work is passed on one record at a time, each through the next stage before the next is built', async () => {
    const { context } = testContext();
    const log: string[] = [];
    const lazy = defineBatchOperator<AnyRecord, AnyRecord, AnyRecord>({
      name: 'lazy',
      needs: {},
      writes: [],
      decode: (r) => r,
      async work({ kept }) {
        return (function* () {
          for (const r of kept) {
            log.push(`built ${String(r.key)}`);
            yield r;
          }
        })();
      },
    });
    const next = map((r: AnyRecord) => (log.push(`next ${String(r.key)}`), r));
    const out = await lastValueFrom(from([rec('a', 1), rec('b', 2), rec('c', 3)]).pipe(lazy.build(context), next.build(context), toArray()));
    assert.deepEqual(out.map((r) => r.key), ['a', 'b', 'c']);
    assert.deepEqual(log, ['built a', 'next a', 'built b', 'next b', 'built c', 'next c']);
  });
});

describe('Fast Data stages, one batch each', () => {
  const people = projection({ name: 'pr_people', source: { topic: 'hr.people', adapter: basic() }, primaryKey: ['id'], fields: { id: field.string(), name: field.string({ required: true }) } });
  const view = singleView({ name: 'sv_people', base: people, include: {}, map: ({ base }) => ({ id: base.id, upper: base.name.toUpperCase() }) });

  it("writeProjection: 'a1 b a2 !|' → 'A B|': one pr-update per changed key, the bad record to the policy", async () => {
    const store = new MemoryDocumentStore();
    const { context, rejected } = testContext(store);
    const input = [rec('{"id":"a"}', { id: 'a', name: 'Ann' }, 0), rec('{"id":"b"}', { id: 'b', name: 'Bo' }, 1), rec('{"id":"a"}', { id: 'a', name: 'Anna' }, 2), rec('{"id":"x"}', 'not a row', 3)] as AnyRecord[];
    const out = await batch(writeProjection(people), context, input);
    assert.deepEqual(out.map((r) => [r.key, (r.value as { operation: { type: string } }).operation.type, (r.value as unknown as { after: { name: string } }).after.name]), [[{ id: 'a' }, 'INSERT', 'Anna'], [{ id: 'b' }, 'INSERT', 'Bo']]);
    assert.deepEqual(rejected.map((r) => r.code), ['TRB_DECODE']);
    const stored = await store.collection('pr_people').find({ id: 'a' });
    assert.equal((stored[0]?.['updatedAt'] as Date).toISOString(), '2026-01-02T03:04:05.000Z', "stamped with the context's clock");
  });

  it("triggerViews: 'u1 u2 u1|' → 'T1 T2|': one sv-trigger per view key, de-duplicated", async () => {
    const store = new MemoryDocumentStore();
    const { context } = testContext(store);
    const update = (id: string, offset: number) => rec(id, { operation: { type: 'UPDATE', timestamp: 'x' }, storageNamespace: 'pr_people', primaryKeys: ['id'], before: null, after: { id, name: id } }, offset) as AnyRecord;
    const out = await batch(triggerViews(view), context, [update('p1', 0), update('p2', 1), update('p1', 2)]);
    assert.deepEqual(out.map((r) => r.key).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))), [{ id: 'p1' }, { id: 'p2' }]);
  });

  it("aggregateViews: 't1 t2|' → both views written in one bulk write, one sv-update each", async () => {
    const store = new MemoryDocumentStore();
    await store.collection('pr_people').bulkWrite([
      { kind: 'replace', filter: { id: 'p1' }, document: { id: 'p1', name: 'ann', __STATE__: 'PUBLIC' } },
      { kind: 'replace', filter: { id: 'p2' }, document: { id: 'p2', name: 'bo', __STATE__: 'PUBLIC' } },
    ]);
    const { context, emitted } = testContext(store);
    const trigger = (id: string, offset: number) => rec(id, { type: 'aggregation', singleViewName: 'sv_people', singleViewIdentifier: { id }, change: { projectionName: 'pr_people', projectionIdentifier: { id }, data: null }, __internal__kafkaInfo: null }, offset) as AnyRecord;
    const op = aggregateViews(view, { triggerTopic: 'sv_people.sv-trigger', svUpdateTopic: 'sv_people.sv-update', errorsCollection: 'sv_people-errors', source: 'hr' });
    await batch(op, context, [trigger('p1', 0), trigger('p2', 1)]);
    assert.deepEqual((await store.collection('sv_people').find({}, { sort: { id: 1 } })).map((d) => d['upper']), ['ANN', 'BO']);
    assert.deepEqual(emitted.map((m) => m.topic), ['sv_people.sv-update', 'sv_people.sv-update']);
  });
});
