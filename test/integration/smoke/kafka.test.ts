/**
 * Smoke: kafkajs against the real broker — an idempotent producer, a consumer group of two members
 * sharing partitions, commits visible through the admin API, and a transaction with sendOffsets.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel, type Admin, type Consumer } from 'kafkajs';
import { services, uniqueName } from '../services.js';

const kafka = new Kafka({ clientId: 'smoke', brokers: services.kafkaBrokers, logLevel: logLevel.NOTHING });
let admin: Admin;

before(async () => {
  admin = kafka.admin();
  await admin.connect();
});
after(async () => {
  await admin.disconnect();
});

function collect(consumer: Consumer, expected: number, timeoutMs = 30_000): Promise<Map<number, string[]>> {
  const byPartition = new Map<number, string[]>();
  let seen = 0;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${seen}/${expected} records in ${timeoutMs} ms`)), timeoutMs);
    consumer
      .run({
        eachMessage: async ({ partition, message }) => {
          const list = byPartition.get(partition) ?? [];
          list.push(message.value?.toString() ?? '');
          byPartition.set(partition, list);
          if (++seen === expected) {
            clearTimeout(timer);
            resolve(byPartition);
          }
        },
      })
      .catch(reject);
  });
}

describe('kafka smoke', () => {
  it('an idempotent producer and a two-member consumer group deliver every record once, in partition order', async (t) => {
    const topic = uniqueName('smoke-group');
    const groupId = uniqueName('g');
    await admin.createTopics({ topics: [{ topic, numPartitions: 4 }], waitForLeaders: true });

    const keys = Array.from({ length: 8 }, (_, i) => `key-${i}`);
    const messages = Array.from({ length: 400 }, (_, i) => ({ key: keys[i % keys.length], value: String(i) }));
    const members = [kafka.consumer({ groupId, maxWaitTimeInMs: 100 }), kafka.consumer({ groupId, maxWaitTimeInMs: 100 })];
    t.after(() => Promise.all(members.map((m) => m.disconnect())));
    const counts = [0, 0];
    const seen = new Map<number, number[]>();
    // Produce only once both members hold partitions, or the first one may take everything.
    const assigned = members.map(() => 0);
    const bothAssigned = new Promise<void>((resolve) => {
      members.forEach((member, index) =>
        member.on(member.events.GROUP_JOIN, ({ payload }) => {
          assigned[index] = Object.values(payload.memberAssignment).flat().length;
          if (assigned.every((n) => n > 0)) resolve();
        }),
      );
    });
    await Promise.all(members.map((m) => m.connect()));
    await Promise.all(members.map((m) => m.subscribe({ topic, fromBeginning: true })));
    const consumed = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('group did not consume all records in 60 s')), 60_000);
      let total = 0;
      members.forEach((member, index) => {
        member
          .run({
            eachMessage: async ({ partition, message }) => {
              counts[index] = (counts[index] ?? 0) + 1;
              const list = seen.get(partition) ?? [];
              list.push(Number(message.value?.toString()));
              seen.set(partition, list);
              if (++total === messages.length) {
                clearTimeout(timer);
                resolve();
              }
            },
          })
          .catch(reject);
      });
    });
    await bothAssigned;
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5 });
    await producer.connect();
    await producer.send({ topic, acks: -1, messages });
    await producer.disconnect();
    await consumed;

    const all = [...seen.values()].flat().sort((a, b) => a - b);
    assert.deepEqual(all, messages.map((_, i) => i), 'every record exactly once');
    for (const [partition, values] of seen) {
      assert.deepEqual(values, [...values].sort((a, b) => a - b), `partition ${partition} in offset order`);
    }
    assert.ok(counts.every((c) => c > 0), `both members consumed (counts ${counts.join(', ')})`);

    await Promise.all(members.map((m) => m.disconnect()));
    const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
    const ends = await admin.fetchTopicOffsets(topic);
    for (const { partition, offset } of committed[0]?.partitions ?? []) {
      const end = ends.find((e) => e.partition === partition)?.offset;
      assert.equal(offset, end, `partition ${partition} committed up to its end`);
    }
  });

  it('a transaction writes output and commits the input offsets atomically; an aborted one is invisible', async (t) => {
    const input = uniqueName('smoke-tx-in');
    const output = uniqueName('smoke-tx-out');
    const groupId = uniqueName('g-tx');
    await admin.createTopics({ topics: [{ topic: input, numPartitions: 2 }, { topic: output, numPartitions: 1 }], waitForLeaders: true });

    const plain = kafka.producer({ idempotent: true });
    await plain.connect();
    await plain.send({ topic: input, acks: -1, messages: Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })) });
    await plain.disconnect();

    const txProducer = kafka.producer({ transactionalId: uniqueName('tx'), idempotent: true, maxInFlightRequests: 1 });
    await txProducer.connect();
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
    const reader = kafka.consumer({ groupId: uniqueName('g-read'), readUncommitted: false, maxWaitTimeInMs: 100 });
    t.after(() => Promise.all([consumer.disconnect(), txProducer.disconnect(), reader.disconnect()]));
    await consumer.connect();
    await consumer.subscribe({ topic: input, fromBeginning: true });
    let moved = 0;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('transactions did not move 20 records in 60 s')), 60_000);
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const tx = await txProducer.transaction();
            try {
              await tx.send({ topic: output, messages: batch.messages.map((m) => ({ key: m.key, value: m.value })) });
              const next = (BigInt(batch.lastOffset()) + 1n).toString();
              await tx.sendOffsets({ consumerGroupId: groupId, topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] }] });
              await tx.commit();
            } catch (error) {
              await tx.abort();
              throw error;
            }
            moved += batch.messages.length;
            if (moved === 20) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();

    const aborted = await txProducer.transaction();
    await aborted.send({ topic: output, messages: [{ key: 'aborted', value: 'must-not-be-read' }] });
    await aborted.abort();
    await txProducer.disconnect();

    const committed = await admin.fetchOffsets({ groupId, topics: [input] });
    const total = (committed[0]?.partitions ?? []).reduce((sum, p) => sum + Number(p.offset), 0);
    assert.equal(total, 20, 'input offsets committed inside the transactions');

    await reader.connect();
    await reader.subscribe({ topic: output, fromBeginning: true });
    const got = await collect(reader, 20);
    // Give an aborted record the chance to show up if isolation were broken.
    await new Promise((r) => setTimeout(r, 1500));
    await reader.disconnect();
    const values = [...got.values()].flat();
    assert.equal(values.length, 20);
    assert.ok(!values.includes('must-not-be-read'), 'aborted record not visible to read_committed');
  });
});
