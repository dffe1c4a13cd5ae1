/**
 * The transport contract: what the runtime relies on from a broker, run unchanged against the
 * embedded broker (test/unit/transport-memory.test.ts) and real Kafka
 * (test/integration/transport-kafka.test.ts).
 *
 * `makeTransport` returns a new, unconnected Transport on every call; several calls stand for
 * several application instances talking to the same broker (the memory suite shares one
 * MemoryBroker between them). Topic and group names are unique per test.
 */
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { partitionFor } from '../../src/stream/transport/murmur2.js';
import type {
  BatchControl,
  ConsumerHandlers,
  ConsumerOptions,
  OutgoingMessage,
  RawBatch,
  TopicPartitionOffset,
  TopicPartitions,
  Transport,
  TransportConsumer,
} from '../../src/stream/transport/types.js';
import { uniqueName } from '../integration/services.js';
import { becomesTrue, committedToEnd, gate, headersAsText, offsetsSnapshot, sleep, waitFor } from './helpers.js';

export type MakeTransport = () => Transport;

type BatchResult = Awaited<ReturnType<ConsumerHandlers['onBatch']>>;
type BatchBehaviour = (batch: RawBatch, control: BatchControl, commit: TopicPartitionOffset) => Promise<BatchResult>;

interface Delivered {
  readonly member: string;
  readonly partition: number;
  readonly offset: bigint;
  readonly key: string | null;
  readonly value: string;
  readonly headers: Record<string, string>;
  /** Whether the transport handed the headers over frozen (a record's headers are read-only on every transport). */
  readonly headersFrozen: boolean;
  readonly timestamp: number;
}

/** One consumer-group member that records everything it is handed. */
class Member {
  readonly consumer: TransportConsumer;
  readonly batches: RawBatch[] = [];
  readonly delivered: Delivered[] = [];
  readonly assignments: Array<readonly TopicPartitions[]> = [];
  readonly committed: TopicPartitionOffset[] = [];
  readonly crashes: Error[] = [];
  stopped = false;

  constructor(
    readonly name: string,
    readonly transport: Transport,
    options: ConsumerOptions,
    private readonly behaviour: BatchBehaviour = async (_batch, _control, commit) => ({ commit }),
  ) {
    this.consumer = transport.consumer(options);
  }

  async start(): Promise<void> {
    await this.consumer.run({
      onBatch: async (batch, control) => {
        this.batches.push(batch);
        const last = batch.messages.at(-1);
        assert.ok(last, 'the transport never hands over an empty batch');
        const commit = { topic: batch.topic, partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() };
        const result = await this.behaviour(batch, control, commit);
        for (const m of batch.messages) {
          this.delivered.push({
            member: this.name,
            partition: batch.partition,
            offset: BigInt(m.offset),
            key: m.key === null ? null : m.key.toString('utf8'),
            value: m.value?.toString('utf8') ?? '',
            headers: headersAsText(m.headers),
            headersFrozen: Object.isFrozen(m.headers),
            timestamp: m.timestamp,
          });
        }
        return result;
      },
      onAssigned: (assignment) => void this.assignments.push(assignment),
      onCommitted: (offset) => void this.committed.push(offset),
      onCrash: (error) => void this.crashes.push(error),
    });
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.consumer.stop();
  }

  partitions(topic: string): number[] {
    return this.consumer.assignment().find((a) => a.topic === topic)?.partitions.slice().sort((a, b) => a - b) ?? [];
  }

  values(): string[] {
    return this.delivered.map((d) => d.value);
  }
}

interface Harness {
  transport(): Promise<Transport>;
  member(name: string, options: ConsumerOptions, behaviour?: BatchBehaviour): Promise<Member>;
  produce(messages: readonly OutgoingMessage[]): Promise<void>;
  readonly admin: Transport['admin'];
}

/**
 * Connected transports, members and a producer, all torn down after the test: members first (in
 * parallel: a Kafka member's stop waits out its fetch long-poll), then producers, then transports.
 */
async function harness(t: TestContext, makeTransport: MakeTransport): Promise<Harness> {
  const members: Member[] = [];
  const closers: Array<() => Promise<void>> = [];
  t.after(async () => {
    const results = await Promise.allSettled(members.map((m) => m.stop()));
    for (const close of closers.reverse()) results.push(...(await Promise.allSettled([close()])));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  });
  const transport = async () => {
    const created = makeTransport();
    closers.push(() => created.disconnect());
    await created.connect();
    return created;
  };
  const control = await transport();
  const producer = await control.producer({ idempotent: true });
  closers.push(() => producer.disconnect());
  return {
    transport,
    admin: control.admin,
    produce: (messages) => producer.send(messages),
    async member(name, options, behaviour) {
      const member = new Member(name, await transport(), options, behaviour);
      members.push(member);
      await member.start();
      return member;
    },
  };
}

/** Fast group membership on Kafka (ignored by the embedded broker). */
const tuning = { sessionTimeoutMs: 10_000, heartbeatIntervalMs: 500 } as const;

function byPartition(delivered: readonly Delivered[]): Map<number, Delivered[]> {
  const out = new Map<number, Delivered[]>();
  for (const d of delivered) out.set(d.partition, [...(out.get(d.partition) ?? []), d]);
  return out;
}

/** What a transport promises beyond the contract every one keeps. */
export interface TransportTraits {
  /** Records that arrive while a partition's batch is worked and its next one waits join that waiting batch (platformatic). */
  readonly topsUpWaitingBatch?: boolean;
}

export function transportContract(name: string, makeTransport: MakeTransport, traits: TransportTraits = {}): void {
  describe(`transport contract: ${name}`, () => {
    it('one send of 3 MB in many records (more than a broker accepts in one record batch) is delivered whole and in order', async (t) => {
      const h = await harness(t, makeTransport);
      const topic = uniqueName('tc-big-send');
      const groupId = uniqueName('g-big-send');
      await h.admin.createTopics([{ topic, partitions: 1 }]);
      const total = 3_000;
      const value = 'x'.repeat(1_000);
      // One call, one partition: with kafkajs this would be one record batch of ~3 MB, over the
      // broker's 1 MiB message.max.bytes, unless the transport splits the request.
      await h.produce(Array.from({ length: total }, (_, i) => ({ topic, key: Buffer.from(`k${i % 7}`), value: Buffer.from(`${i}:${value}`), partition: 0 })));
      const member = await h.member('a', { groupId, topics: [topic], ...tuning });
      await waitFor(`${total} records delivered`, () => member.delivered.length >= total, { detail: () => member.delivered.length });
      assert.deepEqual(member.delivered.map((d) => Number(d.value.split(':')[0])), Array.from({ length: total }, (_, i) => i), 'all, once, in order');
    });

    it('concurrent sends on one producer (the runtime shares one across its lanes) all land, once each, per-send order kept', async (t) => {
      const h = await harness(t, makeTransport);
      const topic = uniqueName('tc-concurrent');
      const groupId = uniqueName('g-concurrent');
      await h.admin.createTopics([{ topic, partitions: 3 }]);
      const sends = 12;
      const perSend = 50;
      // Every send writes to every partition at once, as six lanes' pr-updates do. (The platformatic
      // client gave concurrent sends to one partition the same idempotence sequence, and the broker
      // refused all but one with OUT_OF_ORDER_SEQUENCE_NUMBER.)
      await Promise.all(
        Array.from({ length: sends }, (_, s) => h.produce(Array.from({ length: perSend }, (_, i) => ({ topic, key: null, value: Buffer.from(`${s}:${i}`), partition: i % 3 })))),
      );
      const member = await h.member('a', { groupId, topics: [topic], ...tuning });
      await waitFor(`${sends * perSend} records delivered`, () => member.delivered.length >= sends * perSend, { detail: () => member.delivered.length });
      const values = member.values();
      assert.equal(values.length, sends * perSend, 'none lost, none doubled');
      assert.equal(new Set(values).size, values.length, 'no record delivered twice');
      for (const [, list] of byPartition(member.delivered)) {
        const lastOfSend = new Map<string, number>();
        for (const d of list) {
          const [send, i] = d.value.split(':') as [string, string];
          assert.ok((lastOfSend.get(send) ?? -1) < Number(i), `send ${send}: its records keep their order within a partition`);
          lastOfSend.set(send, Number(i));
        }
      }
    });

    it('delivers every record of a partition once, in offset order, with key, value, headers and timestamp intact', async (t) => {
      const h = await harness(t, makeTransport);
      const topic = uniqueName('tc-order');
      const groupId = uniqueName('g-order');
      await h.admin.createTopics([{ topic, partitions: 3 }]);
      const total = 300;
      const messages: OutgoingMessage[] = Array.from({ length: total }, (_, i) => ({
        topic,
        key: Buffer.from(`key-${i % 17}`),
        value: Buffer.from(`v-${i}`),
        headers: { n: String(i), kind: 'contract' },
        timestamp: 1_700_000_000_000 + i,
      }));
      // Several produce calls: order must hold across them too.
      for (let i = 0; i < total; i += 100) await h.produce(messages.slice(i, i + 100));

      const member = await h.member('a', { groupId, topics: [topic], ...tuning });
      await waitFor(`${total} records delivered`, () => member.delivered.length >= total, { detail: () => member.delivered.length });

      assert.deepEqual(member.partitions(topic), [0, 1, 2], 'a lone member owns every partition');
      assert.ok(member.assignments.length > 0, 'onAssigned was called');
      const values = member.values();
      assert.equal(new Set(values).size, values.length, 'no record delivered twice');
      assert.deepEqual([...values].sort(), messages.map((m) => m.value?.toString()).sort(), 'every record delivered');
      for (const [partition, list] of byPartition(member.delivered)) {
        assert.deepEqual(list.map((d) => d.offset), list.map((_, i) => BigInt(i)), `partition ${partition}: offsets 0..n-1 in order`);
        for (const d of list) {
          const i = Number(d.value.slice(2));
          assert.equal(d.key, `key-${i % 17}`);
          assert.equal(d.headers['n'], String(i));
          assert.equal(d.headers['kind'], 'contract');
          assert.ok(d.headersFrozen, 'headers handed over frozen');
          assert.equal(d.timestamp, 1_700_000_000_000 + i, 'producer timestamp kept');
          assert.equal(d.partition, partitionFor(Buffer.from(`key-${i % 17}`), 3, () => 0), 'keyed records land on the murmur2 partition (as Kafka\'s default partitioner)');
        }
        const seqOfKey = new Map<string, number>();
        for (const d of list) {
          const i = Number(d.value.slice(2));
          assert.ok((seqOfKey.get(d.key ?? '') ?? -1) < i, `per-key order kept for ${d.key}`);
          seqOfKey.set(d.key ?? '', i);
        }
      }
      await waitFor('the group committed every partition to its end', () => committedToEnd(h.admin, groupId, topic), {
        detail: () => offsetsSnapshot(h.admin, groupId, topic),
      });
      assert.ok(member.committed.length > 0, 'onCommitted reported the commits');
    });

    it('with one partition worked at a time, a partition with a backlog does not hold back the others', async (t) => {
      const h = await harness(t, makeTransport);
      const topic = uniqueName('tc-fair');
      const groupId = uniqueName('g-fair');
      await h.admin.createTopics([{ topic, partitions: 2 }]);
      const backlog = 200;
      // Sends of 5: Kafka hands over whole record batches, whatever the fetch size asks.
      for (let i = 0; i < backlog; i += 5) await h.produce(Array.from({ length: 5 }, (_, j) => ({ topic, partition: 0, key: null, value: Buffer.from(`p0-${i + j}`) })));
      await h.produce([{ topic, partition: 1, key: null, value: Buffer.from('p1-0') }]);
      // Small fetches and slow batches: partition 0 needs many batches, and its next one is always
      // fetched while one runs.
      const member = await h.member('a', { groupId, topics: [topic], partitionsConcurrently: 1, maxBytesPerPartition: 1_024, maxBatchRecords: 5, ...tuning }, async (_batch, _control, commit) => {
        await sleep(20);
        return { commit };
      });
      await waitFor(`${backlog + 1} records delivered`, () => member.delivered.length >= backlog + 1, { detail: () => member.delivered.length });
      const batchesOf = (partition: number) => member.batches.filter((b) => b.partition === partition).length;
      assert.ok(batchesOf(0) >= 4, `partition 0 came in several batches (${batchesOf(0)})`);
      const at = member.delivered.findIndex((d) => d.partition === 1);
      const before = member.delivered.slice(0, at).filter((d) => d.partition === 0).length;
      assert.ok(before < backlog, `partition 1's record was worked before partition 0's backlog was done (after ${before} of ${backlog})`);
    });

    it('a new member of the same group resumes at the committed offset and re-reads nothing before it', async (t) => {
      const h = await harness(t, makeTransport);
      const topic = uniqueName('tc-resume');
      const groupId = uniqueName('g-resume');
      await h.admin.createTopics([{ topic, partitions: 1 }]);
      await h.produce(Array.from({ length: 10 }, (_, i) => ({ topic, key: null, value: Buffer.from(`first-${i}`), partition: 0 })));

      const first = await h.member('first', { groupId, topics: [topic], ...tuning });
      await waitFor('first member committed offset 10', async () => (await h.admin.committedOffsets(groupId, topic)).some((o) => o.partition === 0 && o.offset === '10'));
      await first.stop();
      assert.equal(first.delivered.length, 10);

      await h.produce(Array.from({ length: 5 }, (_, i) => ({ topic, key: null, value: Buffer.from(`second-${i}`), partition: 0 })));
      const second = await h.member('second', { groupId, topics: [topic], ...tuning });
      await waitFor('second member got the 5 new records', () => second.delivered.length >= 5, { detail: () => second.values() });
      await waitFor('second member committed offset 15', async () => (await h.admin.committedOffsets(groupId, topic)).some((o) => o.partition === 0 && o.offset === '15'));
      assert.deepEqual(second.delivered.map((d) => d.offset), [10n, 11n, 12n, 13n, 14n], 'resumed exactly at the committed offset');
      assert.deepEqual(second.values(), ['second-0', 'second-1', 'second-2', 'second-3', 'second-4']);
    });

    it('a batch whose handler returns { commit: null } is delivered again', async (t) => {
      const h = await harness(t, makeTransport);
      const topic = uniqueName('tc-redeliver');
      const groupId = uniqueName('g-redeliver');
      await h.admin.createTopics([{ topic, partitions: 1 }]);
      await h.produce(Array.from({ length: 5 }, (_, i) => ({ topic, key: null, value: Buffer.from(`r-${i}`), partition: 0 })));

      let refused = 0;
      const member = await h.member('a', { groupId, topics: [topic], ...tuning }, async (_batch, _control, commit) => {
        if (refused < 2) {
          refused++;
          return { commit: null };
        }
        return { commit };
      });
      await waitFor('the group committed offset 5', async () => (await h.admin.committedOffsets(groupId, topic)).some((o) => o.offset === '5'), {
        detail: () => member.batches.map((b) => b.messages.map((m) => m.offset)),
      });
      assert.ok(member.batches.length >= 3, `refused twice, then accepted (${member.batches.length} deliveries)`);
      const firstOffsets = member.batches.slice(0, 3).map((b) => b.messages[0]?.offset);
      assert.deepEqual(firstOffsets, ['0', '0', '0'], 'each refused batch came back from its first offset');
      const all = member.values();
      for (let i = 0; i < 5; i++) assert.ok(all.includes(`r-${i}`), `r-${i} delivered`);
      assert.equal(all.filter((v) => v === 'r-0').length, 3, 'r-0 delivered once per attempt');
    });

    it(`records that arrive one by one while a batch is worked all come next, once and in order${traits.topsUpWaitingBatch ? ', in one batch' : ''}`, async (t) => {
      const h = await harness(t, makeTransport);
      const topic = uniqueName('tc-arrivals');
      const groupId = uniqueName('g-arrivals');
      await h.admin.createTopics([{ topic, partitions: 1 }]);
      const send = (i: number) => h.produce([{ topic, key: null, value: Buffer.from(`a-${i}`), partition: 0 }]);
      await send(0);
      const release = gate();
      let working = false;
      const member = await h.member('a', { groupId, topics: [topic], ...tuning }, async (batch, _control, commit) => {
        if (batch.messages[0]?.offset === '0') {
          working = true;
          await release.promise;
        }
        return { commit };
      });
      await waitFor('the first batch is being worked', () => working);
      // a-1 becomes the waiting batch; a-2 and a-3 arrive after it, each on its own, while a-0 is still worked.
      for (let i = 1; i <= 3; i++) {
        await send(i);
        await sleep(i === 1 ? 300 : i === 2 ? 100 : 1_000);
      }
      release.open();
      await waitFor('4 records delivered', () => member.delivered.length >= 4, { detail: () => member.values() });
      await sleep(200);
      assert.deepEqual(member.values(), ['a-0', 'a-1', 'a-2', 'a-3'], 'each once, in offset order');
      if (traits.topsUpWaitingBatch) {
        assert.deepEqual(member.batches.map((b) => b.messages.map((m) => m.value?.toString())), [['a-0'], ['a-1', 'a-2', 'a-3']], 'what arrived during the first batch came as one batch');
      }
    });

    it('stop() lets an in-flight batch finish, commits it, and only then leaves', async (t) => {
      const h = await harness(t, makeTransport);
      const topic = uniqueName('tc-drain');
      const groupId = uniqueName('g-drain');
      await h.admin.createTopics([{ topic, partitions: 1 }]);
      await h.produce(Array.from({ length: 10 }, (_, i) => ({ topic, key: null, value: Buffer.from(`d-${i}`), partition: 0 })));

      const release = gate();
      let inFlight = false;
      let runningAfterStop: boolean | undefined;
      let handedBack: string | undefined;
      const member = await h.member('a', { groupId, topics: [topic], ...tuning }, async (_batch, control, commit) => {
        inFlight = true;
        await release.promise;
        runningAfterStop = control.isRunning();
        handedBack = commit.offset;
        return { commit };
      });
      await waitFor('a batch is in flight', () => inFlight);
      const stopping = member.stop();
      await sleep(50);
      release.open();
      await stopping;

      assert.equal(runningAfterStop, false, 'control.isRunning() is false once stop() was called');
      assert.ok(handedBack, 'the batch finished');
      assert.deepEqual(member.committed.map((c) => c.offset), [handedBack], 'onCommitted reported the drained batch');
      const committed = await h.admin.committedOffsets(groupId, topic);
      assert.equal(committed.find((o) => o.partition === 0)?.offset, handedBack, 'the drained batch\'s offset is committed on the broker');
    });

    it('two members of one group share the partitions; when one stops the other takes them over and nothing is lost', async (t) => {
      const h = await harness(t, makeTransport);
      const topic = uniqueName('tc-group');
      const groupId = uniqueName('g-group');
      const partitions = 4;
      await h.admin.createTopics([{ topic, partitions }]);

      // Never may one partition be processed by two members at the same time.
      const inFlight = new Map<number, string>();
      const overlaps: string[] = [];
      let phase = 1;
      const blockA = gate();
      let aBlocked = false;
      const behaviour = (name: string): BatchBehaviour => async (batch, _control, commit) => {
        const other = inFlight.get(batch.partition);
        if (other !== undefined) overlaps.push(`partition ${batch.partition}: ${name} started while ${other} was in flight`);
        inFlight.set(batch.partition, name);
        try {
          if (name === 'a' && phase === 2) {
            aBlocked = true;
            await blockA.promise;
          }
          await sleep(5);
        } finally {
          if (inFlight.get(batch.partition) === name) inFlight.delete(batch.partition);
        }
        return { commit };
      };
      const options = { groupId, topics: [topic], ...tuning };
      const a = await h.member('a', options, behaviour('a'));
      await waitFor('a owns every partition', () => a.partitions(topic).length === partitions);
      const b = await h.member('b', options, behaviour('b'));
      await waitFor('a and b share the partitions', () => {
        const pa = a.partitions(topic);
        const pb = b.partitions(topic);
        return pa.length > 0 && pb.length > 0 && pa.length + pb.length === partitions && pa.every((p) => !pb.includes(p));
      }, { timeoutMs: 60_000, detail: () => ({ a: a.partitions(topic), b: b.partitions(topic) }) });
      const aOwned = a.partitions(topic);

      const batch = (from: number, n: number): OutgoingMessage[] =>
        Array.from({ length: n }, (_, i) => ({ topic, key: null, value: Buffer.from(`g-${from + i}`), partition: (from + i) % partitions }));
      await h.produce(batch(0, 200));
      const seen = () => new Set([...a.values(), ...b.values()]);
      await waitFor('phase 1: 200 records delivered', () => seen().size >= 200, { detail: () => seen().size });
      assert.ok(a.delivered.length > 0 && b.delivered.length > 0, `both members consumed (a ${a.delivered.length}, b ${b.delivered.length})`);

      // Phase 2: a is stopped while one of its batches is in flight.
      phase = 2;
      await h.produce(batch(200, 200));
      await waitFor('a has a batch in flight', () => aBlocked);
      const stopping = a.stop();
      // A correct transport cannot hand a's partitions to b before a's batch finished; give a wrong
      // one the chance to do so before releasing it.
      await becomesTrue(() => b.partitions(topic).length > partitions - aOwned.length, 1_500);
      blockA.open();
      await stopping;

      await waitFor('b owns every partition', () => b.partitions(topic).length === partitions, { timeoutMs: 60_000, detail: () => b.partitions(topic) });
      await h.produce(batch(400, 100));
      await waitFor('all 500 records delivered', () => seen().size >= 500, { timeoutMs: 60_000, detail: () => seen().size });
      await waitFor('the group committed every partition to its end', () => committedToEnd(h.admin, groupId, topic), {
        detail: () => offsetsSnapshot(h.admin, groupId, topic),
      });

      const expected = Array.from({ length: 500 }, (_, i) => `g-${i}`);
      assert.deepEqual([...seen()].sort(), expected.sort(), 'nothing lost');
      assert.deepEqual(overlaps, [], 'no partition was processed by two members at once');
      const bTook = b.delivered.filter((d) => aOwned.includes(d.partition) && Number(d.value.slice(2)) >= 200);
      assert.ok(bTook.length > 0, 'b processed records of the partitions a had owned');
      for (const [partition, list] of byPartition([...a.delivered, ...b.delivered])) {
        for (const member of ['a', 'b']) {
          const offsets = list.filter((d) => d.member === member).map((d) => d.offset);
          assert.deepEqual(offsets, [...offsets].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)), `partition ${partition}, member ${member}: offset order`);
        }
      }
      assert.deepEqual(a.crashes, []);
      assert.deepEqual(b.crashes, []);
    });

    it('pause stops batches of a partition and resume restarts them', async (t) => {
      const h = await harness(t, makeTransport);
      const topic = uniqueName('tc-pause');
      const groupId = uniqueName('g-pause');
      await h.admin.createTopics([{ topic, partitions: 2 }]);
      const member = await h.member('a', { groupId, topics: [topic], ...tuning });
      await waitFor('both partitions assigned', () => member.partitions(topic).length === 2);

      member.consumer.pause([{ topic, partitions: [0] }]);
      assert.deepEqual(member.consumer.paused(), [{ topic, partitions: [0] }], 'paused() lists the paused partition');
      const to = (partition: number, from: number, n: number): OutgoingMessage[] =>
        Array.from({ length: n }, (_, i) => ({ topic, key: null, value: Buffer.from(`p${partition}-${from + i}`), partition }));
      await h.produce([...to(0, 0, 5), ...to(1, 0, 5)]);
      const count = (p: number) => member.delivered.filter((d) => d.partition === p).length;
      await waitFor('partition 1 delivered while 0 is paused', () => count(1) >= 5);
      await h.produce(to(1, 5, 5));
      await waitFor('partition 1 delivered again', () => count(1) >= 10);
      assert.equal(count(0), 0, 'no batch of the paused partition');

      member.consumer.resume([{ topic, partitions: [0] }]);
      assert.deepEqual(member.consumer.paused().flatMap((p) => p.partitions), [], 'nothing paused after resume');
      await waitFor('partition 0 delivered after resume', () => count(0) >= 5, { detail: () => member.values() });
      assert.deepEqual(member.delivered.filter((d) => d.partition === 0).map((d) => d.value), ['p0-0', 'p0-1', 'p0-2', 'p0-3', 'p0-4']);
    });

    it('transactionalProducer.sendAndCommit makes its output visible and commits the offsets', async (t) => {
      const h = await harness(t, makeTransport);
      const input = uniqueName('tc-tx-in');
      const output = uniqueName('tc-tx-out');
      const groupId = uniqueName('g-tx');
      // One input partition: a transactional producer is used by one partition's batches, one
      // after another, as the runtime uses it (one producer per partition).
      await h.admin.createTopics([
        { topic: input, partitions: 1 },
        { topic: output, partitions: 1 },
      ]);
      await h.produce(Array.from({ length: 20 }, (_, i) => ({ topic: input, key: Buffer.from(`k${i}`), value: Buffer.from(`tx-${i}`) })));

      const txTransport = await h.transport();
      const tx = await txTransport.transactionalProducer(uniqueName('txid'));
      const worker = await h.member('tx', { groupId, topics: [input], readCommitted: true, ...tuning }, async (batch, _control, commit) => {
        await tx.sendAndCommit(batch.messages.map((m) => ({ topic: output, key: m.key, value: m.value, partition: 0 })), groupId, [commit]);
        return { commit, transactional: true };
      });
      await waitFor('input offsets committed by the transactions', () => committedToEnd(h.admin, groupId, input), {
        timeoutMs: 60_000,
        detail: () => offsetsSnapshot(h.admin, groupId, input),
      });
      assert.deepEqual(worker.committed, [], 'onCommitted is not called for transactional commits');

      const reader = await h.member('reader', { groupId: uniqueName('g-tx-read'), topics: [output], readCommitted: true, ...tuning });
      await waitFor('20 transactional records readable', () => reader.delivered.length >= 20, { timeoutMs: 60_000, detail: () => reader.delivered.length });
      assert.deepEqual(reader.values().sort(), Array.from({ length: 20 }, (_, i) => `tx-${i}`).sort());

      // A new member of the same group resumes after the transactional commit: nothing re-read.
      await worker.stop();
      const again = await h.member('again', { groupId, topics: [input], readCommitted: true, ...tuning });
      await waitFor('the new member is assigned', () => again.partitions(input).length === 1);
      await h.produce([{ topic: input, key: null, value: Buffer.from('after'), partition: 0 }]);
      await waitFor('the new member got the new record', () => again.delivered.length >= 1);
      assert.deepEqual(again.values(), ['after'], 'nothing before the transactional commit was re-read');
    });

    it('createTopics leaves an existing topic as it is, also when instances create it at the same time', async (t) => {
      const h = await harness(t, makeTransport);
      const topic = uniqueName('tc-create');
      // Two instances starting together (a deployment of two replicas) both find the topic missing
      // (two clients: one client's admin requests may travel one after the other).
      const other = await h.transport();
      await Promise.all([h.admin.createTopics([{ topic, partitions: 2 }]), other.admin.createTopics([{ topic, partitions: 2 }])]);
      await h.admin.createTopics([{ topic, partitions: 5 }]);
      assert.equal(await h.admin.partitionCount(topic), 2, 'created once, left as it was');
    });

    it('admin reports topic offsets, partition counts and committed offsets', async (t) => {
      const h = await harness(t, makeTransport);
      const topic = uniqueName('tc-admin');
      const groupId = uniqueName('g-admin');
      await h.admin.createTopics([{ topic, partitions: 3 }]);
      assert.equal(await h.admin.partitionCount(topic), 3);
      const empty = (await h.admin.topicOffsets(topic)).sort((x, y) => x.partition - y.partition);
      assert.deepEqual(empty.map((o) => [o.partition, o.low, o.high]), [[0, '0', '0'], [1, '0', '0'], [2, '0', '0']]);
      const none = await h.admin.committedOffsets(groupId, topic);
      assert.ok(none.every((o) => o.offset === '-1'), `no commits yet: ${JSON.stringify(none)}`);

      await h.produce([
        ...Array.from({ length: 5 }, (_, i) => ({ topic, key: null, value: Buffer.from(`a${i}`), partition: 0 })),
        ...Array.from({ length: 2 }, (_, i) => ({ topic, key: null, value: Buffer.from(`c${i}`), partition: 2 })),
      ]);
      const offsets = (await h.admin.topicOffsets(topic)).sort((x, y) => x.partition - y.partition);
      assert.deepEqual(offsets.map((o) => [o.partition, o.low, o.high]), [[0, '0', '5'], [1, '0', '0'], [2, '0', '2']]);

      // Commit only partition 0, up to offset 3 (the handler decides what to commit); pause each
      // partition after its first delivery so nothing is handed over again.
      const member = await h.member('a', { groupId, topics: [topic], ...tuning }, async (batch, control) => {
        control.pause();
        return batch.partition === 0 ? { commit: { topic, partition: 0, offset: '3' } } : { commit: null };
      });
      await waitFor('offset 3 committed on partition 0', async () => (await h.admin.committedOffsets(groupId, topic)).some((o) => o.partition === 0 && o.offset === '3'));
      await member.stop();
      const committed = (await h.admin.committedOffsets(groupId, topic)).sort((x, y) => x.partition - y.partition);
      assert.equal(committed.find((o) => o.partition === 0)?.offset, '3');
      for (const p of [1, 2]) {
        const entry = committed.find((o) => o.partition === p);
        assert.ok(entry === undefined || entry.offset === '-1', `partition ${p} has no commit (${JSON.stringify(entry)})`);
      }
    });
  });
}
