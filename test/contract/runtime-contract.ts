/**
 * Runtime behaviour: topologies built with `topology()` and the operators, run by `runTopology`,
 * checked through what lands in topics, what the group commits, metrics, health and readiness.
 * Run unchanged on the embedded engine (test/unit/runtime-memory.test.ts) and on Kafka with the
 * real schema registry (test/integration/runtime-kafka.test.ts).
 */
import { describe, it, type TestContext } from 'node:test';
import { mergeMap, tap, toArray } from 'rxjs';
import assert from 'node:assert/strict';
import { TributaryError } from '../../src/errors.js';
import { createLogger } from '../../src/ops/logger.js';
import { createMetrics, type Metrics } from '../../src/ops/metrics.js';
import { DEAD_LETTERS_TOTAL, ERRORS_TOTAL, PRODUCE_DURATION_SECONDS, RECORDS_IN_TOTAL, RECORDS_OUT_TOTAL, RETRIES_TOTAL, ASSIGNED_PARTITIONS } from '../../src/ops/metric-names.js';
import { filter, flatMap, map, mapAsync, mapValues, peek, toCollection, toTopic } from '../../src/stream/operators/index.js';
import { DEAD_LETTER_HEADERS } from '../../src/stream/runtime/dead-letter.js';
import { runTopology, type RunningTopology, type RunOptions } from '../../src/stream/runtime/runner.js';
import { avro, json, string } from '../../src/stream/serdes/index.js';
import type { AvroSchema, SchemaRegistryClient } from '../../src/stream/serdes/registry.js';
import { topology, type Topology } from '../../src/stream/topology.js';
import type { OutgoingMessage, Transport, TransportAdmin } from '../../src/stream/transport/types.js';
import { uniqueName } from '../integration/services.js';
import { cleanups, committedByPartition, committedToEnd, gate, offsetsSnapshot, sleep, waitFor, type ReadRecord } from './helpers.js';

export interface RuntimeEnv {
  /** A new transport for one `runTopology` (the runtime disconnects it when stopped). */
  transport(): Transport;
  /** Admin of a transport the env keeps connected until cleanup. */
  readonly admin: TransportAdmin;
  readonly registry: SchemaRegistryClient;
  /** Appends raw records (bytes, headers, partition and timestamp as given). */
  produce(messages: readonly OutgoingMessage[]): Promise<void>;
  /** Every committed record of `topic` so far, by partition then offset. */
  read(topic: string): Promise<ReadRecord[]>;
  cleanup(): Promise<void>;
}

export type MakeEnv = () => Promise<RuntimeEnv>;

const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'silent' });

interface Started {
  readonly running: RunningTopology;
  readonly metrics: Metrics;
}

/** One test's env, torn down after the test (topologies first). */
async function setup(t: TestContext, makeEnv: MakeEnv) {
  const defer = cleanups(t);
  const env = await makeEnv();
  defer(() => env.cleanup());
  return {
    env,
    async createTopics(topics: Record<string, number>) {
      await env.admin.createTopics(Object.entries(topics).map(([topic, partitions]) => ({ topic, partitions })));
    },
    async start(top: Topology, transport: Transport = env.transport(), extra: { startPaused?: boolean | readonly string[]; maxMessageBytes?: number; consumer?: RunOptions['consumer'] } = {}): Promise<Started> {
      const metrics = createMetrics({ defaultMetrics: false });
      const running = await runTopology(top, { transport, registry: env.registry, metrics, logger, ...extra });
      defer(() => running.stop());
      return { running, metrics };
    },
    /** Waits until `topic` holds at least `count` records and returns them. */
    async output(topic: string, count: number, timeoutMs = 60_000): Promise<ReadRecord[]> {
      let records: ReadRecord[] = [];
      await waitFor(`${count} records in ${topic}`, async () => (records = await env.read(topic)).length >= count, { timeoutMs, detail: () => records.length });
      return records;
    },
    async committed(groupId: string, topic: string, timeoutMs = 60_000): Promise<void> {
      await waitFor(`group ${groupId} committed ${topic} to its end`, () => committedToEnd(env.admin, groupId, topic), {
        timeoutMs,
        detail: () => offsetsSnapshot(env.admin, groupId, topic),
      });
    },
  };
}

const text = (b: Buffer | null) => (b === null ? null : b.toString('utf8'));
const parse = <T>(b: Buffer | null): T => JSON.parse(text(b) ?? 'null') as T;
const jsonBytes = (value: unknown) => Buffer.from(JSON.stringify(value));

/** Groups values by key, keeping the order in which they were read (per partition, by offset). */
function byKey<T>(records: readonly ReadRecord[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const r of records) {
    const key = text(r.key) ?? '';
    out.set(key, [...(out.get(key) ?? []), parse<T>(r.value)]);
  }
  return out;
}

/**
 * A transport whose consumers join their group only once `until` resolves: stands for a slow
 * group join (other members still draining a rebalance), so the pre-assignment state is observable.
 */
function delayedJoin(inner: Transport, until: Promise<void>): Transport {
  return {
    ...inner,
    consumer(options) {
      const consumer = inner.consumer(options);
      let joined: Promise<void> = Promise.resolve();
      return {
        run(handlers) {
          joined = until.then(() => consumer.run(handlers));
          return Promise.resolve();
        },
        pause: (partitions) => consumer.pause(partitions),
        resume: (partitions) => consumer.resume(partitions),
        paused: () => consumer.paused(),
        assignment: () => consumer.assignment(),
        async stop() {
          await joined.catch(() => undefined);
          await consumer.stop();
        },
      };
    },
  };
}

interface Order {
  id: string;
  total: number;
}
const ORDER_SCHEMA: AvroSchema = {
  type: 'record',
  name: 'Order',
  namespace: 'tributary.test',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'total', type: 'int' },
  ],
};

export function runtimeContract(name: string, makeEnv: MakeEnv): void {
  describe(`runtime contract: ${name}`, () => {
    it('keeps per-key order across 6 concurrently processed partitions, through map, filter, flatMap, peek and mapValues', async (t) => {
      const s = await setup(t, makeEnv);
      const input = uniqueName('rt-order-in');
      const output = uniqueName('rt-order-out');
      await s.createTopics({ [input]: 6, [output]: 6 });
      const keys = 60;
      const perKey = 10;
      const messages: OutgoingMessage[] = [];
      for (let seq = 0; seq < perKey; seq++) for (let k = 0; k < keys; k++) messages.push({ topic: input, key: Buffer.from(`key-${k}`), value: jsonBytes({ seq }) });
      await s.env.produce(messages);

      let peeked = 0;
      const partitionsSeen = new Set<number>();
      const top = topology(uniqueName('rt-order'));
      top
        .stream(input, { key: string(), value: json<{ seq: number }>() })
        .pipe(
          peek((r) => {
            peeked++;
            partitionsSeen.add(r.partition);
          }),
          filter((r) => r.value!.seq % 5 !== 4),
          map((r) => ({ key: r.key, value: { seq: r.value!.seq, from: r.partition } })),
          flatMap((r) => [
            { key: r.key, value: { ...r.value, copy: 1 } },
            { key: r.key, value: { ...r.value, copy: 2 } },
          ]),
          mapValues((v) => ({ ...v, tag: `s${v.seq}c${v.copy}` })),
          toTopic(output, { key: string(), value: json<{ seq: number; from: number; copy: number; tag: string }>() }),
        );
      const { metrics } = await s.start(top);

      const expectedPerKey = Array.from({ length: perKey }, (_, seq) => seq)
        .filter((seq) => seq % 5 !== 4)
        .flatMap((seq) => [`s${seq}c1`, `s${seq}c2`]);
      const records = await s.output(output, keys * expectedPerKey.length);
      await s.committed(top.streams()[0]!.groupId, input);

      assert.equal(records.length, keys * expectedPerKey.length, 'no duplicates');
      const got = byKey<{ tag: string; from: number }>(records);
      assert.equal(got.size, keys);
      for (const [key, values] of got) assert.deepEqual(values.map((v) => v.tag), expectedPerKey, `order of ${key}`);
      assert.equal(partitionsSeen.size, 6, 'all six partitions were processed');
      assert.equal(peeked, keys * perKey, 'peek saw every input record once');
      assert.equal(await metrics.value(RECORDS_IN_TOTAL, { topic: input }), keys * perKey);
      assert.equal(await metrics.value(RECORDS_OUT_TOTAL, { topic: output }), keys * expectedPerKey.length);
      const produces = await metrics.value(PRODUCE_DURATION_SECONDS, {});
      assert.ok(produces > 0 && produces <= keys * perKey, `one produce observed per batch with outputs (${produces})`);
    });

    it('pause() stops consumption at once (a fetched batch is held, not processed), resume() goes on without loss; startPaused waits for resume()', async (t) => {
      const s = await setup(t, makeEnv);
      const input = uniqueName('rt-pause-in');
      const output = uniqueName('rt-pause-out');
      await s.createTopics({ [input]: 3, [output]: 3 });
      const wave = (from: number) => Array.from({ length: 30 }, (_, i) => ({ topic: input, key: Buffer.from(`k${(from + i) % 7}`), value: jsonBytes({ n: from + i }) }));
      let processed = 0;
      const top = topology(uniqueName('rt-pause'));
      top.stream(input, { key: string(), value: json<{ n: number }>(), name: 'ingest:numbers', stage: 'ingest' }).pipe(
        peek(() => void processed++),
        toTopic(output, { key: string(), value: json<{ n: number }>() }),
      );
      // A control stream on the same input that is never paused: once it has processed a wave, a
      // running stream had every chance to process it too, so "nothing processed" is a real check.
      let seenByControl = 0;
      const control = topology(uniqueName('rt-pause-control'));
      control.stream(input, { key: string(), value: json<{ n: number }>() }).pipe(peek(() => void seenByControl++));
      await s.start(control);
      const { running } = await s.start(top);
      await s.env.produce(wave(0));
      await s.output(output, 30);
      await s.committed(top.streams()[0]!.groupId, input);

      assert.deepEqual(running.pause('ingest'), ['ingest:numbers'], 'a stage names its streams');
      assert.throws(() => running.pause('nothing'), (e: unknown) => e instanceof TributaryError && e.code === 'TRB_CONFIG');
      const before = processed;
      await s.env.produce(wave(30));
      await waitFor('the control stream to process the second wave', () => seenByControl >= 60, { timeoutMs: 60_000, detail: () => seenByControl });
      await s.committed(control.streams()[0]!.groupId, input);
      assert.equal(processed, before, 'nothing processed while paused');
      const [status] = running.status();
      assert.equal(status?.pausedByOperator, true);
      assert.equal((await s.env.read(output)).length, 30);

      running.resume('*');
      const records = await s.output(output, 60);
      await s.committed(top.streams()[0]!.groupId, input);
      assert.equal(records.length, 60, 'every record once: none lost, none twice');
      assert.deepEqual(records.map((r) => parse<{ n: number }>(r.value).n).sort((a, b) => a - b), Array.from({ length: 60 }, (_, i) => i));
      assert.equal(running.status()[0]?.pausedByOperator, false);

      // Started paused (the initial-load semantic): nothing moves until resume().
      const second = topology(uniqueName('rt-paused-start'));
      const copy = uniqueName('rt-pause-copy');
      await s.createTopics({ [copy]: 1 });
      second.stream(input, { key: string(), value: json<{ n: number }>() }).pipe(toTopic(copy, { key: string(), value: json<{ n: number }>() }));
      let seenBySecondControl = 0;
      const secondControl = topology(uniqueName('rt-paused-start-control'));
      secondControl.stream(input, { key: string(), value: json<{ n: number }>() }).pipe(peek(() => void seenBySecondControl++));
      const [started] = await Promise.all([s.start(second, s.env.transport(), { startPaused: true }), s.start(secondControl)]);
      await waitFor('the paused stream to join its group', () => started.running.status()[0]?.state === 'running', { timeoutMs: 60_000 });
      await waitFor('a control stream started with it to process all 60 records', () => seenBySecondControl >= 60, { timeoutMs: 60_000, detail: () => seenBySecondControl });
      assert.equal((await s.env.read(copy)).length, 0, 'started paused: nothing processed');
      started.running.resume('*');
      assert.equal((await s.output(copy, 60)).length, 60);
    });

    it('keyConcurrency 4 with a mapAsync of random delays keeps per-key order while several keys are in flight', async (t) => {
      const s = await setup(t, makeEnv);
      const input = uniqueName('rt-keys-in');
      const output = uniqueName('rt-keys-out');
      await s.createTopics({ [input]: 1, [output]: 1 });
      const keys = 20;
      const perKey = 15;
      const messages: OutgoingMessage[] = [];
      for (let seq = 0; seq < perKey; seq++) for (let k = 0; k < keys; k++) messages.push({ topic: input, key: Buffer.from(`k${k}`), value: jsonBytes({ seq }) });
      await s.env.produce(messages);

      const active = new Map<string, number>();
      let maxKeysInFlight = 0;
      let sameKeyOverlap = 0;
      const top = topology(uniqueName('rt-keys'));
      top
        .stream(input, { key: string(), value: json<{ seq: number }>(), keyConcurrency: 4 })
        .pipe(
          mapAsync(async (r) => {
            const key = r.key ?? '';
            if ((active.get(key) ?? 0) > 0) sameKeyOverlap++;
            active.set(key, (active.get(key) ?? 0) + 1);
            maxKeysInFlight = Math.max(maxKeysInFlight, [...active.values()].filter((n) => n > 0).length);
            await sleep(Math.floor(Math.random() * 6));
            active.set(key, (active.get(key) ?? 1) - 1);
            return { key: r.key, value: { seq: r.value!.seq } };
          }),
          toTopic(output, { key: string(), value: json<{ seq: number }>() }),
        );
      await s.start(top);
      const records = await s.output(output, keys * perKey);
      await s.committed(top.streams()[0]!.groupId, input);

      assert.equal(records.length, keys * perKey);
      for (const [key, values] of byKey<{ seq: number }>(records)) {
        assert.deepEqual(values.map((v) => v.seq), Array.from({ length: perKey }, (_, i) => i), `order of ${key}`);
      }
      assert.equal(sameKeyOverlap, 0, 'one key is never processed twice at once');
      assert.ok(maxKeysInFlight >= 2, `at least two keys were in flight at once (max ${maxKeysInFlight})`);
      assert.ok(maxKeysInFlight <= 4, `never more than keyConcurrency keys at once (max ${maxKeysInFlight})`);
    });

    it('a stream reading Avro with no schema registry refuses to start with TRB_CONFIG (not a dead letter per record)', async (t) => {
      const s = await setup(t, makeEnv);
      const input = uniqueName('rt-noreg');
      await s.createTopics({ [input]: 1 });
      const top = topology(uniqueName('rt-noreg'));
      top.stream(input, { key: string(), value: avro<Order>({ schema: ORDER_SCHEMA }) }).pipe(peek(() => undefined));
      await assert.rejects(
        runTopology(top, { transport: s.env.transport(), metrics: createMetrics({ defaultMetrics: false }), logger }),
        (e: unknown) => e instanceof TributaryError && e.code === 'TRB_CONFIG' && e.message.includes(input) && /SCHEMA_REGISTRY_URL/.test(e.message),
      );
    });

    it('a stream writing Avro, or writing to a store, with neither configured refuses to start with TRB_CONFIG naming the stream', async (t) => {
      const s = await setup(t, makeEnv);
      const input = uniqueName('rt-noreg-out-in');
      const out = uniqueName('rt-noreg-out');
      await s.createTopics({ [input]: 1, [out]: 1 });
      const avroOut = topology(uniqueName('rt-noreg-out'));
      avroOut.stream(input, { key: string(), value: json<Order>(), name: 'avro-writer' }).pipe(toTopic(out, { key: string(), value: avro<Order>({ schema: ORDER_SCHEMA }) }));
      await assert.rejects(
        runTopology(avroOut, { transport: s.env.transport(), metrics: createMetrics({ defaultMetrics: false }), logger }),
        (e: unknown) => e instanceof TributaryError && e.code === 'TRB_CONFIG' && e.message.includes('avro-writer') && /SCHEMA_REGISTRY_URL/.test(e.message),
      );
      const storeWriter = topology(uniqueName('rt-nostore'));
      storeWriter.stream(input, { key: string(), value: json<Order>(), name: 'store-writer' }).pipe(toCollection('orders', { filter: (r) => ({ id: r.value?.id }), document: (r) => ({ ...r.value }) }));
      await assert.rejects(
        runTopology(storeWriter, { transport: s.env.transport(), registry: s.env.registry, metrics: createMetrics({ defaultMetrics: false }), logger }),
        (e: unknown) => e instanceof TributaryError && e.code === 'TRB_CONFIG' && e.message.includes('store-writer') && /MONGODB_URL/.test(e.message),
      );
    });

    it('undecodable records (malformed JSON; Avro with a wrong magic byte or unknown schema id) reach <topic>.dlq with their bytes and headers, and the stream goes on', async (t) => {
      const s = await setup(t, makeEnv);
      const jsonIn = uniqueName('rt-dlq-json');
      const avroIn = uniqueName('rt-dlq-avro');
      const out = uniqueName('rt-dlq-out');
      await s.createTopics({ [jsonIn]: 1, [avroIn]: 1, [`${jsonIn}.dlq`]: 1, [`${avroIn}.dlq`]: 1, [out]: 1 });

      const orders = avro<Order>({ schema: ORDER_SCHEMA });
      const encode = async (o: Order) => (await orders.serialize(o, { topic: avroIn, part: 'value', registry: s.env.registry })) as Buffer;
      const good = await encode({ id: 'a-0', total: 1 });
      const body = good.subarray(5);
      const wrongMagic = Buffer.concat([Buffer.from([1, 0, 0, 0, 1]), body]);
      const unknownId = Buffer.alloc(5 + body.length);
      unknownId.writeUInt8(0, 0);
      unknownId.writeInt32BE(2_000_000_000, 1);
      body.copy(unknownId, 5);

      const ts = 1_700_000_000_000;
      const headers = { 'x-origin': 'contract', 'x-trace': 'abc' };
      const jsonRecords: Array<{ key: string; value: Buffer }> = [
        { key: 'j0', value: jsonBytes({ id: 'j-0', total: 1 }) },
        { key: 'bad-1', value: Buffer.from('{"id": "oops", ') },
        { key: 'j2', value: jsonBytes({ id: 'j-2', total: 2 }) },
        { key: 'bad-3', value: Buffer.from('not json at all') },
        { key: 'j4', value: jsonBytes({ id: 'j-4', total: 4 }) },
      ];
      const avroRecords: Array<{ key: string; value: Buffer }> = [
        { key: 'a0', value: good },
        { key: 'bad-1', value: wrongMagic },
        { key: 'a2', value: await encode({ id: 'a-2', total: 2 }) },
        { key: 'bad-3', value: unknownId },
        { key: 'a4', value: await encode({ id: 'a-4', total: 4 }) },
      ];
      const asMessages = (topic: string, list: Array<{ key: string; value: Buffer }>): OutgoingMessage[] =>
        list.map((r, i) => ({ topic, key: Buffer.from(r.key), value: r.value, headers, partition: 0, timestamp: ts + i }));
      await s.env.produce([...asMessages(jsonIn, jsonRecords), ...asMessages(avroIn, avroRecords)]);

      const top = topology(uniqueName('rt-dlq'));
      top.stream(jsonIn, { name: 'json-orders', key: string(), value: json<Order>() }).pipe(toTopic(out, { key: string(), value: json<Order>() }));
      top
        .stream(avroIn, { name: 'avro-orders', key: string(), value: avro<Order>() })
        .pipe(toTopic(out, { key: string(), value: json<Order>() }));
      const { metrics } = await s.start(top);

      const outputs = await s.output(out, 6);
      const ids = outputs.map((r) => parse<Order>(r.value).id).sort();
      assert.deepEqual(ids, ['a-0', 'a-2', 'a-4', 'j-0', 'j-2', 'j-4'], 'the records after each poison record were processed');
      for (const [stream, topic, list, codes] of [
        ['json-orders', jsonIn, jsonRecords, ['TRB_DECODE', 'TRB_DECODE']],
        ['avro-orders', avroIn, avroRecords, ['TRB_DECODE', 'TRB_SCHEMA']],
      ] as const) {
        const dlq = await s.output(`${topic}.dlq`, 2);
        assert.equal(dlq.length, 2, `two dead letters in ${topic}.dlq`);
        dlq.forEach((letter, i) => {
          const offset = i === 0 ? 1 : 3;
          const original = list[offset]!;
          assert.deepEqual(letter.key, Buffer.from(original.key), 'original key bytes');
          assert.deepEqual(letter.value, original.value, 'original value bytes');
          const h = letter.headers;
          assert.equal(h[DEAD_LETTER_HEADERS.code], codes[i]);
          assert.ok((h[DEAD_LETTER_HEADERS.message] ?? '').length > 0, 'error message header');
          assert.equal(h[DEAD_LETTER_HEADERS.stream], stream);
          assert.equal(h[DEAD_LETTER_HEADERS.topic], topic);
          assert.equal(h[DEAD_LETTER_HEADERS.partition], '0');
          assert.equal(h[DEAD_LETTER_HEADERS.offset], String(offset));
          assert.equal(h[DEAD_LETTER_HEADERS.timestamp], String(ts + offset));
          assert.equal(h['x-origin'], 'contract', 'original headers kept');
          assert.equal(h['x-trace'], 'abc', 'original headers kept');
        });
        const groupId = top.streams().find((d) => d.name === stream)!.groupId;
        await s.committed(groupId, topic);
        assert.equal(await metrics.value(DEAD_LETTERS_TOTAL, { stream, topic: `${topic}.dlq` }), 2);
        assert.equal(await metrics.value(ERRORS_TOTAL, { stream, decision: 'dead-letter' }), 2);
        assert.equal(await metrics.value(RECORDS_OUT_TOTAL, { stream, topic: `${topic}.dlq` }), 2);
      }
    });

    it("errors: 'skip' drops the failing records, counts them and goes on", async (t) => {
      const s = await setup(t, makeEnv);
      const input = uniqueName('rt-skip-in');
      const out = uniqueName('rt-skip-out');
      await s.createTopics({ [input]: 1, [out]: 1, [`${input}.dlq`]: 1 });
      await s.env.produce([
        { topic: input, key: Buffer.from('k0'), value: jsonBytes({ n: 0 }) },
        { topic: input, key: Buffer.from('k1'), value: Buffer.from('{broken') },
        { topic: input, key: Buffer.from('k2'), value: jsonBytes({ n: 2 }) },
        { topic: input, key: Buffer.from('k3'), value: jsonBytes({ n: 99 }) },
        { topic: input, key: Buffer.from('k4'), value: jsonBytes({ n: 4 }) },
      ]);
      const top = topology(uniqueName('rt-skip'));
      top
        .stream(input, { key: string(), value: json<{ n: number }>(), errors: 'skip' })
        .pipe(
          map((r) => {
            if (r.value!.n === 99) throw new Error('cannot handle 99');
            return { key: r.key, value: r.value };
          }),
          toTopic(out, { key: string(), value: json<{ n: number }>() }),
        );
      const { running, metrics } = await s.start(top);
      const outputs = await s.output(out, 3);
      const stream = top.streams()[0]!;
      await s.committed(stream.groupId, input);

      assert.deepEqual(outputs.map((r) => parse<{ n: number }>(r.value).n), [0, 2, 4]);
      assert.equal(await metrics.value(ERRORS_TOTAL, { stream: stream.name, decision: 'skip' }), 2);
      assert.equal(await metrics.value(ERRORS_TOTAL, { stream: stream.name, decision: 'skip', code: 'TRB_DECODE' }), 1);
      assert.equal(await metrics.value(ERRORS_TOTAL, { stream: stream.name, decision: 'skip', code: 'TRB_PROCESS' }), 1);
      assert.equal(await metrics.value(DEAD_LETTERS_TOTAL), 0, 'nothing dead-lettered');
      assert.equal(running.health().ok, true, 'skipping keeps the stream healthy');
      assert.deepEqual((await s.env.admin.topicOffsets(`${input}.dlq`)).map((o) => o.high), ['0'], 'the dead-letter topic stayed empty');
    });

    it('partitions fetched together are worked as one batch, each committed to its end; combinePartitions: false keeps one partition per batch', async (t) => {
      const s = await setup(t, makeEnv);
      const input = uniqueName('rt-combine-in');
      await s.createTopics({ [input]: 3, [`${input}.out`]: 1 });
      const records = (round: number): OutgoingMessage[] =>
        [0, 1, 2].flatMap((partition) => Array.from({ length: 4 }, (_, i) => ({ topic: input, key: Buffer.from(`p${partition}-${i}`), value: jsonBytes({ round, partition, i }), partition })));
      for (const combinePartitions of [true, false]) {
        const round = combinePartitions ? 1 : 2;
        // Waiting before the stream starts: the first fetch brings all three partitions.
        await s.env.produce(records(round));
        const batches: number[][] = [];
        const top = topology(uniqueName('rt-combine'));
        top.stream(input, { key: string(), value: json<{ round: number; partition: number; i: number }>() }).pipe(
          (source) => source.pipe(toArray(), tap((batch) => batches.push([...new Set(batch.map((r) => r.partition))].sort())), mergeMap((batch) => batch)),
          toTopic(`${input}.out`, { key: string(), value: json<{ round: number; partition: number; i: number }>() }),
        );
        const { running } = await s.start(top, s.env.transport(), { consumer: { combinePartitions } });
        const stream = top.streams()[0]!;
        await s.committed(stream.groupId, input);
        await running.stop();
        const seen = batches.flat().length;
        assert.ok(seen >= 3, `every partition was worked (${JSON.stringify(batches)})`);
        if (combinePartitions) assert.ok(batches.some((b) => b.length > 1), `a batch held several partitions: ${JSON.stringify(batches)}`);
        else assert.ok(batches.every((b) => b.length === 1), `one partition per batch: ${JSON.stringify(batches)}`);
      }
      const out = (await s.output(`${input}.out`, 24)).map((r) => parse<{ round: number; partition: number; i: number }>(r.value));
      for (const round of [1, 2]) {
        for (const partition of [0, 1, 2]) {
          // Each partition's records once each and in order (by key; one output partition keeps the order).
          const mine = out.filter((v) => v.round === round && v.partition === partition).map((v) => v.i);
          assert.deepEqual(mine.slice(0, 4), [0, 1, 2, 3], `round ${round}, partition ${partition} in order`);
        }
      }
    });

    it("errors: 'fail' turns health red and commits neither the failing record nor anything after it in its partition", async (t) => {
      const s = await setup(t, makeEnv);
      const input = uniqueName('rt-fail-in');
      const out = uniqueName('rt-fail-out');
      await s.createTopics({ [input]: 2, [out]: 1 });
      const p0: OutgoingMessage[] = Array.from({ length: 10 }, (_, i) => ({
        topic: input,
        key: Buffer.from(`p0-${i}`),
        value: i === 5 ? Buffer.from('{"p":0,"i":5,') : jsonBytes({ p: 0, i }),
        partition: 0,
      }));
      const p1: OutgoingMessage[] = Array.from({ length: 10 }, (_, i) => ({ topic: input, key: Buffer.from(`p1-${i}`), value: jsonBytes({ p: 1, i }), partition: 1 }));
      // Records before the poison one go first, so they may be committed in an earlier batch.
      await s.env.produce(p0.slice(0, 5));
      await s.env.produce([...p0.slice(5), ...p1]);

      const top = topology(uniqueName('rt-fail'));
      top.stream(input, { key: string(), value: json<{ p: number; i: number }>(), errors: 'fail' }).pipe(toTopic(out, { key: string(), value: json<{ p: number; i: number }>() }));
      const { running, metrics } = await s.start(top);
      const stream = top.streams()[0]!;

      await waitFor('health turns red', () => !running.health().ok, { timeoutMs: 60_000 });
      const check = running.health().checks[stream.name];
      assert.equal(check?.ok, false);
      assert.match(check?.detail ?? '', /TRB_DECODE/);
      assert.equal(running.readiness().ok, false, 'a failed stream is not ready either');
      assert.equal(running.status()[0]?.state, 'failed');
      // The other partition is not stopped by the failure.
      await waitFor('partition 1 committed to its end', async () => (await committedByPartition(s.env.admin, stream.groupId, input)).get(1) === 10n, { timeoutMs: 60_000 });
      assert.equal(await metrics.value(ERRORS_TOTAL, { stream: stream.name, decision: 'fail' }), 1, 'one failing record is counted once');

      await running.stop();
      const committed = (await committedByPartition(s.env.admin, stream.groupId, input)).get(0) ?? -1n;
      assert.ok(committed <= 5n, `partition 0 committed at most up to the failing offset 5 (committed ${committed})`);
      const produced = (await s.output(out, 10)).map((r) => parse<{ p: number; i: number }>(r.value));
      assert.deepEqual(produced.filter((v) => v.p === 0 && v.i >= 5), [], 'nothing at or after the failing record was produced');
      assert.equal(produced.filter((v) => v.p === 1).length, 10);
    });

    it('a mapAsync failing twice with a retriable error is retried and its output produced exactly once', async (t) => {
      const s = await setup(t, makeEnv);
      const input = uniqueName('rt-retry-in');
      const out = uniqueName('rt-retry-out');
      await s.createTopics({ [input]: 1, [out]: 1 });
      await s.env.produce(Array.from({ length: 10 }, (_, i) => ({ topic: input, key: Buffer.from(i === 4 ? 'flaky' : `k${i}`), value: jsonBytes({ i }) })));

      let failures = 0;
      const calls = new Map<string, number>();
      const top = topology(uniqueName('rt-retry'));
      top
        .stream(input, { key: string(), value: json<{ i: number }>(), retry: { initialMs: 5, maxMs: 20 } })
        .pipe(
          mapAsync(async (r) => {
            calls.set(r.key ?? '', (calls.get(r.key ?? '') ?? 0) + 1);
            if (r.key === 'flaky' && failures < 2) {
              failures++;
              throw new TributaryError('TRB_STORE_WRITE', 'store briefly unavailable');
            }
            return { key: r.key, value: { i: r.value!.i, done: true } };
          }),
          toTopic(out, { key: string(), value: json<{ i: number; done: boolean }>() }),
        );
      const { running, metrics } = await s.start(top);
      const stream = top.streams()[0]!;
      await s.committed(stream.groupId, input);
      const outputs = await s.output(out, 10);

      assert.equal(calls.get('flaky'), 3, 'called twice in vain, then successfully');
      assert.equal(outputs.length, 10, 'every record produced exactly once');
      assert.equal(outputs.filter((r) => text(r.key) === 'flaky').length, 1, 'the retried record produced once');
      assert.deepEqual(outputs.map((r) => parse<{ i: number }>(r.value).i).sort((a, b) => a - b), Array.from({ length: 10 }, (_, i) => i));
      assert.equal(await metrics.value(RETRIES_TOTAL, { stream: stream.name, code: 'TRB_STORE_WRITE' }), 2);
      assert.equal(await metrics.value(ERRORS_TOTAL, { stream: stream.name }), 0, 'a retried fault is not an error decision');
      assert.equal(running.health().ok, true);
      assert.deepEqual(running.status()[0]?.paused, [], 'the partition is resumed after the retry');
    });

    it('size limits: a source record over maxRecordBytes and an output over maxMessageBytes are dead-lettered as TRB_TOO_LARGE, the others pass', async (t) => {
      const s = await setup(t, makeEnv);
      const input = uniqueName('rt-size-in');
      const out = uniqueName('rt-size-out');
      await s.createTopics({ [input]: 1, [`${input}.dlq`]: 1, [out]: 1 });
      const records = [
        { key: 'small', value: jsonBytes({ pad: '' }) },
        { key: 'big-in', value: jsonBytes({ pad: 'x'.repeat(600) }) }, // over maxRecordBytes 500
        { key: 'big-out', value: jsonBytes({ pad: '', grow: true }) }, // its output is 2 000 bytes, over maxMessageBytes 1 000
        { key: 'last', value: jsonBytes({ pad: '' }) },
      ];
      await s.env.produce(records.map((r) => ({ topic: input, key: Buffer.from(r.key), value: r.value, partition: 0 })));
      const top = topology(uniqueName('rt-size'));
      top
        .stream(input, { name: 'sized', key: string(), value: json<{ pad: string; grow?: boolean }>(), maxRecordBytes: 500 })
        .pipe(mapValues((v) => ({ pad: v!.grow ? 'y'.repeat(2_000) : v!.pad })), toTopic(out, { key: string(), value: json<{ pad: string }>() }));
      const { running } = await s.start(top, s.env.transport(), { maxMessageBytes: 1_000 });
      await s.committed(top.streams()[0]!.groupId, input);
      const outputs = await s.output(out, 2);
      assert.deepEqual(outputs.map((r) => text(r.key)).sort(), ['last', 'small']);
      const dlq = await s.output(`${input}.dlq`, 2);
      assert.deepEqual(dlq.map((l) => [text(l.key), l.headers[DEAD_LETTER_HEADERS.code]]).sort(), [['big-in', 'TRB_TOO_LARGE'], ['big-out', 'TRB_TOO_LARGE']]);
      assert.deepEqual(dlq.find((l) => text(l.key) === 'big-in')?.value, records[1]!.value, 'the original bytes');
      assert.equal(running.health().ok, true);
    });

    it('a transient fault that outlasts retry.maxAttempts stops the partition with TRB_RETRIES_EXHAUSTED and turns health red', async (t) => {
      const s = await setup(t, makeEnv);
      const input = uniqueName('rt-exhaust-in');
      await s.createTopics({ [input]: 1 });
      await s.env.produce([{ topic: input, key: Buffer.from('k'), value: jsonBytes({ i: 1 }) }]);
      let calls = 0;
      const top = topology(uniqueName('rt-exhaust'));
      top.stream(input, { name: 'exhaust', key: string(), value: json<{ i: number }>(), retry: { initialMs: 5, maxMs: 10, maxAttempts: 3 } }).pipe(
        mapAsync(async () => {
          calls++;
          throw new TributaryError('TRB_STORE_WRITE', 'store down for good');
        }),
      );
      const { running } = await s.start(top);
      await waitFor('health to turn red', () => !running.health().ok, { timeoutMs: 30_000, detail: () => running.health() });
      assert.match(JSON.stringify(running.health().checks), /TRB_RETRIES_EXHAUSTED/);
      assert.equal(calls, 3, 'tried maxAttempts times');
      assert.equal(running.status()[0]?.state, 'failed');
    });

    it('readiness is false before partitions are assigned and true after; records in/out metrics move', async (t) => {
      const s = await setup(t, makeEnv);
      const input = uniqueName('rt-ready-in');
      const out = uniqueName('rt-ready-out');
      await s.createTopics({ [input]: 2, [out]: 1 });
      const join = gate();
      const top = topology(uniqueName('rt-ready'));
      top.stream(input, { name: 'ready', key: string(), value: json<{ i: number }>() }).pipe(toTopic(out, { key: string(), value: json<{ i: number }>() }));
      const { running, metrics } = await s.start(top, delayedJoin(s.env.transport(), join.promise));

      const before = running.readiness();
      assert.equal(before.ok, false, 'not ready before assignment');
      assert.equal(before.checks['ready']?.detail, 'not yet assigned partitions');
      assert.equal(running.status()[0]?.state, 'starting');
      assert.equal(running.health().ok, true, 'starting is alive, only not ready');

      join.open();
      await waitFor('ready after assignment', () => running.readiness().ok, { timeoutMs: 60_000, detail: () => running.readiness() });
      assert.equal(running.status()[0]?.state, 'running');
      await waitFor('both partitions assigned', async () => (await metrics.value(ASSIGNED_PARTITIONS, { stream: 'ready' })) === 2, { timeoutMs: 60_000 });

      assert.equal(await metrics.value(RECORDS_IN_TOTAL, { stream: 'ready' }), 0);
      await s.env.produce(Array.from({ length: 20 }, (_, i) => ({ topic: input, key: Buffer.from(`k${i}`), value: jsonBytes({ i }) })));
      await s.output(out, 20);
      await waitFor('records_in reaches 20', async () => (await metrics.value(RECORDS_IN_TOTAL, { stream: 'ready', topic: input })) === 20);
      assert.equal(await metrics.value(RECORDS_OUT_TOTAL, { stream: 'ready', topic: out }), 20);
      const scrape = await metrics.text();
      assert.match(scrape, new RegExp(`tributary_records_in_total\\{stream="ready",topic="${input}"\\} 20`));
    });

    it('exactlyOnce: true produces output and commits the input offsets in transactions', async (t) => {
      const s = await setup(t, makeEnv);
      const input = uniqueName('rt-eos-in');
      const out = uniqueName('rt-eos-out');
      await s.createTopics({ [input]: 2, [out]: 2 });
      await s.env.produce(Array.from({ length: 40 }, (_, i) => ({ topic: input, key: Buffer.from(`k${i % 8}`), value: jsonBytes({ i }) })));
      const top = topology(uniqueName('rt-eos'));
      top
        .stream(input, { key: string(), value: json<{ i: number }>(), exactlyOnce: true })
        .pipe(
          mapValues((v) => ({ i: v!.i, doubled: v!.i * 2 })),
          toTopic(out, { key: string(), value: json<{ i: number; doubled: number }>() }),
        );
      const { running, metrics } = await s.start(top);
      const stream = top.streams()[0]!;
      await s.committed(stream.groupId, input, 90_000);
      const outputs = await s.output(out, 40, 90_000);

      assert.equal(outputs.length, 40);
      assert.deepEqual(outputs.map((r) => parse<{ i: number; doubled: number }>(r.value)).sort((a, b) => a.i - b.i), Array.from({ length: 40 }, (_, i) => ({ i, doubled: i * 2 })));
      assert.equal(await metrics.value(RECORDS_OUT_TOTAL, { stream: stream.name, topic: out }), 40);
      assert.equal(running.health().ok, true);
    });

    it('describe() lists sources, operators, sinks and dead-letter topics as JSON, text and Mermaid', () => {
      const top = topology('shop-enricher');
      top
        .stream('shop.orders', { name: 'orders', key: string(), value: json<{ total: number }>(), keyConcurrency: 4, exactlyOnce: true })
        .pipe(
          filter((r) => r.value!.total > 0),
          mapAsync(async (r) => ({ key: r.key, value: r.value })),
          toTopic('shop.big-orders', { key: string(), value: json<{ total: number }>() }),
          toCollection('orders', { filter: (r) => ({ id: r.key }), document: (r) => ({ total: r.value!.total }) }),
        );
      top.stream(['shop.customers', 'shop.addresses'], { name: 'people', key: string(), value: avro<{ id: string }>(), errors: 'skip' }).pipe(peek(() => undefined));
      top.stream('shop.payments', { key: string(), value: json<unknown>(), deadLetterTopic: 'shop.errors' }).pipe(mapValues((v) => v));

      const description = top.describe();
      const asJson = JSON.parse(JSON.stringify(description)) as ReturnType<typeof description.toJSON>;
      assert.equal(asJson.name, 'shop-enricher');
      const [orders, people, payments] = asJson.subTopologies;
      assert.deepEqual(orders?.sources, [{ topic: 'shop.orders', key: 'string', value: 'json' }]);
      assert.deepEqual(orders?.operators.map((o) => o.name), ['filter', 'mapAsync', 'toTopic', 'toCollection']);
      assert.deepEqual(orders?.sinks, [
        { kind: 'topic', name: 'shop.big-orders' },
        { kind: 'collection', name: 'orders' },
      ]);
      assert.deepEqual(orders?.deadLetterTopics, ['shop.orders.dlq']);
      assert.equal(orders?.groupId, 'shop-enricher.orders');
      assert.equal(orders?.keyConcurrency, 4);
      assert.equal(orders?.exactlyOnce, true);
      assert.deepEqual(people?.sources.map((src) => src.topic), ['shop.customers', 'shop.addresses']);
      assert.equal(people?.sources[0]?.value, 'avro');
      assert.deepEqual(people?.deadLetterTopics, [], "'skip' has no dead-letter topic");
      assert.deepEqual(people?.sinks, []);
      assert.equal(payments?.name, 'shop.payments');
      assert.deepEqual(payments?.deadLetterTopics, ['shop.errors']);

      const asText = description.toText();
      for (const line of [
        'Topology: shop-enricher',
        'Source: shop.orders',
        'decode --> filter --> mapAsync --> toTopic(shop.big-orders) --> toCollection(orders)',
        'Sink: topic shop.big-orders',
        'Sink: collection orders',
        'Errors: dead-letter --> shop.orders.dlq',
        'Source: shop.customers',
        'Source: shop.addresses',
        'Errors: skip',
        'Errors: dead-letter --> shop.errors',
        'exactly-once',
        'key concurrency 4',
      ]) {
        assert.ok(asText.includes(line), `text mentions "${line}":\n${asText}`);
      }

      const mermaid = description.toMermaid();
      assert.match(mermaid, /^flowchart LR/);
      for (const topic of ['shop.orders', 'shop.big-orders', 'shop.orders.dlq', 'shop.customers', 'shop.addresses', 'shop.payments', 'shop.errors']) {
        assert.ok(mermaid.includes(`[["${topic}"]]`), `Mermaid has a node for topic ${topic}`);
      }
      assert.ok(mermaid.includes('[("orders")]'), 'Mermaid has a node for the collection');
      assert.match(mermaid, /-\. errors \.-> topic_shop_orders_dlq/);
      assert.match(mermaid, /-\. errors \.-> topic_shop_errors/);
      assert.ok(!/errors \.-> topic_shop_customers_dlq/.test(mermaid), "no dead-letter edge for 'skip'");
      for (const op of ['filter', 'mapAsync', 'toTopic', 'toCollection', 'peek', 'mapValues']) assert.ok(mermaid.includes(`["${op}"]`), `Mermaid shows ${op}`);
    });
  });
}
