/**
 * Poison records, one of each kind the ingest stage dead-letters, and the check that the DLQ holds
 * exactly them: every injected record, with its own error code, origin headers and original bytes,
 * and nothing else (how often each may appear is delivery.ts's bound: once, plus once per fault
 * window holding it).
 *
 *   malformed JSON → TRB_DECODE, bad Avro → TRB_DECODE, unknown schema id → TRB_SCHEMA,
 *   no primary key → TRB_MISSING_KEY, unknown operation → TRB_UNKNOWN_OPERATION,
 *   over 1 000 000 bytes → TRB_TOO_LARGE
 */
import assert from 'node:assert/strict';
import { avro } from '../../src/stream/serdes/avro.js';
import type { OutgoingMessage } from '../../src/stream/transport/types.js';
import { customerSchemas } from '../../topologies/customer-360.js';
import type { Scenario, TopicRecord } from './harness.js';

export type Poison = OutgoingMessage & { readonly code: string };

/** Produces one poison record of each kind; the customers value schema must be registered (after a first slice). */
export async function injectPoison(s: Scenario, tag: string): Promise<Poison[]> {
  const { customers, orders } = s.t.sourceTopics;
  const keyBytes = (await avro<unknown>({ schema: customerSchemas.key }).serialize({ id: `poison-c-${tag}` }, { topic: customers, part: 'key', registry: s.registry })) as Buffer;
  const valueId = await s.registry.latestId(`${customers}-value`);
  const framed = (id: number, body: Buffer) => Buffer.concat([Buffer.from([0, (id >>> 24) & 255, (id >>> 16) & 255, (id >>> 8) & 255, id & 255]), body]);
  const order = (value: unknown, key: unknown = { order_id: `poison-o-${tag}` }) => ({ topic: orders, key: Buffer.from(JSON.stringify(key)), value: Buffer.from(JSON.stringify(value)) });
  const debezium = (op: string, after: Record<string, unknown> | null) => ({ before: null, after, source: { connector: 'postgresql', db: 'shop', table: 'orders', ts_ms: Date.now(), lsn: 1 }, op, ts_ms: Date.now() });
  const poison: Poison[] = [
    { ...order(null), value: Buffer.from(`{"op": "c", "after": {not json ${tag}`), code: 'TRB_DECODE' },
    { topic: customers, key: keyBytes, value: framed(valueId, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff])), code: 'TRB_DECODE' },
    { topic: customers, key: keyBytes, value: framed(2_000_000_000, Buffer.from([2, 4, 6])), code: 'TRB_SCHEMA' },
    { ...order(debezium('c', { customer_id: 'c0001', status: `paid ${tag}`, total: 1 })), code: 'TRB_MISSING_KEY' },
    { ...order(debezium('x', { order_id: `poison-o-${tag}`, customer_id: 'c0001', status: 'paid', total: 1 })), code: 'TRB_UNKNOWN_OPERATION' },
    { ...order(debezium('c', { order_id: `poison-big-${tag}`, customer_id: 'c0001', status: 'x'.repeat(1_010_000), total: 1 })), code: 'TRB_TOO_LARGE' },
  ];
  const producer = await s.control.producer();
  try {
    await producer.send(poison.map(({ code: _code, ...message }) => message));
  } finally {
    await producer.disconnect();
  }
  return poison;
}

/** The DLQ holds exactly `poison`: each injected record (its code, origin and bytes), nothing else. */
export function assertPoisonOnly(letters: readonly TopicRecord[], poison: readonly Poison[]): void {
  const found = new Set<Poison>();
  for (const letter of letters) {
    assert.equal(letter.topic, `${letter.headers['tributary.source.topic']}.dlq`);
    for (const header of ['tributary.source.partition', 'tributary.source.offset', 'tributary.stream', 'tributary.error.message']) assert.ok(letter.headers[header], `${header} missing on a dead letter`);
    const original = poison.find((p) => p.code === letter.headers['tributary.error.code'] && p.topic === letter.headers['tributary.source.topic'] && p.value?.equals(letter.value ?? Buffer.alloc(0)));
    assert.ok(original, `a ${letter.headers['tributary.error.code']} dead letter (${letter.headers['tributary.error.message']}) is not an injected poison record`);
    found.add(original);
  }
  const missing = poison.filter((p) => !found.has(p)).map((p) => `${p.topic} ${p.code}`);
  assert.deepEqual(missing, [], 'every injected poison record is dead-lettered');
}
