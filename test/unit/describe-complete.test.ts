/**
 * describe() is complete: every topic an embedded run produced to and every collection it wrote or
 * read is listed in the topology's description (sources, sinks, reads, dead-letter topics). Two
 * runs: customer-360 on a generated history with a poison record, and a small view whose `map`
 * throws and whose `validate` refuses, so the retry topic, the `-errors` collection and the
 * dead-letter topics are written too. Each run also asserts those outputs were really touched, so
 * the comparison cannot pass on an empty run.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { basic } from '../../src/fastdata/cdc/index.js';
import { fastData } from '../../src/fastdata/fast-data.js';
import { field } from '../../src/fastdata/projection/fields.js';
import { projection } from '../../src/fastdata/projection/projection.js';
import { singleView } from '../../src/fastdata/singleview/single-view.js';
import { json } from '../../src/stream/serdes/json.js';
import type { Topology } from '../../src/stream/topology.js';
import { TestDriver } from '../../src/testing/test-driver.js';
import { customer360 } from '../../topologies/customer-360.js';
import { generateHistory, pipeHistory } from '../../topologies/customer-360.generator.js';
import { CountingStore } from '../contract/counting-store.js';

interface Touched {
  readonly topics: Set<string>;
  readonly written: Set<string>;
  readonly read: Set<string>;
}

function touched(driver: TestDriver, store: CountingStore): Touched {
  const topics = new Set(driver.broker.topics().filter((topic) => driver.broker.partitions(topic).some((p) => p.length > 0)));
  const written = new Set(store.calls.filter((c) => c.method === 'bulkWrite' || c.method === 'createIndexes').map((c) => c.collection));
  const read = new Set(store.calls.filter((c) => c.method === 'find' || c.method === 'findOne').map((c) => c.collection));
  return { topics, written, read };
}

function described(t: Topology) {
  const subs = t.describe().subTopologies;
  return {
    topics: new Set(subs.flatMap((s) => [...s.sources.map((src) => src.topic), ...s.sinks.filter((k) => k.kind === 'topic').map((k) => k.name), ...s.deadLetterTopics])),
    collections: new Set(subs.flatMap((s) => s.sinks.filter((k) => k.kind === 'collection').map((k) => k.name))),
    reads: new Set(subs.flatMap((s) => s.reads)),
  };
}

function assertListed(t: Topology, actual: Touched): void {
  const d = described(t);
  for (const topic of actual.topics) assert.ok(d.topics.has(topic), `topic ${topic} was produced to but describe() does not list it`);
  for (const c of actual.written) assert.ok(d.collections.has(c), `collection ${c} was written but describe() does not list it as a sink`);
  for (const c of actual.read) assert.ok(d.reads.has(c), `collection ${c} was read but describe() does not list it among reads`);
}

describe('describe() lists everything an embedded run touches', () => {
  it('customer-360 on a generated history with a poison record', async () => {
    const t = customer360();
    const store = new CountingStore();
    const driver = await TestDriver.start(t, { store, partitions: Object.fromEntries(t.allTopics.map((topic) => [topic, 2])) });
    try {
      await pipeHistory(driver, generateHistory({ seed: 7, customers: 8, events: 150 }));
      driver.pipeRaw(t.sourceTopics.orders, [{ key: Buffer.from('"o-poison"'), value: Buffer.from('{not json') }]);
      await driver.idle(30_000);
      const actual = touched(driver, store);
      assertListed(t, actual);
      for (const topic of [...t.allTopics, `${t.sourceTopics.orders}.dlq`]) assert.ok(actual.topics.has(topic), `the run produced to ${topic}`);
      for (const c of ['pr_customers', 'pr_orders', 'pr_order_lines', 'pr_preferences', 'sv_customers']) assert.ok(actual.written.has(c) && actual.read.has(c), `the run wrote and read ${c}`);
    } finally {
      await driver.close();
    }
  });

  it('a view whose map throws and whose validate refuses: retry topic, -errors collection, dead letters', async () => {
    const people = projection({
      name: 'pr_people',
      source: { topic: 'hr.people', adapter: basic() },
      primaryKey: ['id'],
      fields: { id: field.string(), name: field.string() },
    });
    const view = singleView({
      name: 'sv_people',
      base: people,
      include: {},
      maxAttempts: 1,
      map: ({ base }) => {
        if (base.name === 'boom') throw new Error('cannot map boom');
        return { id: base.id, name: base.name };
      },
      validate: (v) => v.name !== 'invalid',
    });
    const t = fastData({ name: 'people', projections: [people], singleViews: [view] });
    const store = new CountingStore();
    const driver = await TestDriver.start(t, { store });
    try {
      const row = (id: string, name: string) => ({ key: { id }, value: { id, name } });
      await driver.pipeInput('hr.people', [row('p1', 'Ann'), row('p2', 'boom'), row('p3', 'invalid')], { key: json(), value: json() });
      await driver.idle(30_000);
      const actual = touched(driver, store);
      assertListed(t, actual);
      for (const topic of ['hr.people', 'pr_people.pr-update', 'sv_people.sv-trigger', 'sv_people.sv-update', 'sv_people.sv-trigger.dlq']) assert.ok(actual.topics.has(topic), `the run produced to ${topic}`);
      assert.ok(actual.written.has('sv_people-errors'), 'the run wrote error records');
      assert.ok(described(t).collections.has('sv_people-errors'));
    } finally {
      await driver.close();
    }
  });
});
