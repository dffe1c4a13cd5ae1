/**
 * The SchemaRegistryClient contract: one suite for the in-process registry (test/unit) and the
 * Confluent-compatible client on the real registry (test/integration). It pins what the runtime's
 * error policy depends on: a request about something that is not there, or a schema that is not
 * valid, fails with TRB_SCHEMA and is not retriable (a dead letter, never a retry loop); what works
 * round-trips through the codec of the id it got.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { AvroSchema, SchemaRegistryClient } from '../../src/stream/serdes/registry.js';
import { failure } from './helpers.js';


const subjectOf = (label: string) => `registry-contract-${label}-${randomUUID().slice(0, 8)}-value`;

export function registryContract(name: string, makeRegistry: () => SchemaRegistryClient): void {
  describe(`SchemaRegistryClient contract (${name})`, () => {
    const schema: AvroSchema = { type: 'record', name: 'Reading', namespace: 'contract', fields: [{ name: 'sensor', type: 'string' }, { name: 'value', type: 'double' }] };

    it('registers a schema, names it as the latest of its subject, and its codec round-trips', async () => {
      const registry = makeRegistry();
      const subject = subjectOf('ok');
      const id = await registry.register(subject, schema);
      assert.equal(await registry.register(subject, schema), id, 'the same schema again: the same id');
      assert.equal(await registry.latestId(subject), id);
      const codec = await registry.codec(id);
      assert.equal(codec.id, id);
      assert.deepEqual({ ...(codec.fromBuffer(codec.toBuffer({ sensor: 's1', value: 21.5 })) as object) }, { sensor: 's1', value: 21.5 });
    });

    it('an unknown subject and an unknown id are TRB_SCHEMA, not retriable', async () => {
      const registry = makeRegistry();
      const noSubject = await failure(registry.latestId(subjectOf('missing')));
      assert.equal(noSubject.code, 'TRB_SCHEMA');
      assert.equal(noSubject.retriable, false);
      const noId = await failure(registry.codec(2_000_000_000));
      assert.equal(noId.code, 'TRB_SCHEMA');
      assert.equal(noId.retriable, false);
    });

    it('an invalid schema is refused with TRB_SCHEMA, not retried as if the registry were down', async () => {
      const registry = makeRegistry();
      const invalid = { type: 'record', name: 'Broken', fields: [{ name: 'a', type: 'no_such_type' }] } as unknown as AvroSchema;
      const error = await failure(registry.register(subjectOf('invalid'), invalid));
      assert.equal(error.code, 'TRB_SCHEMA');
      assert.equal(error.retriable, false);
      assert.match(error.message, /not a valid Avro schema/);
    });
  });
}
