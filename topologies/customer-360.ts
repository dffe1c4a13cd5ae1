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
 *
 * The default export is the standard topology. `customer360({ topicPrefix })` builds the same
 * topology on other topic names and consumer groups, so a test or a demo run against a shared Kafka
 * never mixes with an earlier run. Events for it: ./customer-360.generator.ts.
 */
import { readFileSync } from 'node:fs';
import { avro, debezium, fastData, field, goldenGate, hasMany, hasOne, projection, singleView, type AvroSchema } from '../src/index.js';

const schema = (file: string) => JSON.parse(readFileSync(new URL(`../schemas/${file}`, import.meta.url), 'utf8')) as AvroSchema;

/** The Avro schemas of the CRM customers topic (key `{ id }`, value the Debezium envelope). */
export const customerSchemas = { key: schema('crm.public.customers-key.avsc'), value: schema('crm.public.customers-value.avsc') };

/** The four CDC topics, by source table. */
export type SourceTopics = {
  readonly customers: string;
  readonly orders: string;
  readonly orderLines: string;
  readonly preferences: string;
};

export const standardTopics: SourceTopics = {
  customers: 'crm.public.customers',
  orders: 'shop.public.orders',
  orderLines: 'shop.public.order_lines',
  preferences: 'mkt.preferences',
};

export interface Customer360Options {
  /** Prefixes every topic, the source topics included (unless `sourceTopics` names them). */
  readonly topicPrefix?: string;
  /** Topology name, hence consumer-group prefix (default 'customer-360'). */
  readonly name?: string;
  readonly sourceTopics?: Partial<SourceTopics>;
  /**
   * 'example' (default): customers Debezium Avro through the registry, preferences GoldenGate JSON.
   * 'debezium': all four tables from one real Debezium PostgreSQL source (`scripts/infra up --cdc`,
   * docs/cdc.md): customers Avro through the registry as in the example, preferences Debezium JSON.
   * 'debezium-json': the same with every table in Connect's JsonConverter (customers too), for a
   * Connect worker without an Avro converter.
   */
  readonly sourceFormat?: 'example' | 'debezium' | 'debezium-json';
}

export function customer360(options: Customer360Options = {}) {
  const prefix = options.topicPrefix ?? '';
  const topics: SourceTopics = {
    customers: options.sourceTopics?.customers ?? `${prefix}${standardTopics.customers}`,
    orders: options.sourceTopics?.orders ?? `${prefix}${standardTopics.orders}`,
    orderLines: options.sourceTopics?.orderLines ?? `${prefix}${standardTopics.orderLines}`,
    preferences: options.sourceTopics?.preferences ?? `${prefix}${standardTopics.preferences}`,
  };

  const debeziumJson = options.sourceFormat === 'debezium-json';
  const realDebezium = options.sourceFormat === 'debezium' || debeziumJson;

  const customers = projection({
    name: 'pr_customers',
    source: {
      topic: topics.customers,
      adapter: debezium(),
      ...(debeziumJson ? {} : { key: avro({ schema: customerSchemas.key }), value: avro({ schema: customerSchemas.value }) }),
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

  const orders = projection({
    name: 'pr_orders',
    source: { topic: topics.orders, adapter: debezium() },
    systemOfRecord: 'shop',
    primaryKey: ['order_id'],
    fields: {
      order_id: field.string(),
      customer_id: field.string(),
      status: field.string(),
      total: field.number(),
    },
  });

  const orderLines = projection({
    name: 'pr_order_lines',
    source: { topic: topics.orderLines, adapter: debezium() },
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

  const preferences = projection({
    name: 'pr_preferences',
    // GoldenGate keys are the primary-key values as plain text ('c0001'): goldenGate()'s default key serde reads them.
    source: realDebezium ? { topic: topics.preferences, adapter: debezium() } : { topic: topics.preferences, adapter: goldenGate() },
    systemOfRecord: 'marketing',
    primaryKey: ['customer_id'],
    fields: {
      customer_id: field.string({ from: 'CUSTOMER_ID' }),
      channels: field.arrayOfString({ from: 'CHANNELS' }),
      email_opt_in: field.boolean({ from: 'EMAIL_OPT_IN' }),
    },
  });

  const customerView = singleView({
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
      total_spent: Math.round(orders.filter((o) => o.status !== 'cancelled').reduce((sum, o) => sum + (o.total ?? 0), 0) * 100) / 100,
      channels: prefs?.channels ?? [],
      email_opt_in: prefs?.email_opt_in ?? false,
    }),
    validate: (view) => Boolean(view.name), // name is not `required`: it may be absent or null
  });

  const topology = fastData({
    name: options.name ?? 'customer-360',
    topicPrefix: prefix,
    projections: [customers, orders, orderLines, preferences],
    singleViews: [customerView],
  });
  const { prUpdate, svTrigger, svUpdate } = topology.fastData.topics;
  /** Every topic the topology reads or writes, to create them up front (dead-letter topics aside). */
  const allTopics = [...Object.values(topics), ...[customers, orders, orderLines, preferences].map(prUpdate), svTrigger(customerView), svUpdate(customerView)];
  return Object.assign(topology, { sourceTopics: topics, allTopics, customers, orders, orderLines, preferences, customerView });
}

export type Customer360 = ReturnType<typeof customer360>;

const standard = customer360();

export const { customers, orders, orderLines, preferences, customerView } = standard;

export default standard;
