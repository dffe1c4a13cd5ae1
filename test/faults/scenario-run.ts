/**
 * The parts of a fault scenario's run that every scenario file repeats: its sizes (from the
 * environment), its history, producing it in slices with a hook between them, and the end checks.
 *
 *   FAULTS_EVENTS (50 000)  records of the worker-kill scenario; the others use a fifth (at least 1 000)
 *   FAULTS_KILLS  (10)      SIGKILLs of the worker at random moments (FAULTS_SEED, default 20261124)
 *   FAULTS_KAFKA_CLIENTS    the worker's Kafka clients, each running every scenario (default
 *                           platformatic,kafkajs)
 */
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel, Partitioners, type Message, type PartitionMetadata, type TopicMessages } from 'kafkajs';
import { DEFAULT_KAFKA_CLIENT, KAFKA_CLIENTS, parseKafkaClient, type KafkaClient } from '../../src/stream/transport/kafka-client.js';
import type { OutgoingMessage } from '../../src/stream/transport/types.js';
import { generateHistory, produceHistory, type History } from '../../topologies/customer-360.generator.js';
import { sleep, type Scenario } from './harness.js';
import { assertPoisonOnly, type Poison } from './poison.js';

/** The worker's Kafka clients, each running every scenario (FAULTS_KAFKA_CLIENTS, default both, the default client first). */
export const CLIENTS: readonly KafkaClient[] = (process.env['FAULTS_KAFKA_CLIENTS'] ?? [DEFAULT_KAFKA_CLIENT, ...KAFKA_CLIENTS.filter((c) => c !== DEFAULT_KAFKA_CLIENT)].join(','))
  .split(',')
  .map((c) => parseKafkaClient(c.trim(), 'FAULTS_KAFKA_CLIENTS'));
export const EVENTS = Number(process.env['FAULTS_EVENTS'] ?? 50_000);
export const KILLS = Number(process.env['FAULTS_KILLS'] ?? 10);
export const SEED = Number(process.env['FAULTS_SEED'] ?? 20261124);
export const SMALL = Math.max(1_000, Math.round(EVENTS / 5));
/** How long a crashed service stays down before it is started again (FAULTS_OUTAGE_MS, default 3 s). */
export const OUTAGE_MS = Number(process.env['FAULTS_OUTAGE_MS'] ?? 3_000);

/**
 * Per scenario: producing and processing (~100-200 events/s end to end on two cores, measured),
 * a 30 s session timeout per worker SIGKILL before the dead member's partitions move, and a minute
 * per service fault (stop, recovery, start, catching up).
 */
export const deadline = (events: number, kills = 0, serviceFaults = 0) => 120_000 + events * 20 + kills * 45_000 + serviceFaults * 60_000;

/**
 * A generated CDC history over the scenario's topics, key changes sent as one update included. At
 * most 150 customers (≈ 1 500 rows over four tables): more events then means more changes per row,
 * which is what a fault run needs (replays over rows that keep changing).
 */
export function historyOf(t: Scenario['t'], events: number, seed: number): History {
  return generateHistory({ seed, customers: Math.min(150, Math.max(20, Math.round(events / 40))), events, topics: t.sourceTopics });
}

/** Produces `history` in slices of `slice` records, calling `between(i)` after slice i. */
export async function produceInSlices(s: Scenario, history: History, slice: number, between: (index: number) => Promise<void>): Promise<void> {
  for (let i = 0, n = 0; i < history.length; i += slice, n++) {
    await produceSlice(s, Object.assign(history.slice(i, i + slice), { topics: history.topics }));
    await between(n);
  }
}

/**
 * Produces records as the source system would: a plain kafkajs idempotent producer of its own that
 * retries for up to a minute (a failover moves leaders within ~10-20 s; kafkajs's default gives up
 * after ~7 s), each retry with the same sequence numbers, so the source topics get every record
 * once. Partitions are chosen here as kafkajs would (murmur2 of the key, three partitions): kafkajs
 * can resolve a send that left out a partition whose leader moved (the transport's
 * written-partitions.ts), and the records of such a partition are sent again.
 */
export async function produceSlice(s: Scenario, part: History | (History[number][] & { topics: History['topics'] })): Promise<void> {
  const kafka = new Kafka({ brokers: [...s.brokers], clientId: `${s.name}-source`, logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 300, maxRetryTime: 5_000 } });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  for (const until = Date.now() + 60_000; ; await sleep(1_000)) {
    const failure = await producer.connect().then(() => undefined, (e: unknown) => e);
    if (failure === undefined) break;
    if (Date.now() > until) throw failure; // the node just killed can be the one kafkajs asks first
  }
  const send = async (messages: readonly OutgoingMessage[]) => {
    let pending = placed(messages);
    for (let round = 1; pending.length > 0; round++) {
      const written = new Set((await producer.sendBatch({ acks: -1, topicMessages: byTopic(pending) })).map((r) => `${r.topicName}/${r.partition}`));
      pending = pending.filter((m) => !written.has(`${m.topic}/${m.partition}`));
      assert.ok(pending.length === 0 || round < 10, `kafkajs keeps leaving ${pending.length} records unwritten`);
    }
  };
  try {
    await produceHistory({ send }, s.registry, part);
  } finally {
    await producer.disconnect();
  }
}

const SOURCE_PARTITIONS: PartitionMetadata[] = [0, 1, 2].map((partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [], isr: [] }));

/** Each record with the partition kafkajs's default partitioner gives its key among three. */
function placed(messages: readonly OutgoingMessage[]): Array<Message & { topic: string; partition: number }> {
  const place = Partitioners.DefaultPartitioner();
  return messages.map((m) => {
    const headers = Object.fromEntries(Object.entries(m.headers ?? {}).filter((e): e is [string, string | Buffer] => e[1] !== undefined));
    const message: Message = { key: m.key, value: m.value, headers };
    return { ...message, topic: m.topic, partition: m.partition ?? place({ topic: m.topic, partitionMetadata: SOURCE_PARTITIONS, message }) };
  });
}

function byTopic(messages: ReadonlyArray<Message & { topic: string }>): TopicMessages[] {
  const topics = new Map<string, Message[]>();
  for (const { topic, ...message } of messages) {
    const list = topics.get(topic) ?? [];
    list.push(message);
    topics.set(topic, list);
  }
  return [...topics].map(([topic, list]) => ({ topic, messages: list }));
}

/**
 * The end of every scenario: views = oracle, projections = source rows, the DLQ exactly the
 * poison, every change published within the at-least-once bound; the counts go to the test's
 * diagnostics.
 */
export async function assertEnd(t: TestContext, s: Scenario, history: History, poison: readonly Poison[]): Promise<void> {
  const letters = await s.assertConverged(history, poison.length);
  assertPoisonOnly(letters, poison);
  const report = await s.assertDelivery();
  for (const [kind, c] of Object.entries(report.counts)) {
    t.diagnostic(`${kind}: ${c.records} records for ${c.changes} changes; ${c.repeated} changes published more than once (at most ${c.most} times); ${s.faults} faults`);
  }
}
