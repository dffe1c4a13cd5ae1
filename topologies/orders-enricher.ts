/**
 * The low-level authoring example: read orders (JSON), keep the big ones, enrich them, and write
 * them as Avro through the schema registry. Malformed orders are dead-lettered to shop.orders.dlq.
 *
 *   npx tributary describe topologies/orders-enricher.ts --format mermaid
 */
import { readFileSync } from 'node:fs';
import { avro, filter, hasValue, json, mapValues, string, toTopic, topology, type AvroSchema } from '../src/index.js';

export interface Order {
  order_id: string;
  customer_id: string;
  total: number;
}

export interface BigOrder extends Order {
  band: 'LARGE' | 'HUGE';
}

const bigOrderSchema = JSON.parse(readFileSync(new URL('../schemas/shop.big-orders.avsc', import.meta.url), 'utf8')) as AvroSchema;

const t = topology('orders-enricher');

t.stream('shop.orders', { key: string(), value: json<Order>(), errors: 'dead-letter', keyConcurrency: 1 }).pipe(
  filter(hasValue), // tombstones decode to null
  filter((r) => r.value.total >= 100),
  mapValues((order): BigOrder => ({ ...order, band: order.total >= 1000 ? 'HUGE' : 'LARGE' })),
  toTopic('shop.big-orders', { key: string(), value: avro<BigOrder>({ schema: bigOrderSchema }) }),
);

export default t;
