/**
 * Types flow from the serdes through every operator to the sink. The `@ts-expect-error` lines are
 * the proof: `npm test` type-checks this file, and tsc fails if any of them stops being an error.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { filter, json, map, mapValues, string, toTopic, topology } from '../../src/index.js';

interface Order {
  order_id: string;
  total: number;
}
interface Invoice {
  invoice_id: string;
  amount: number;
}

describe('authoring types', () => {
  it('accepts a well-typed pipeline and rejects wrong field names and mismatched sinks', () => {
    const t = topology('types');
    t.stream('orders', { key: string(), value: json<Order>() }).pipe(
      filter((r) => r.value.total > 0),
      mapValues((o): Invoice => ({ invoice_id: o.order_id, amount: o.total })),
      toTopic('invoices', { value: json<Invoice>() }),
    );

    t.stream('orders-2', { key: string(), value: json<Order>(), name: 'typo-in-filter' }).pipe(
      // @ts-expect-error — `totl` is not a field of Order
      filter((r) => r.value.totl > 0),
    );

    t.stream('orders-3', { key: string(), value: json<Order>(), name: 'typo-in-map' }).pipe(
      // @ts-expect-error — `order_ID` is not a field of Order
      map((r) => ({ key: r.key, value: r.value.order_ID })),
    );

    t.stream('orders-4', { key: string(), value: json<Order>(), name: 'wrong-sink' }).pipe(
      // @ts-expect-error — the records now carry invoices, but the sink below serialises Order
      mapValues((o) => ({ invoice_id: o.order_id, amount: o.total })),
      toTopic('orders-copy', { value: json<Order>() }),
    );

    assert.equal(t.describe().subTopologies.length, 4);
  });
});
