import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { lastValueFrom, from, toArray } from 'rxjs';
import { backoffMs } from '../../src/stream/runtime/retry.js';
import { compatibilityPartitioner } from '@platformatic/kafka';
import { keyHash, murmur2, partitionFor } from '../../src/stream/transport/murmur2.js';
import { mapAsync, topology, json, string, toTopic, filter, toCollection } from '../../src/index.js';
import { ORIGIN, type StreamRecord } from '../../src/stream/record.js';

describe('murmur2 partitioner', () => {
  it('matches the Java client on its published test vectors', () => {
    const vectors: Array<[string, number]> = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const [input, expected] of vectors) assert.equal(murmur2(Buffer.from(input)), expected, input);
  });
  it("gives the platformatic client's compatibility partitioner's numbers, which the platformatic transport replaces with it", () => {
    // Keys of every length 0..69 (each tail length), bytes from a fixed pseudo-random sequence.
    let seed = 7;
    const byte = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24;
    for (let i = 0; i < 2_000; i++) {
      const key = Buffer.from(Array.from({ length: i % 70 }, byte));
      assert.equal(keyHash(key), compatibilityPartitioner({ topic: 't' }, key), key.toString('hex'));
    }
  });
  it('keeps a key on one partition and spreads null keys round-robin', () => {
    const p = partitionFor(Buffer.from('customer-42'), 6, () => 0);
    for (let i = 0; i < 5; i++) assert.equal(partitionFor(Buffer.from('customer-42'), 6, () => i), p);
    let n = 0;
    assert.deepEqual([0, 1, 2].map(() => partitionFor(null, 3, () => n++)), [0, 1, 2]);
  });
});

describe('retry backoff', () => {
  it('doubles from the initial delay, is capped, and jitters within ±20 %', () => {
    const opts = { initialMs: 100, maxMs: 1000 };
    assert.equal(backoffMs(1, opts, () => 0.5), 100);
    assert.equal(backoffMs(2, opts, () => 0.5), 200);
    assert.equal(backoffMs(4, opts, () => 0.5), 800);
    assert.equal(backoffMs(10, opts, () => 0.5), 1000);
    assert.equal(backoffMs(1, opts, () => 0), 80);
    assert.equal(backoffMs(1, opts, () => 1), 120);
  });
});

const rec = (key: string, value: number): StreamRecord<string, number> => {
  const origin = { topic: 't', partition: 0, offset: String(value), timestamp: 0, rawKey: null, rawValue: null, headers: {} };
  return { topic: 't', partition: 0, offset: String(value), timestamp: 0, key, value, headers: {}, [ORIGIN]: origin };
};

describe('mapAsync', () => {
  it('keeps per-key order and runs different keys at once under keyConcurrency', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const op = mapAsync(async (r: StreamRecord<string, number>) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((resolve) => setTimeout(resolve, (r.value * 7) % 5));
      inFlight--;
      return { key: r.key, value: r.value };
    });
    const context = { stream: 's', keyConcurrency: 3, reject: () => undefined, emit: () => undefined, now: () => 0, observeStoreWrite: () => undefined };
    const input = Array.from({ length: 60 }, (_, i) => rec(`k${i % 4}`, i));
    const out = await lastValueFrom(from(input).pipe(op.build(context), toArray()));
    assert.equal(out.length, 60);
    for (const key of ['k0', 'k1', 'k2', 'k3']) {
      const values = out.filter((r) => r.key === key).map((r) => r.value);
      assert.deepEqual(values, [...values].sort((a, b) => a - b), `order of ${key}`);
    }
    assert.ok(maxInFlight > 1 && maxInFlight <= 3, `max in flight ${maxInFlight}`);
  });

  it('is strictly sequential with keyConcurrency 1', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const op = mapAsync(async (r: StreamRecord<string, number>) => {
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, 1));
      inFlight--;
      return { key: r.key, value: r.value };
    });
    const out = await lastValueFrom(from([rec('a', 1), rec('b', 2), rec('a', 3)]).pipe(op, toArray()));
    assert.deepEqual(out.map((r) => r.value), [1, 2, 3]);
    assert.equal(maxInFlight, 1);
  });
});

describe('topology', () => {
  it('refuses duplicate stream names, branching a stream twice, and bad names', () => {
    const t = topology('x');
    const s = t.stream('a', { key: string(), value: json<number>() });
    s.pipe(filter(() => true));
    assert.throws(() => s.pipe(filter(() => true)), /already piped/);
    assert.throws(() => t.stream('a', { key: string(), value: json<number>() }), /two streams are named 'a'/);
    assert.throws(() => topology('bad name'), /may only use/);
  });

  it('describes sinks to topics and collections, and dead-letter topics per policy', () => {
    const t = topology('d');
    t.stream(['a', 'b'], { key: string(), value: json<{ id: string }>(), name: 'ab' }).pipe(
      toTopic('out', { value: json<{ id: string }>() }),
      toCollection('docs', { filter: (r) => ({ id: r.value!.id }), document: (r) => r.value! }),
    );
    t.stream('c', { key: string(), value: json<number>(), errors: 'skip' });
    const d = t.describe().toJSON();
    assert.deepEqual(d.subTopologies[0]?.sinks, [{ kind: 'topic', name: 'out' }, { kind: 'collection', name: 'docs' }]);
    assert.deepEqual(d.subTopologies[0]?.deadLetterTopics, ['a.dlq', 'b.dlq']);
    assert.deepEqual(d.subTopologies[1]?.deadLetterTopics, []);
    assert.equal(d.subTopologies[1]?.groupId, 'd.c');
    const mermaid = t.describe().toMermaid();
    assert.match(mermaid, /coll_docs\[\("docs"\)\]/);
  });
});
