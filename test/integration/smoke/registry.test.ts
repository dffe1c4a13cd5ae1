/**
 * Smoke: the Confluent-compatible registry (Apicurio ccompat in CI) with the client Tributary uses —
 * register, Avro encode/decode in the Confluent wire format, latest-version lookup, and an
 * incompatible schema refused under the default BACKWARD rule.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { services, uniqueName } from '../services.js';

const registry = new SchemaRegistry({ host: services.registryUrl });

const v1 = {
  type: 'record',
  name: 'Customer',
  namespace: 'smoke',
  fields: [
    { name: 'customer_id', type: 'string' },
    { name: 'points', type: 'int' },
  ],
};

describe('schema registry smoke', () => {
  it('registers a schema and round-trips a record in the Confluent wire format', async () => {
    const subject = `${uniqueName('smoke')}-value`;
    const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(v1) }, { subject });
    assert.ok(Number.isInteger(id) && id > 0, `schema id ${id}`);

    const bytes = await registry.encode(id, { customer_id: 'c-1', points: 42 });
    assert.equal(bytes.readUInt8(0), 0, 'magic byte 0');
    assert.equal(bytes.readInt32BE(1), id, 'schema id in bytes 1..4');
    assert.deepEqual({ ...(await registry.decode(bytes)) }, { customer_id: 'c-1', points: 42 });

    assert.equal(await registry.getLatestSchemaId(subject), id, 'latest version of the subject');
    const again = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(v1) }, { subject });
    assert.equal(again.id, id, 'registering the same schema again returns the same id');
  });

  it('accepts a backward-compatible change and refuses an incompatible one', async () => {
    const subject = `${uniqueName('smoke')}-value`;
    await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(v1) }, { subject });

    const compatible = { ...v1, fields: [...v1.fields, { name: 'tier', type: 'string', default: 'basic' }] };
    const { id: id2 } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(compatible) }, { subject });
    assert.ok(id2 > 0);

    const incompatible = { ...v1, fields: [{ name: 'customer_id', type: 'string' }, { name: 'points', type: 'string' }] };
    await assert.rejects(
      registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(incompatible) }, { subject }),
      (error: Error) => /incompatib|409|conflict/i.test(`${error.name} ${error.message}`),
    );
  });

  it('fails to decode a payload that names an unknown schema id', async () => {
    const bytes = Buffer.alloc(9);
    bytes.writeUInt8(0, 0);
    bytes.writeInt32BE(2_000_000_000, 1);
    await assert.rejects(registry.decode(bytes));
  });
});
