/**
 * The kafkajs consumer when a commit fails (the group coordinator moved: a broker died): the batch
 * comes again, but its records are not handed to the handler a second time by the same process —
 * the offset it owes is committed, and only what follows is handled. Found by the three-broker
 * fault scenario: each coordinator failover made every in-flight batch publish its outputs up to 7
 * times (kafkajs retries the batch, then restarts the consumer). Driven here through a fake kafkajs
 * consumer: no broker.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Kafka } from 'kafkajs';
import { kafkaConsumer } from '../../src/stream/transport/kafka/kafka-consumer.js';
import type { RawBatch } from '../../src/stream/transport/types.js';

type EachBatch = (payload: Record<string, unknown>) => Promise<void>;

/** A kafkajs stand-in that captures eachBatch, and a way to deliver a batch of offsets through it. */
function fakeKafka() {
  let eachBatch: EachBatch | undefined;
  const commits: string[] = [];
  const resolved: string[] = [];
  let failCommits = 0;
  const consumer = {
    events: { GROUP_JOIN: 'join', CRASH: 'crash' },
    on: () => undefined,
    connect: async () => undefined,
    subscribe: async () => undefined,
    run: async (options: { eachBatch: EachBatch }) => void (eachBatch = options.eachBatch),
    disconnect: async () => undefined,
  };
  return {
    kafka: { consumer: () => consumer } as unknown as Kafka,
    commits,
    resolved,
    failNextCommits: (n: number) => void (failCommits = n),
    deliver(offsets: readonly number[]): Promise<void> {
      assert.ok(eachBatch, 'run() was called');
      const messages = offsets.map((o) => ({ offset: String(o), timestamp: '0', key: null, value: Buffer.from(`v${o}`), headers: {} }));
      return eachBatch({
        batch: { topic: 't', partition: 0, messages, highWatermark: '100', isEmpty: () => messages.length === 0, lastOffset: () => String(offsets.at(-1)) },
        resolveOffset: (offset: string) => void resolved.push(offset),
        heartbeat: async () => undefined,
        isRunning: () => true,
        isStale: () => false,
        pause: () => () => undefined,
        commitOffsetsIfNecessary: async ({ topics }: { topics: Array<{ partitions: Array<{ offset: string }> }> }) => {
          const offset = topics[0]?.partitions[0]?.offset ?? '?';
          if (failCommits > 0) {
            failCommits--;
            throw Object.assign(new Error('The group coordinator is not available'), { type: 'COORDINATOR_NOT_AVAILABLE', retriable: true });
          }
          commits.push(offset);
        },
      });
    },
  };
}

describe('kafka consumer: a durable batch whose commit failed', () => {
  it('is not handed to the handler again when fetched again; the offset it owes is committed, then only later records are handled', async () => {
    const fake = fakeKafka();
    const handled: string[][] = [];
    await kafkaConsumer(fake.kafka, { groupId: 'g', topics: ['t'] }).run({
      onBatch: async (batch: RawBatch) => {
        handled.push(batch.messages.map((m) => m.offset));
        return { commit: { topic: batch.topic, partition: batch.partition, offset: String(Number(batch.messages.at(-1)?.offset) + 1) } };
      },
    });

    fake.failNextCommits(1);
    await assert.rejects(fake.deliver([0, 1, 2, 3, 4]), /coordinator is not available/);
    assert.deepEqual(handled, [['0', '1', '2', '3', '4']]);
    assert.deepEqual(fake.resolved, [], 'not resolved: kafkajs fetches the batch again');

    await fake.deliver([0, 1, 2, 3, 4]); // kafkajs's retry of the same batch
    assert.deepEqual(handled, [['0', '1', '2', '3', '4']], 'not handled twice');
    assert.deepEqual(fake.commits, ['5']);
    assert.deepEqual(fake.resolved, ['4']);

    await fake.deliver([5, 6]);
    assert.deepEqual(handled.at(-1), ['5', '6']);
    assert.deepEqual(fake.commits, ['5', '7']);
  });

  it('a batch fetched again with more records: the owed offset is committed first, the records from it on are handled', async () => {
    const fake = fakeKafka();
    const handled: string[][] = [];
    await kafkaConsumer(fake.kafka, { groupId: 'g', topics: ['t'] }).run({
      onBatch: async (batch: RawBatch) => {
        handled.push(batch.messages.map((m) => m.offset));
        return { commit: { topic: batch.topic, partition: batch.partition, offset: String(Number(batch.messages.at(-1)?.offset) + 1) } };
      },
    });
    fake.failNextCommits(1);
    await assert.rejects(fake.deliver([10, 11, 12]));
    await fake.deliver([10, 11, 12, 13, 14]); // after a consumer restart: a longer fetch from the committed offset
    assert.deepEqual(handled, [['10', '11', '12'], ['13', '14']]);
    assert.deepEqual(fake.commits, ['13', '15']);
    assert.deepEqual(fake.resolved, ['14']);
  });

  it('a commit that fails again leaves the offset owed: the batch comes a third time, still not handled twice', async () => {
    const fake = fakeKafka();
    let handled = 0;
    await kafkaConsumer(fake.kafka, { groupId: 'g', topics: ['t'] }).run({
      onBatch: async (batch: RawBatch) => {
        handled++;
        return { commit: { topic: batch.topic, partition: batch.partition, offset: '3' } };
      },
    });
    fake.failNextCommits(2);
    await assert.rejects(fake.deliver([0, 1, 2]));
    await assert.rejects(fake.deliver([0, 1, 2]));
    await fake.deliver([0, 1, 2]);
    assert.equal(handled, 1);
    assert.deepEqual(fake.commits, ['3']);
  });
});
