/**
 * The Kafka transport's check that kafkajs wrote every partition it placed messages in
 * (src/stream/transport/kafka/written-partitions.ts): kafkajs 2.2.4 can resolve a send that left
 * out a partition whose leader moved during its retries. No broker: kafkajs's partitioner is called
 * as its producer calls it, and its answers are made up.
 */
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Partitioners, type Message, type PartitionMetadata, type RecordMetadata } from 'kafkajs';
import { partitionLedger } from '../../src/stream/transport/kafka/written-partitions.js';

const metadata = (n: number): PartitionMetadata[] => Array.from({ length: n }, (_, i) => ({ partitionErrorCode: 0, partitionId: i, leader: i % 3, replicas: [0, 1, 2], isr: [0, 1, 2] }));
const written = (topic: string, partitions: number[]): RecordMetadata[] => partitions.map((partition) => ({ topicName: topic, partition, errorCode: 0 }));

describe('kafka transport: every placed partition written', () => {
  it('places messages exactly as kafkajs\'s default partitioner (murmur2 of the key; an explicit partition wins)', () => {
    const ours = partitionLedger().createPartitioner();
    const theirs = Partitioners.DefaultPartitioner();
    for (let i = 0; i < 200; i++) {
      const message: Message = { key: Buffer.from(`{"customer_id":"c${i}"}`), value: null };
      assert.equal(ours({ topic: 't', partitionMetadata: metadata(6), message }), theirs({ topic: 't', partitionMetadata: metadata(6), message }));
    }
    assert.equal(ours({ topic: 't', partitionMetadata: metadata(6), message: { key: 'k', value: null, partition: 4 } }), 4);
  });

  it('names the partitions kafkajs placed messages in but did not report written', () => {
    const ledger = partitionLedger();
    const place = ledger.createPartitioner();
    const messages: Message[] = Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, value: 'v' }));
    const used = new Set(messages.map((message) => place({ topic: 't', partitionMetadata: metadata(3), message })));
    assert.equal(used.size, 3, 'forty keys spread over the three partitions');
    const sent = [{ topic: 't', messages }];
    assert.deepEqual(ledger.unwritten(sent, written('t', [0, 1, 2])), []);
    assert.deepEqual(ledger.unwritten(sent, written('t', [0, 1])), ['t/2']);
    assert.deepEqual(ledger.unwritten(sent, [...written('t', [1]), ...written('other', [0, 2])]), ['t/0', 't/2']);
  });

  it('judges a send by the messages of that send only (each send hands kafkajs new message objects)', () => {
    const ledger = partitionLedger();
    const place = ledger.createPartitioner();
    const first: Message = { key: 'a', value: 'v', partition: 0 };
    const second: Message = { key: 'a', value: 'v', partition: 2 };
    place({ topic: 't', partitionMetadata: metadata(3), message: first });
    place({ topic: 't', partitionMetadata: metadata(3), message: second });
    assert.deepEqual(ledger.unwritten([{ topic: 't', messages: [first] }], written('t', [0])), []);
    assert.deepEqual(ledger.unwritten([{ topic: 't', messages: [second] }], written('t', [0])), ['t/2']);
    // A message kafkajs never placed (nothing sent) is not counted against the answer.
    assert.deepEqual(ledger.unwritten([{ topic: 't', messages: [{ key: 'x', value: 'v' }] }], []), []);
  });
});

/** kafkajs's own send routine (its producer's internals), driven by a fake two-broker cluster. */
type SendMessages = (deps: Record<string, unknown>) => (request: { acks: number; topicMessages: Array<{ topic: string; messages: Message[] }> }) => Promise<RecordMetadata[]>;

describe('kafkajs 2.2.4: the produce retry that drops a partition (why the check exists)', () => {
  it('partition 1 fails on broker 2, moves to broker 1 (which already wrote partition 0): the retry sends nothing for it, and the send resolves', async () => {
    const require = createRequire(import.meta.url);
    const sendMessages = require('kafkajs/src/producer/sendMessages.js') as SendMessages;
    const createRetry = require('kafkajs/src/retry/index.js') as (options: Record<string, number>) => unknown;

    const leaders: Record<number, number> = { 0: 1, 1: 2 };
    const produced: string[] = [];
    const broker = (nodeId: number) => ({
      nodeId,
      produce: async ({ topicData }: { topicData: Array<{ topic: string; partitions: Array<{ partition: number }> }> }) => {
        const partitions = topicData.flatMap((t) => t.partitions.map((p) => p.partition));
        if (nodeId === 2) {
          leaders[1] = 1; // the controller moves partition 1 to broker 1
          throw Object.assign(new Error('This server is not the leader for that topic-partition'), { name: 'KafkaJSProtocolError', type: 'NOT_LEADER_FOR_PARTITION', retriable: true });
        }
        produced.push(...partitions.map((p) => `t/${p}`));
        return { topics: [{ topicName: 't', partitions: partitions.map((partition) => ({ partition, errorCode: 0, baseOffset: '0' })) }] };
      },
    });
    const brokers = new Map([1, 2].map((id) => [id, broker(id)]));
    const cluster = {
      refreshMetadataIfNecessary: async () => undefined,
      refreshMetadata: async () => undefined,
      addMultipleTargetTopics: async () => undefined,
      isConnected: () => true,
      findTopicPartitionMetadata: () => metadata(2).map((p) => ({ ...p, leader: leaders[p.partitionId] })),
      findLeaderForPartitions: (_topic: string, partitions: string[]) =>
        partitions.reduce<Record<number, number[]>>((byLeader, id) => {
          const leader = leaders[Number(id)] as number;
          return { ...byLeader, [leader]: [...(byLeader[leader] ?? []), Number(id)] };
        }, {}),
      findBroker: async ({ nodeId }: { nodeId: string }) => brokers.get(Number(nodeId)),
    };
    const eosManager = { isTransactional: () => false, getSequence: () => 0, updateSequence: () => undefined, getProducerId: () => 1, getProducerEpoch: () => 0, acquireBrokerLock: async () => undefined, releaseBrokerLock: async () => undefined };
    const ledger = partitionLedger();
    const logger = { debug: () => undefined, error: () => undefined };
    const send = sendMessages({ logger, cluster, partitioner: ledger.createPartitioner(), eosManager, retrier: createRetry({ retries: 3, initialRetryTime: 1, maxRetryTime: 5 }) });

    const messages: Message[] = [{ key: 'a', value: 'v', partition: 0 }, { key: 'b', value: 'v', partition: 1 }];
    const answer = await send({ acks: -1, topicMessages: [{ topic: 't', messages }] });
    assert.deepEqual(produced, ['t/0'], 'kafkajs never sent partition 1');
    assert.deepEqual(answer.map((r) => `${r.topicName}/${r.partition}`), ['t/0'], '…and resolved');
    assert.deepEqual(ledger.unwritten([{ topic: 't', messages }], answer), ['t/1'], 'the transport sees it');
  });
});
