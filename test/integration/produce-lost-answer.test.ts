/**
 * A batch the broker wrote while its answer was lost, on both Kafka transports (docs/guarantees.md,
 * "Kafka broker down"): the send fails, and the next batch of the same size to the same partition
 * must still be written. Both client libraries reuse a failed request's idempotence sequence
 * numbers, so a producer kept after such a failure sends its next batch under the numbers the broker
 * already holds, and the broker drops it as a duplicate while answering it written: a record lost
 * (found in the three-broker fault scenario, 2026-12-07). The transports replace a producer whose send
 * failed (src/stream/transport/producer-replacement.ts); here the fault is made deterministic by a
 * proxy that reads Kafka's framing and drops one Produce answer (kafka-fault-proxy.ts), in front of
 * the real broker's listener that advertises the proxy's address.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { kafkaTransport } from '../../src/stream/transport/kafka/kafka-transport.js';
import { platformaticTransport } from '../../src/stream/transport/platformatic/platformatic-transport.js';
import type { OutgoingMessage, Transport } from '../../src/stream/transport/types.js';
import { KafkaFaultProxy } from './kafka-fault-proxy.js';
import { services, uniqueName } from './services.js';

function address(name: string): { host: string; port: number } {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests with scripts/infra's environment (eval "$(scripts/infra env)")`);
  const [host, port] = value.split(':');
  return { host: host as string, port: Number(port) };
}

const RECORDS = 20;
const batch = (topic: string, tag: string): OutgoingMessage[] =>
  Array.from({ length: RECORDS }, (_, i) => ({ topic, partition: 0, key: Buffer.from(`k${i}`), value: Buffer.from(`${tag}-${String(i).padStart(2, '0')}`), headers: {} }));

/** Every value in the topic's one partition, read from the broker's own listener (not through the proxy). */
async function valuesOf(topic: string, expected: number): Promise<string[]> {
  const kafka = new Kafka({ clientId: 'lost-answer-reader', brokers: services.kafkaBrokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: uniqueName('lost-answer-reader') });
  const values: string[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    let done: () => void = () => undefined;
    const enough = new Promise<void>((resolve) => (done = resolve));
    await consumer.run({
      eachMessage: async ({ message }) => {
        values.push(message.value?.toString() ?? '');
        if (values.length >= expected) done();
      },
    });
    await Promise.race([enough, new Promise((resolve) => setTimeout(resolve, 20_000))]);
    // Anything past the expected count (a duplicate) arrives with it or not at all: the topic is not written any more.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  } finally {
    await consumer.disconnect();
  }
  return values;
}

const transports: Array<[string, (brokers: string[]) => Transport]> = [
  ['kafkajs', (brokers) => kafkaTransport({ brokers, clientId: 'lost-answer' })],
  ['platformatic', (brokers) => platformaticTransport({ brokers, clientId: 'lost-answer' })],
];

describe('a produce whose answer was lost (real broker, a proxy dropping one Produce answer)', () => {
  const proxy = new KafkaFaultProxy(address('KAFKA_TEST_PROXIED_LISTENER'));
  const advertised = address('KAFKA_TEST_PROXIED_ADVERTISED');
  before(async () => void (await proxy.listen(advertised.port, advertised.host)));
  after(() => proxy.close());

  for (const [name, make] of transports) {
    it(`${name}: the send fails, and the next batch of the same size is written, not dropped as a duplicate`, { timeout: 180_000 }, async () => {
      const topic = uniqueName(`lost-answer-${name}`);
      const transport = make([`${advertised.host}:${advertised.port}`]);
      await transport.connect();
      try {
        await transport.admin.createTopics([{ topic, partitions: 1 }]);
        const producer = await transport.producer();
        await producer.send(batch(topic, 'a'));

        proxy.loseNextProduceAnswer();
        const lostBefore = proxy.lostAnswers;
        await assert.rejects(producer.send(batch(topic, 'b')), 'the answer never came: the send fails');
        assert.equal(proxy.lostAnswers, lostBefore + 1, 'the fault is real: a Produce answer was dropped');
        proxy.heal();

        await producer.send(batch(topic, 'c'));
        const values = await valuesOf(topic, 3 * RECORDS);
        const count = (tag: string) => values.filter((v) => v.startsWith(`${tag}-`)).length;
        assert.equal(count('a'), RECORDS);
        assert.equal(count('b'), RECORDS, 'the broker wrote the batch whose answer was lost, once');
        assert.equal(count('c'), RECORDS, 'the next batch of the same size is written, not taken for a duplicate');
      } finally {
        proxy.heal();
        await transport.disconnect();
      }
    });
  }
});
