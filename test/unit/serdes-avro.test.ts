/** The Avro serde's value mapping on the embedded registry (no I/O). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { memoryRegistry, type AvroSchema } from '../../src/stream/serdes/registry.js';
import { avro } from '../../src/stream/serdes/index.js';

/** The shape of Debezium's Avro envelope where it matters here: longs of nanoseconds since 1970. */
const ENVELOPE: AvroSchema = {
  type: 'record',
  name: 'Envelope',
  namespace: 'shop.public.customers',
  fields: [
    { name: 'after', type: ['null', { type: 'record', name: 'Value', fields: [{ name: 'id', type: 'string' }, { name: 'signup_ms', type: ['null', 'long'], default: null }] }], default: null },
    { name: 'op', type: 'string' },
    { name: 'ts_ms', type: ['null', 'long'], default: null },
    { name: 'ts_ns', type: ['null', 'long'], default: null },
    // the object form Debezium's converters write for a nanosecond column
    { name: 'changed_ns', type: ['null', { type: 'long', 'connect.name': 'io.debezium.time.NanoTimestamp' }], default: null },
  ],
};

describe('avro serde', () => {
  it('reads longs beyond 2^53 (Debezium ts_ns) as numbers, rounded as JSON.parse would, and exact ones exactly', async () => {
    const context = { topic: 'crm.public.customers', part: 'value' as const, registry: memoryRegistry() };
    const serde = avro<Record<string, unknown>>({ schema: ENVELOPE });
    const nanos = 1_796_304_385_501_123_456n; // > 2^53
    const bytes = await serde.serialize({ after: { id: 'c1', signup_ms: 1_700_000_000_123 }, op: 'c', ts_ms: 1_796_304_385_501, ts_ns: nanos, changed_ns: -nanos }, context);
    assert.ok(bytes);
    const decoded = (await serde.deserialize(bytes, context)) as { after: { signup_ms: number }; ts_ms: number; ts_ns: number; changed_ns: number };
    assert.equal(decoded.changed_ns, -(JSON.parse(nanos.toString()) as number), 'object-form long, negative');
    assert.equal(decoded.after.signup_ms, 1_700_000_000_123);
    assert.equal(decoded.ts_ms, 1_796_304_385_501);
    assert.equal(decoded.ts_ns, JSON.parse(nanos.toString()) as number);
    assert.equal(typeof decoded.ts_ns, 'number');
  });

  it('refuses a long that is not an integer, or outside int64, when encoding', async () => {
    const context = { topic: 't', part: 'value' as const, registry: memoryRegistry() };
    const serde = avro<Record<string, unknown>>({ schema: ENVELOPE });
    await assert.rejects(async () => serde.serialize({ after: null, op: 'c', ts_ms: 1.5, ts_ns: null, changed_ns: null }, context));
    await assert.rejects(async () => serde.serialize({ after: null, op: 'c', ts_ms: null, ts_ns: 2n ** 63n, changed_ns: null }, context));
    await assert.rejects(async () => serde.serialize({ after: null, op: 'c', ts_ms: null, ts_ns: 2 ** 64, changed_ns: null }, context));
  });
});
