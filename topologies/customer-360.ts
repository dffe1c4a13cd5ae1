/**
 * customer_sv, the single view of the seeds: one document per customer with their orders (and
 * each order's lines) and their marketing preferences, kept up to date from four CDC streams:
 *
 *   crm.public.customers        CRM, Debezium, Avro through the schema registry
 *   shop.public.orders          e-commerce, Debezium JSON (with the schema envelope)
 *   shop.public.order_lines     e-commerce, Debezium JSON (without the envelope)
 *   mkt.preferences             marketing, Oracle GoldenGate JSON
 *
 *   npx tributary describe topologies/customer-360.ts --format mermaid
 */
import { readFileSync } from 'node:fs';
import { avro, debezium, fastData, field, goldenGate, hasMany, hasOne, projection, singleView, type AvroSchema } from '../src/index.js';

const schema = (file: string) => JSON.parse(readFileSync(new URL(`../schemas/${file}`, import.meta.url), 'utf8')) as AvroSchema;

export const customers = projection({
  name: 'pr_customers',
  source: {
    topic: 'crm.public.customers',
    adapter: debezium(),
    key: avro({ schema: schema('crm.public.customers-key.avsc') }),
    value: avro({ schema: schema('crm.public.customers-value.avsc') }),
  },
  systemOfRecord: 'crm',
  primaryKey: ['customer_id'],
  fields: {
    customer_id: field.string({ from: 'id' }),
    name: field.string({ from: 'full_name' }),
    email: field.string({ nullable: true }),
    tier: field.string({ nullable: true }),
    signup: field.isoTimestamp({ from: 'signup_ms', nullable: true }),
  },
});

export const orders = projection({
  name: 'pr_orders',
  source: { topic: 'shop.public.orders', adapter: debezium() },
  systemOfRecord: 'shop',
  primaryKey: ['order_id'],
  fields: {
    order_id: field.string(),
    customer_id: field.string(),
    status: field.string(),
    total: field.number(),
  },
});

export const orderLines = projection({
  name: 'pr_order_lines',
  source: { topic: 'shop.public.order_lines', adapter: debezium() },
  systemOfRecord: 'shop',
  primaryKey: ['line_id'],
  fields: {
    line_id: field.string(),
    order_id: field.string(),
    sku: field.string(),
    quantity: field.integer(),
    price: field.number(),
  },
});

export const preferences = projection({
  name: 'pr_preferences',
  source: { topic: 'mkt.preferences', adapter: goldenGate() },
  systemOfRecord: 'marketing',
  primaryKey: ['customer_id'],
  fields: {
    customer_id: field.string({ from: 'CUSTOMER_ID' }),
    channels: field.arrayOfString({ from: 'CHANNELS' }),
    email_opt_in: field.boolean({ from: 'EMAIL_OPT_IN' }),
  },
});

export const customerView = singleView({
  name: 'sv_customers',
  base: customers,
  include: {
    orders: hasMany(orders, { customer_id: 'customer_id' }, { include: { lines: hasMany(orderLines, { order_id: 'order_id' }) } }),
    prefs: hasOne(preferences, { customer_id: 'customer_id' }),
  },
  map: ({ base, orders, prefs }) => ({
    customer_id: base.customer_id,
    name: base.name,
    email: base.email ?? null,
    tier: base.tier ?? 'standard',
    orders: orders.map((o) => ({
      order_id: o.order_id,
      status: o.status,
      total: o.total,
      lines: o.lines.map((l) => ({ sku: l.sku, quantity: l.quantity, price: l.price })),
    })),
    total_spent: Math.round(orders.filter((o) => o.status !== 'cancelled').reduce((sum, o) => sum + o.total, 0) * 100) / 100,
    channels: prefs?.channels ?? [],
    email_opt_in: prefs?.email_opt_in ?? false,
  }),
  validate: (view) => view.name.length > 0,
});

export default fastData({
  name: 'customer-360',
  projections: [customers, orders, orderLines, preferences],
  singleViews: [customerView],
});
