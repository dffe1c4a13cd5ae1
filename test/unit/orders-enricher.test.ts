/**
 * The low-level example topology (topologies/orders-enricher.ts), run as written on the embedded
 * engine with its Avro sink going through the in-memory registry: small orders are dropped, big
 * ones banded and written as Confluent-framed Avro, a malformed one dead-lettered with its bytes.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { avro, json, string } from '../../src/index.js';
import { TestDriver } from '../../src/testing/index.js';
import enricher, { type BigOrder, type Order } from '../../topologies/orders-enricher.js';

describe('topologies/orders-enricher.ts', () => {
  it('keeps orders of 100 or more, bands them LARGE or HUGE, writes Avro, dead-letters malformed JSON', async () => {
    const driver = await TestDriver.start(enricher, { partitions: { 'shop.orders': 2, 'shop.big-orders': 2 } });
    try {
      const orders: Order[] = [
        { order_id: 'o1', customer_id: 'c1', total: 50 },
        { order_id: 'o2', customer_id: 'c1', total: 100 },
        { order_id: 'o3', customer_id: 'c2', total: 2500 },
        { order_id: 'o4', customer_id: 'c3', total: 999.5 },
      ];
      await driver.pipeInput('shop.orders', orders.map((o) => ({ key: o.order_id, value: o })), { key: string(), value: json<Order>() });
      driver.pipeRaw('shop.orders', [{ key: Buffer.from('o5'), value: Buffer.from('{"order_id": "o5", "total": ') }]);
      await driver.idle();

      const big = await driver.readOutput('shop.big-orders', { key: string(), value: avro<BigOrder>() });
      assert.deepEqual(
        big.map((r) => [r.key, r.value?.band, r.value?.total]).sort(),
        [
          ['o2', 'LARGE', 100],
          ['o3', 'HUGE', 2500],
          ['o4', 'LARGE', 999.5],
        ],
      );
      const raw = driver.broker.partitions('shop.big-orders').flat();
      assert.ok(raw.length === 3 && raw.every((m) => m.value?.[0] === 0), 'Confluent-framed Avro (magic byte 0)');

      const dlq = driver.broker.partitions('shop.orders.dlq').flat();
      assert.equal(dlq.length, 1);
      assert.equal(dlq[0]?.value?.toString(), '{"order_id": "o5", "total": ', 'the original bytes');
      assert.equal(dlq[0]?.headers['tributary.error.code'], 'TRB_DECODE');
    } finally {
      await driver.close();
    }
  });
});
