/**
 * A zero-length payload is a delete of its key in Fast Data (RTU >= 7.5.7, `db2` and `debezium`),
 * while a tombstone (a null value) is skipped: Tributary does the same, with JSON and Avro values.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TributaryError } from '../../src/errors.js';
import { basic, debezium, type AdapterInput } from '../../src/fastdata/cdc/index.js';
import { avro, fastData, field, json, projection, type AvroSchema } from '../../src/index.js';
import { TestDriver } from '../../src/testing/index.js';

const KAFKA_TS = 1767400000999;
const input = (key: unknown, value: unknown, extra: Partial<AdapterInput> = {}): AdapterInput => ({ key, value, topic: 'db.public.users', partition: 0, offset: '7', timestamp: KAFKA_TS, headers: {}, ...extra });

describe('zero-length payload: the adapters', () => {
  it('debezium: a delete of the key, ordered by the Kafka timestamp; a null value stays a skipped tombstone', () => {
    assert.deepEqual(debezium().adapt(input({ id: 1 }, null, { emptyPayload: true })), {
      op: 'delete',
      key: { id: 1 },
      before: null,
      after: null,
      position: { counter: KAFKA_TS, type: 'timestamp' },
    });
    assert.deepEqual(debezium().adapt(input({ schema: {}, payload: { id: 1 } }, null, { emptyPayload: true })), debezium().adapt(input({ id: 1 }, null, { emptyPayload: true })));
    assert.deepEqual(debezium().adapt(input({ id: 1 }, null)), { skip: 'tombstone' });
  });

  it('debezium: without a key object it is TRB_MISSING_KEY (dead-lettered), not a silent skip', () => {
    assert.throws(() => debezium().adapt(input(null, null, { emptyPayload: true })), (error: unknown) => error instanceof TributaryError && error.code === 'TRB_MISSING_KEY');
  });

  it('basic / db2: already a delete, zero-length or null', () => {
    for (const emptyPayload of [true, false]) assert.equal((basic().adapt(input({ id: 1 }, null, { emptyPayload })) as { op: string }).op, 'delete');
  });
});

describe('zero-length payload: through the ingest stage', () => {
  const userSchema: AvroSchema = {
    type: 'record',
    name: 'Envelope',
    namespace: 'db.public.users',
    fields: [
      { name: 'before', type: ['null', { type: 'record', name: 'Value', fields: [{ name: 'id', type: 'long' }, { name: 'name', type: 'string' }] }], default: null },
      { name: 'after', type: ['null', 'Value'], default: null },
      { name: 'op', type: 'string' },
    ],
  };

  for (const format of ['json', 'avro'] as const) {
    it(`${format} values: a tombstone leaves the row, a zero-length value deletes it (and its pr-update says so)`, async () => {
      const users = projection({
        name: 'pr_users',
        source: { topic: 'db.public.users', adapter: debezium(), ...(format === 'avro' ? { value: avro({ schema: userSchema }) } : {}) },
        primaryKey: ['id'],
        fields: { id: field.integer(), name: field.string() },
      });
      const driver = await TestDriver.start(fastData({ name: `empty-${format}`, projections: [users] }));
      try {
        const insert = { before: null, after: { id: 1, name: 'Ann' }, op: 'c' };
        await driver.pipeInput('db.public.users', [{ key: { id: 1 }, value: insert }], { key: json(), value: format === 'avro' ? avro({ schema: userSchema }) : json() });
        await driver.idle();
        driver.pipeRaw('db.public.users', [{ key: Buffer.from('{"id":1}'), value: null }]);
        await driver.idle();
        assert.equal((await driver.store.collection('pr_users').findOne({ id: 1 }))?.['__STATE__'], 'PUBLIC', 'a tombstone is skipped');
        driver.pipeRaw('db.public.users', [{ key: Buffer.from('{"id":1}'), value: Buffer.alloc(0) }]);
        await driver.idle();
        const stored = await driver.store.collection('pr_users').findOne({ id: 1 });
        assert.equal(stored?.['__STATE__'], 'DELETED');
        assert.equal(stored?.['__internal__counterType'], 'timestamp');
        const updates = await driver.readOutput('pr_users.pr-update', { key: json<unknown>(), value: json<{ operation: { type: string } }>() });
        assert.deepEqual(updates.map((u) => u.value?.operation.type), ['INSERT', 'DELETE']);
        assert.deepEqual(await driver.readOutput('db.public.users.dlq', { value: json<unknown>() }), [], 'nothing dead-lettered');
      } finally {
        await driver.close();
      }
    });
  }
});
