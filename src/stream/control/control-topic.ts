/**
 * The desired state of a topology (src/stream/runtime/desired-state.ts) in a compacted Kafka topic,
 * `<topology>.control` by default: one partition, keyed by target, so compaction keeps the last
 * entry of each. Every instance reads it from the start with a group of its own (never committed:
 * each start replays it all) and keeps reading, so a pause set through any instance reaches all of
 * them, and survives restarts.
 *
 *   key "ingest"  value {"paused":true,"at":"2026-12-05T18:00:00.000Z","by":"worker-7"}
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { TributaryError } from '../../errors.js';
import type { DesiredStateEntry, DesiredStateSource } from '../runtime/desired-state.js';
import type { Transport, TransportConsumer, TransportProducer } from '../transport/types.js';

export interface ControlTopicOptions {
  readonly topic: string;
  /** Who sets an entry (shown to operators reading the topic); default host name and pid. */
  readonly instance?: string;
  /** How long the replay at start may take (default 60 s). */
  readonly replayTimeoutMs?: number;
}

interface StoredEntry {
  readonly paused: boolean;
  readonly at?: string;
  readonly by?: string;
}

export function controlTopic(transport: Transport, options: ControlTopicOptions): DesiredStateSource {
  const { topic } = options;
  const instance = options.instance ?? `${os.hostname()}.${process.pid}`;
  let consumer: TransportConsumer | undefined;
  let producer: TransportProducer | undefined;
  // One entry after another: their order is their meaning (the latest naming a stream wins).
  let publishing: Promise<unknown> = Promise.resolve();

  return {
    async start(onEntry) {
      await transport.connect();
      if ((await transport.admin.partitionCount(topic).catch(() => 0)) === 0) {
        await transport.admin.createTopics([{ topic, partitions: 1, config: { 'cleanup.policy': 'compact' } }]);
      }
      const [end] = await transport.admin.topicOffsets(topic);
      const last = end && BigInt(end.high) > BigInt(end.low) ? BigInt(end.high) - 1n : -1n;
      let replayed!: () => void;
      const done = new Promise<void>((resolve) => (replayed = resolve));
      if (last < 0n) replayed();
      consumer = transport.consumer({ groupId: `${topic}.reader.${randomUUID()}`, topics: [topic], fromBeginning: true, maxWaitMs: 500 });
      await consumer.run({
        async onBatch(batch) {
          for (const m of batch.messages) {
            const entry = parse(m.key, m.value, BigInt(m.offset));
            if (entry) onEntry(entry);
            if (BigInt(m.offset) >= last) replayed();
          }
          // Move on without committing (as after a transaction, the transport then only advances):
          // nothing to keep for this reader, whose next start replays the whole topic anyway.
          const next = (BigInt(batch.messages.at(-1)!.offset) + 1n).toString();
          return { commit: { topic, partition: batch.partition, offset: next }, transactional: true };
        },
      });
      const timeout = options.replayTimeoutMs ?? 60_000;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        done,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new TributaryError('TRB_CONNECT', `control topic ${topic}: replay not done after ${timeout} ms`)), timeout);
        }),
      ]).finally(() => clearTimeout(timer));
      producer = await transport.producer({ idempotent: true });
    },
    publish(target, paused) {
      const using = producer;
      if (!using) return Promise.reject(new TributaryError('TRB_CONFIG', `control topic ${topic}: publish before start`));
      const value: StoredEntry = { paused, at: new Date().toISOString(), by: instance };
      const sent = publishing.then(() => using.send([{ topic, key: Buffer.from(target), value: Buffer.from(JSON.stringify(value)), partition: 0 }]));
      publishing = sent.catch(() => undefined);
      return sent;
    },
    async stop() {
      await publishing; // what was set before the stop is stored
      await consumer?.stop();
      await producer?.disconnect();
    },
  };
}

/** A stored entry, or undefined for a record that is not one (a tombstone, foreign bytes): ignored, not fatal. */
function parse(key: Buffer | null, value: Buffer | null, seq: bigint): DesiredStateEntry | undefined {
  if (!key || !value) return undefined;
  try {
    const stored = JSON.parse(value.toString('utf8')) as Partial<StoredEntry>;
    return typeof stored.paused === 'boolean' ? { target: key.toString('utf8'), paused: stored.paused, seq } : undefined;
  } catch {
    return undefined;
  }
}
