/**
 * Types flow from the serdes through every operator to the sink. The `@ts-expect-error` lines are
 * the proof: `npm test` type-checks this file, and tsc fails if any of them stops being an error.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { filter, hasValue, json, map, mapValues, string, toTopic, topology } from '../../src/index.js';

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
      filter(hasValue),
      filter((r) => r.value.total > 0),
      mapValues((o): Invoice => ({ invoice_id: o.order_id, amount: o.total })),
      toTopic('invoices', { value: json<Invoice>() }),
    );

    t.stream('orders-2', { key: string(), value: json<Order>(), name: 'typo-in-filter' }).pipe(
      filter(hasValue),
      // @ts-expect-error — `totl` is not a field of Order
      filter((r) => r.value.totl > 0),
    );

    t.stream('orders-3', { key: string(), value: json<Order>(), name: 'typo-in-map' }).pipe(
      filter(hasValue),
      // @ts-expect-error — `order_ID` is not a field of Order
      map((r) => ({ key: r.key, value: r.value.order_ID })),
    );

    t.stream('orders-4', { key: string(), value: json<Order>(), name: 'wrong-sink' }).pipe(
      filter(hasValue),
      // @ts-expect-error — the records now carry invoices, but the sink below serialises Order
      mapValues((o) => ({ invoice_id: o.order_id, amount: o.total })),
      toTopic('orders-copy', { value: json<Order>() }),
    );

    t.stream('orders-5', { key: string(), value: json<Order>(), name: 'two-sinks' }).pipe(
      filter(hasValue),
      toTopic('orders-copy', { value: json<Order>() }),
      // Records pass through a sink with their type: still Order, not `Order | null` (json's serde type).
      filter((r) => r.value.total > 0),
      toTopic('orders-copy-2', { value: json<Order>() }),
    );

    assert.equal(t.describe().subTopologies.length, 5);
  });

  it('admits null for tombstones: fields are read only after filter(hasValue), and sinks can write tombstones', async () => {
    const t = topology('tombstones');
    t.stream('orders', { key: string(), value: json<Order>(), name: 'unguarded' }).pipe(
      // @ts-expect-error — a tombstone decodes to null: `r.value` is `Order | null` until filter(hasValue)
      filter((r) => r.value.total > 0),
    );
    t.stream('orders-2', { key: string(), value: json<Order>(), name: 'deletes' }).pipe(
      map((r) => ({ key: r.key, value: r.value === null ? null : { invoice_id: r.value.order_id, amount: r.value.total } })),
      toTopic('invoices', { value: json<Invoice>() }),
    );
    const context = { topic: 'orders', part: 'value' as const };
    const decoded: Order | null = await json<Order>().deserialize(null, context);
    assert.equal(decoded, null);
    assert.equal(await json<Order>().serialize(null, context), null);
    assert.equal(hasValue({ value: null } as never), false);
    assert.equal(hasValue({ value: { order_id: 'o', total: 1 } } as never), true);
  });
});
