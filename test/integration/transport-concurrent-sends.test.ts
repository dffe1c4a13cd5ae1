/**
 * The lanes of a stream share one idempotent producer and send at the same time. On both clients
 * every record of concurrent sends to one partition is written, once, with no error. The
 * platformatic transport used to fail half of them with OUT_OF_ORDER_SEQUENCE_NUMBER (the library
 * reads a partition's next sequence when it builds a request and advances it on the answer), which
 * the fault suite's fault-free scenario saw as sv-updates published twice (retries after partial
 * writes).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createKafkaTransport, KAFKA_CLIENTS } from '../../src/stream/transport/kafka-client.js';
import { services, uniqueName } from './services.js';

for (const client of KAFKA_CLIENTS) {
  describe(`${client} transport: concurrent sends through one producer`, () => {
    it('80 sends, 4 at a time, to one partition: every record written once, no send refused', async () => {
      const transport = createKafkaTransport({ brokers: services.kafkaBrokers, client, clientId: uniqueName('concurrent') });
      await transport.connect();
      const topic = uniqueName('concurrent-sends');
      try {
        await transport.admin.createTopics([{ topic, partitions: 1 }]);
        const producer = await transport.producer();
        const refused: string[] = [];
        for (let round = 0; round < 20; round++) {
          await Promise.all(
            Array.from({ length: 4 }, (_, lane) =>
              producer
                .send(Array.from({ length: 5 }, (_, i) => ({ topic, key: Buffer.from(`${round}-${lane}-${i}`), value: Buffer.from('v'), partition: 0 })))
                .catch((error: Error) => void refused.push(error.message)),
            ),
          );
        }
        await producer.disconnect();
        assert.deepEqual(refused, []);
        const [offsets] = await transport.admin.topicOffsets(topic);
        assert.equal(BigInt(offsets?.high ?? '0') - BigInt(offsets?.low ?? '0'), 400n, 'each of the 400 records once');
      } finally {
        await transport.disconnect();
      }
    });
  });
}
