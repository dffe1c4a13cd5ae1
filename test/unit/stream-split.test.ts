/**
 * split() and merge() of a stream on the embedded engine: each record reaches exactly one branch
 * (the first whose predicate takes it, else `rest`), merged branches continue as one, a throwing
 * predicate sends only its record to the error policy, the batch commits once every branch is done,
 * and describe() shows the graph.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TributaryError } from '../../src/errors.js';
import { mapValues, peek, toCollection, toTopic } from '../../src/stream/operators/index.js';
import { json, string } from '../../src/stream/serdes/index.js';
import { topology } from '../../src/stream/topology.js';
import { TestDriver } from '../../src/testing/test-driver.js';

interface Order {
  id: string;
  total: number;
}

const serdes = { key: string(), value: json<Order>() };
const orders = (...totals: number[]) => totals.map((total, i) => ({ key: `o${i}`, value: { id: `o${i}`, total } }));

describe('split and merge', () => {
  it('routes each record to the first branch that takes it; merged branches continue as one; the rest branch gets the others', async () => {
    const t = topology('split');
    const { big, medium, rest } = t.stream('orders', { ...serdes, name: 'orders' }).split({ big: (r) => (r.value?.total ?? 0) >= 100, medium: (r) => (r.value?.total ?? 0) >= 10 });
    const bigOut = big.pipe(toTopic('orders.big', { key: string(), value: json<Order>() }));
    const mediumOut = medium.pipe(mapValues((o) => o && { ...o, total: o.total * 2 }));
    rest.pipe(toTopic('orders.small', { key: string(), value: json<Order>() }));
    bigOut.merge(mediumOut).pipe(toCollection('notable', { filter: (r) => ({ id: r.value?.id }), document: (r) => ({ total: r.value?.total }) }));

    const driver = await TestDriver.start(t);
    try {
      await driver.pipeInput('orders', orders(500, 5, 50, 100, 9), serdes);
      await driver.idle();
      assert.deepEqual((await driver.readOutput('orders.big', serdes)).map((r) => r.value?.total), [500, 100]);
      assert.deepEqual((await driver.readOutput('orders.small', serdes)).map((r) => r.value?.total), [5, 9]);
      const notable = await driver.store.collection('notable').find({}, { sort: { id: 1 } });
      assert.deepEqual(notable.map((d) => [d['id'], d['total']]), [['o0', 500], ['o2', 100], ['o3', 100]], 'big as is, medium doubled');
    } finally {
      await driver.close();
    }
  });

  it('a predicate that throws dead-letters that record only; the others go on', async () => {
    const t = topology('split-errors');
    let seen = 0;
    const { even, rest } = t.stream('numbers', { ...serdes, name: 'numbers' }).split({
      even: (r) => {
        if ((r.value?.total ?? 0) < 0) throw new Error('negative');
        return (r.value?.total ?? 0) % 2 === 0;
      },
    });
    even.pipe(peek(() => void seen++), toTopic('even', { key: string(), value: json<Order>() }));
    rest.pipe(toTopic('odd', { key: string(), value: json<Order>() }));
    const driver = await TestDriver.start(t);
    try {
      await driver.pipeInput('numbers', orders(2, -1, 3, 4), serdes);
      await driver.idle();
      assert.deepEqual((await driver.readOutput('even', serdes)).map((r) => r.value?.total), [2, 4]);
      assert.deepEqual((await driver.readOutput('odd', serdes)).map((r) => r.value?.total), [3]);
      const dlq = await driver.readOutput('numbers.dlq', serdes);
      assert.deepEqual(dlq.map((r) => r.value?.total), [-1]);
      assert.equal(dlq[0]?.headers['tributary.error.code'], 'TRB_PROCESS');
      assert.equal(seen, 2);
    } finally {
      await driver.close();
    }
  });

  it('describe() shows the branches and every sink; merge() refuses branches of two streams; a handle is used once', () => {
    const t = topology('split-describe');
    const { big, rest } = t.stream('orders', { ...serdes, name: 'orders' }).split({ big: (r) => (r.value?.total ?? 0) >= 100 });
    big.pipe(toTopic('orders.big', { key: string(), value: json<Order>() }));
    rest.pipe(toTopic('orders.small', { key: string(), value: json<Order>() }));
    const [orders] = t.describe().subTopologies;
    assert.deepEqual(orders?.sinks, [{ kind: 'topic', name: 'orders.big' }, { kind: 'topic', name: 'orders.small' }]);
    assert.deepEqual(orders?.segments.map((s) => s.input.kind), ['source', 'branch', 'branch']);
    const text = t.describe().toText();
    assert.ok(text.includes('--> decode --> split(big | rest)'), text);
    assert.ok(text.includes('[big] --> toTopic(orders.big)'), text);
    assert.ok(text.includes('[rest] --> toTopic(orders.small)'), text);
    assert.match(t.describe().toMermaid(), /-- big --> op_0_s1_0_toTopic/);

    const other = t.stream('payments', { ...serdes, name: 'payments' });
    assert.throws(() => other.merge(big), (e: unknown) => e instanceof TributaryError && e.code === 'TRB_TOPOLOGY' && /one stream/.test(e.message));
    assert.throws(() => big.pipe(), /already piped/);
    assert.throws(() => t.stream('x', serdes).split({ rest: () => true }), /none named 'rest'/);
  });
});
