import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { anyEvent, eventSerde, type EventKind } from '../../src/fastdata/events/event-serde.js';
import { memoryRegistry } from '../../src/stream/serdes/registry.js';
import { basic, fastData, field, hasMany, json, projection, singleView } from '../../src/index.js';
import { TestDriver, computeViews, storedViews } from '../../src/testing/index.js';

const samples: Record<EventKind, Record<string, unknown>> = {
  'pr-update-v1.0.0': {
    operationType: 'UPDATE',
    operationTimestamp: '2026-11-23T10:00:00.000Z',
    projectionName: 'pr_orders',
    source: 'shop',
    primaryKeys: ['order_id'],
    before: { order_id: 'o1', total: 1 },
    after: { order_id: 'o1', total: 2, nested: { a: [1, 2] } },
    __internal__kafkaInfo: { topic: 't', partition: 0, offset: '7', timestamp: '2026-11-23T10:00:00.000Z', key: { order_id: 'o1' } },
  },
  'pr-update-v2.0.0': {
    operation: { type: 'INSERT', timestamp: '2026-11-23T10:00:00.000Z' },
    source: 'shop',
    storageNamespace: 'pr_orders',
    primaryKeys: ['order_id'],
    before: null,
    after: { order_id: 'o1' },
  },
  'sv-trigger-v1.0.0': {
    type: 'aggregation',
    singleViewName: 'sv_customers',
    singleViewIdentifier: { customer_id: 'c1' },
    change: { projectionName: 'pr_orders', projectionIdentifier: { order_id: 'o1' }, data: { order_id: 'o1' } },
    __internal__kafkaInfo: { topic: 't', partition: 1, offset: '3', timestamp: 'x', key: null },
    retry: { attempts: 2, lastError: { type: 'UNKNOWN_ERROR', message: 'boom' } },
  },
  'sv-update-v1.0.0': {
    operationType: 'DELETE',
    operationTimestamp: '2026-11-23T10:00:00.000Z',
    singleViewName: 'sv_customers',
    source: 'crm',
    __internal__kafkaInfo: { topic: 't' },
    before: { customer_id: 'c1' },
    after: null,
  },
  'sv-update-v2.0.0': {
    operation: { type: 'UPDATE', timestamp: '2026-11-23T10:00:00.000Z' },
    source: 'crm',
    storageNamespace: 'sv_customers',
    primaryKeys: ['customer_id'],
    before: { customer_id: 'c1', n: 1 },
    after: { customer_id: 'c1', n: 2 },
  },
};

describe('event serdes', () => {
  it('every event kind round-trips in JSON and in Avro (Confluent framing), and anyEvent reads both', async () => {
    const registry = memoryRegistry();
    for (const [kind, value] of Object.entries(samples) as Array<[EventKind, Record<string, unknown>]>) {
      for (const format of ['json', 'avro'] as const) {
        const serde = eventSerde(kind, format);
        const context = { topic: `t-${kind}`, part: 'value' as const, registry };
        const bytes = await serde.serialize(value, context);
        assert.ok(bytes);
        assert.equal(bytes[0] === 0, format === 'avro', `${kind} ${format} framing`);
        assert.deepEqual(await serde.deserialize(bytes, context), value, `${kind} via its serde (${format})`);
        assert.deepEqual(await anyEvent().deserialize(bytes, context), value, `${kind} via anyEvent (${format})`);
      }
    }
    assert.deepEqual(registry.subjects().sort(), Object.keys(samples).map((k) => `t-${k}-value`).sort());
  });

  it('a topology emitting Avro pr-updates and sv-triggers builds the same views as the oracle', async () => {
    const owners = projection({ name: 'pr_owners', source: { topic: 'owners', adapter: basic() }, primaryKey: ['id'], fields: { id: field.string(), name: field.string() } });
    const pets = projection({
      name: 'pr_pets',
      source: { topic: 'pets', adapter: basic() },
      primaryKey: ['id'],
      fields: { id: field.string(), owner: field.string(), kind: field.string() },
      prUpdate: { version: 'v1.0.0' },
    });
    const view = singleView({
      name: 'sv_owners',
      base: owners,
      include: { pets: hasMany(pets, { owner: 'id' }) },
      map: ({ base, pets: list }) => ({ id: base.id, name: base.name, pets: list.map((p) => p.kind) }),
    });
    const t = fastData({ name: 'avro-events', projections: [owners, pets], singleViews: [view], eventFormat: 'avro' });
    const driver = await TestDriver.start(t);
    try {
      await driver.pipeInput('owners', [{ key: { id: 'a' }, value: { id: 'a', name: 'Ann' } }, { key: { id: 'b' }, value: { id: 'b', name: 'Bo' } }], { key: json(), value: json() });
      await driver.pipeInput('pets', [
        { key: { id: 'p1' }, value: { id: 'p1', owner: 'a', kind: 'cat' } },
        { key: { id: 'p2' }, value: { id: 'p2', owner: 'a', kind: 'dog' } },
        { key: { id: 'p1' }, value: { id: 'p1', owner: 'b', kind: 'cat' } },
      ], { key: json(), value: json() });
      await driver.idle();
      const pr = driver.broker.partitions('pr_pets.pr-update').flat();
      assert.ok(pr.length > 0 && pr.every((m) => m.value?.[0] === 0), 'pr-updates are Avro');
      const stored = await storedViews(view, driver.store);
      assert.deepEqual(stored, await computeViews(view, driver.store));
      assert.deepEqual(stored.get(JSON.stringify({ id: 'b' })), { id: 'b', name: 'Bo', pets: ['cat'] });
      assert.deepEqual(stored.get(JSON.stringify({ id: 'a' })), { id: 'a', name: 'Ann', pets: ['dog'] });
    } finally {
      await driver.close();
    }
  });
});
