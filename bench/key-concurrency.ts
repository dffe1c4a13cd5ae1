/**
 * Key-level concurrency: records whose processing waits on I/O (simulated: 2 ms per record, as a
 * lookup or an HTTP call would) on real Kafka, 6 partitions, BENCH_KC_KEYS distinct keys.
 *
 *   raw            bare kafkajs eachBatch, 6 partitions at once, records of a batch one after another
 *                  (what a hand-written consumer that keeps per-key order does)
 *   tributary-off  mapAsync(io) with keyConcurrency 1 (the default: one record at a time per partition)
 *   tributary-on   mapAsync(io) with keyConcurrency BENCH_KC_CONCURRENCY (16): up to 16 keys of a
 *                  partition at once, each key still strictly in order
 *
 * Rate = records / (first batch → last commit); every phase reads the same topic with a fresh group.
 * The summary block (bench/lib/result-format.ts) has off and on, each against the raw loop.
 *
 *   npm run bench -- key-concurrency
 */
import { Kafka, logLevel } from 'kafkajs';
import { createLogger, createMetrics } from '../src/ops/index.js';
import { json, mapAsync, string, topology } from '../src/index.js';
import { createKafkaTransport, runTopology } from '../src/runtime.js';
import { kafkaClientOf } from './lib/kafka-client.js';
import { createTopic, endOffsets, gc, mib, packageVersion, positiveInt, Probe, probed, rssSampler, sleep, sum, withTimeout, writeResult, type EndOffsets, deleteTopics } from './lib/harness.js';

const BROKERS = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const RECORDS = positiveInt('BENCH_KC_RECORDS', 20_000);
const KEYS = positiveInt('BENCH_KC_KEYS', 2_000);
const CONCURRENCY = positiveInt('BENCH_KC_CONCURRENCY', 16);
const IO_MS = 2;
const PARTITIONS = 6;
const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
const TOPIC = `bench.kc.${RUN}.in`;

const kafka = new Kafka({ clientId: 'bench-kc', brokers: BROKERS, logLevel: logLevel.NOTHING });
const logger = createLogger({ level: 'warn' });
const io = () => sleep(IO_MS);

interface PhaseResult {
  readonly phase: string;
  readonly records: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly peakRssMiB: number;
}

async function timed(phase: string, ends: EndOffsets, start: (probe: Probe) => Promise<() => Promise<void>>): Promise<PhaseResult> {
  gc?.();
  const rss = rssSampler();
  const probe = new Probe(ends);
  const stop = await start(probe);
  try {
    const done = await withTimeout(probe.done, phase, 600_000);
    const seconds = (done.at - (probe.firstBatchAt ?? done.at)) / 1000;
    const records = sum(ends.get(TOPIC) ?? new Map());
    const result = { phase, records, seconds: +seconds.toFixed(2), perSecond: Math.round(records / seconds), peakRssMiB: mib(rss.stop()) };
    console.log(`  ${phase.padEnd(14)} ${records} records in ${seconds.toFixed(2)} s = ${result.perSecond}/s`);
    return result;
  } finally {
    await stop();
  }
}

async function raw(ends: EndOffsets): Promise<PhaseResult> {
  return timed('raw', ends, async (probe) => {
    const consumer = kafka.consumer({ groupId: `bench.kc.${RUN}.raw`, maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: PARTITIONS,
      eachBatch: async ({ batch, heartbeat }) => {
        probe.batch();
        for (const m of batch.messages) {
          JSON.parse((m.value as Buffer).toString());
          await io();
        }
        await heartbeat();
        const offset = (BigInt(batch.lastOffset()) + 1n).toString();
        await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset }]);
        probe.committed({ topic: batch.topic, partition: batch.partition, offset });
      },
    });
    return () => consumer.disconnect();
  });
}

async function tributary(keyConcurrency: number, ends: EndOffsets): Promise<PhaseResult> {
  const t = topology(`bench-kc-${RUN}-${keyConcurrency}`);
  // The output goes nowhere but must pass through a sink so the batch commits after the work: a
  // mapAsync whose result is dropped by a filter stands for "call the service, keep nothing".
  t.stream(TOPIC, { key: string(), value: json<{ n: number }>(), name: 'io', keyConcurrency }).pipe(
    mapAsync(async (r) => (await io(), { key: r.key, value: r.value })),
  );
  return timed(keyConcurrency === 1 ? 'tributary-off' : 'tributary-on', ends, async (probe) => {
    const running = await runTopology(t, { transport: probed(createKafkaTransport({ brokers: BROKERS, clientId: 'bench-kc', logger, client: kafkaClientOf(process.env['BENCH_KAFKA_CLIENT']) }), probe), metrics: createMetrics({ defaultMetrics: false }), logger, consumer: { maxWaitMs: 100 } });
    return () => running.stop();
  });
}

async function main(): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await createTopic(admin, TOPIC, PARTITIONS);
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5, allowAutoTopicCreation: false });
    await producer.connect();
    const messages = Array.from({ length: RECORDS }, (_, n) => ({ key: `k${n % KEYS}`, value: JSON.stringify({ n }) }));
    for (let i = 0; i < messages.length; i += 5_000) await producer.sendBatch({ topicMessages: [{ topic: TOPIC, messages: messages.slice(i, i + 5_000) }], acks: -1 });
    await producer.disconnect();
    const ends: EndOffsets = new Map([[TOPIC, await endOffsets(admin, TOPIC)]]);
    console.log(`key-concurrency: ${RECORDS} records, ${KEYS} keys, ${PARTITIONS} partitions, ${IO_MS} ms I/O per record; on = ${CONCURRENCY} keys per partition at once`);
    const results = [await raw(ends), await tributary(1, ends), await tributary(CONCURRENCY, ends)];
    const [r, off, on] = results as [PhaseResult, PhaseResult, PhaseResult];
    const ratios = { offVsRaw: +(off.perSecond / r.perSecond).toFixed(3), onVsRaw: +(on.perSecond / r.perSecond).toFixed(3), onVsOff: +(on.perSecond / off.perSecond).toFixed(3) };
    console.log(`  on/off = ${ratios.onVsOff}x; off/raw = ${ratios.offVsRaw}x; on/raw = ${ratios.onVsRaw}x`);
    const baselines = [{ id: 'raw', label: 'bare kafkajs eachBatch, records of a batch in order, 6 partitions at once', value: r.perSecond }];
    await writeResult('key-concurrency', {
      parameters: { records: RECORDS, keys: KEYS, partitions: PARTITIONS, ioMs: IO_MS, keyConcurrency: CONCURRENCY, kafkajs: packageVersion('kafkajs') },
      results,
      ratios,
      summary: {
        measures: [
          { id: 'off', label: `${IO_MS} ms I/O per record, key concurrency off (1)`, unit: 'records/s', better: 'higher', value: off.perSecond, baselines },
          { id: 'on', label: `${IO_MS} ms I/O per record, key concurrency on (${CONCURRENCY})`, unit: 'records/s', better: 'higher', value: on.perSecond, baselines },
        ],
      },
    });
    await deleteTopics(admin, [TOPIC]);
  } finally {
    await admin.disconnect();
  }
}

await main();
