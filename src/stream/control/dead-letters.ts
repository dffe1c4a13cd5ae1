/**
 * Dead letters as an operator sees them (`tributary dlq`): read a dead-letter topic to its current
 * end without taking a consumer group's place (a throwaway group that never commits), and send
 * chosen dead letters back to the topic they came from, as they were written there: original key,
 * value and headers (the `tributary.*` dead-letter headers taken off), plus `tributary.replayed-from`
 * naming the dead letter, so a record failing again can be traced.
 *
 *   readDeadLetters(transport, 'shop.orders.dlq', { limit: 100 })  --> [{ partition, offset, code, message, origin: { topic, partition, offset }, ... }]
 *   replayDeadLetters(transport, letters)                         --> sent per origin topic
 */
import { randomUUID } from 'node:crypto';
import { TributaryError } from '../../errors.js';
import { DEAD_LETTER_HEADERS } from '../runtime/dead-letter.js';
import type { Headers, OutgoingMessage, Transport } from '../transport/types.js';

export const REPLAYED_FROM_HEADER = 'tributary.replayed-from';

export interface DeadLetter {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly timestamp: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** The record's own headers, without the dead-letter ones. */
  readonly headers: Headers;
  readonly code: string | undefined;
  readonly message: string | undefined;
  readonly stream: string | undefined;
  readonly origin: { readonly topic: string; readonly partition: number; readonly offset: string } | undefined;
}

export interface ReadOptions {
  /** At most this many, the oldest first (default all). */
  readonly limit?: number;
  /** Only these error codes. */
  readonly codes?: readonly string[];
  /** Only these records, as "partition:offset". */
  readonly offsets?: readonly string[];
  /** How long reading to the end may take (default 60 s). */
  readonly timeoutMs?: number;
}

const text = (v: Buffer | string | undefined) => (v === undefined ? undefined : v.toString());
const DLQ_HEADER_NAMES = new Set<string>(Object.values(DEAD_LETTER_HEADERS));

export function toDeadLetter(topic: string, partition: number, m: { offset: string; timestamp: number; key: Buffer | null; value: Buffer | null; headers: Headers }): DeadLetter {
  const h = m.headers;
  const originTopic = text(h[DEAD_LETTER_HEADERS.topic]);
  const originPartition = Number(text(h[DEAD_LETTER_HEADERS.partition]));
  const originOffset = text(h[DEAD_LETTER_HEADERS.offset]);
  const own: Headers = {};
  for (const name in h) if (!DLQ_HEADER_NAMES.has(name)) own[name] = h[name];
  return {
    topic,
    partition,
    offset: m.offset,
    timestamp: m.timestamp,
    key: m.key,
    value: m.value,
    headers: own,
    code: text(h[DEAD_LETTER_HEADERS.code]),
    message: text(h[DEAD_LETTER_HEADERS.message]),
    stream: text(h[DEAD_LETTER_HEADERS.stream]),
    origin: originTopic && Number.isInteger(originPartition) && originOffset !== undefined ? { topic: originTopic, partition: originPartition, offset: originOffset } : undefined,
  };
}

/** The dead letters in `topic` up to its end when called, oldest first per partition, filtered. */
export async function readDeadLetters(transport: Transport, topic: string, options: ReadOptions = {}): Promise<DeadLetter[]> {
  await transport.connect();
  if ((await transport.admin.partitionCount(topic).catch(() => 0)) === 0) throw new TributaryError('TRB_CONFIG', `no topic ${topic}`);
  const ends = await transport.admin.topicOffsets(topic);
  const last = new Map(ends.filter((e) => BigInt(e.high) > BigInt(e.low)).map((e) => [e.partition, BigInt(e.high) - 1n]));
  const wanted = options.offsets ? new Set(options.offsets) : undefined;
  const letters: DeadLetter[] = [];
  const reached = new Set<number>();
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  if (last.size === 0) done();
  const consumer = transport.consumer({ groupId: `tributary-dlq-reader.${randomUUID()}`, topics: [topic], fromBeginning: true, maxWaitMs: 200 });
  await consumer.run({
    async onBatch(batch) {
      const end = last.get(batch.partition);
      for (const m of batch.messages) {
        if (end === undefined || BigInt(m.offset) > end) break;
        const letter = toDeadLetter(topic, batch.partition, m);
        if ((!options.codes || (letter.code !== undefined && options.codes.includes(letter.code))) && (!wanted || wanted.has(`${batch.partition}:${m.offset}`))) letters.push(letter);
        if (BigInt(m.offset) >= end) reached.add(batch.partition);
      }
      if (reached.size >= last.size) done();
      // Advance without committing (the transport treats it as committed by a transaction): this reader leaves no offsets behind.
      return { commit: { topic, partition: batch.partition, offset: (BigInt(batch.messages.at(-1)!.offset) + 1n).toString() }, transactional: true };
    },
  });
  const timeoutMs = options.timeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      finished,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new TributaryError('TRB_CONNECT', `reading ${topic} to its end took longer than ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    await consumer.stop();
  }
  letters.sort((a, b) => a.partition - b.partition || (BigInt(a.offset) < BigInt(b.offset) ? -1 : 1));
  return options.limit !== undefined ? letters.slice(0, options.limit) : letters;
}

/** The record to send back for a dead letter: to its origin topic, as it was, marked as replayed. */
export function replayRecord(letter: DeadLetter): OutgoingMessage {
  if (!letter.origin) throw new TributaryError('TRB_CONFIG', `${letter.topic} ${letter.partition}:${letter.offset} names no origin (${DEAD_LETTER_HEADERS.topic}, ${DEAD_LETTER_HEADERS.partition}, ${DEAD_LETTER_HEADERS.offset} headers): not a Tributary dead letter`);
  return { topic: letter.origin.topic, key: letter.key, value: letter.value, headers: { ...letter.headers, [REPLAYED_FROM_HEADER]: `${letter.topic}:${letter.partition}:${letter.offset}` } };
}

/** Sends the dead letters back to their origin topics in one acknowledged call (the key decides the partition, as for any new record). */
export async function replayDeadLetters(transport: Transport, letters: readonly DeadLetter[]): Promise<Map<string, number>> {
  const records = letters.map(replayRecord);
  await transport.connect();
  const producer = await transport.producer({ idempotent: true });
  try {
    await producer.send(records);
  } finally {
    await producer.disconnect();
  }
  const perTopic = new Map<string, number>();
  for (const r of records) perTopic.set(r.topic, (perTopic.get(r.topic) ?? 0) + 1);
  return perTopic;
}
