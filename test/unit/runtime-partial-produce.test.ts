/**
 * A produce that fails after the broker acknowledged part of it (a leader killed mid-send) is
 * retried for the rest only, and the batch's work is not run again (src/stream/runtime/lane.ts,
 * src/stream/transport/partial-send.ts): three failed attempts in a row publish each record once.
 * A failure that says nothing of what it wrote (kafkajs's own) re-sends every record of the send;
 * the Kafka transports' pieces that tell which records were acknowledged are checked without a
 * broker (platformatic's `produced.offsets`, requests of at most maxRequestBytes).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { map } from 'rxjs';
import { TributaryError } from '../../src/errors.js';
import { createLogger } from '../../src/ops/logger.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { runTopology } from '../../src/stream/runtime/runner.js';
import { string } from '../../src/stream/serdes/string.js';
import { toTopic } from '../../src/stream/operators/to-topic.js';
import { topology } from '../../src/stream/topology.js';
import { MemoryBroker, memoryTransport } from '../../src/stream/transport/memory/memory-transport.js';
import { chunksOf, markWritten, sendInChunks, writtenBy } from '../../src/stream/transport/partial-send.js';
import { acknowledgedIndices, producedPartitions } from '../../src/stream/transport/platformatic/acknowledged.js';
import type { OutgoingMessage, Transport } from '../../src/stream/transport/types.js';

/**
 * The memory transport, but its producer's first `failures` sends write only the records at even
 * indices and then fail: marked with those (`marked`), or saying nothing.
 */
function halfWritingProducer(broker: MemoryBroker, failures: number, marked: boolean): Transport & { readonly sends: number[][] } {
  const inner = memoryTransport(broker);
  const sends: number[][] = [];
  let failing = failures;
  return {
    ...inner,
    kind: inner.kind,
    sends,
    async producer() {
      return {
        async send(messages: readonly OutgoingMessage[]) {
          sends.push(messages.map((m) => Number(m.value?.toString())));
          if (failing-- <= 0) return broker.append(messages);
          const written = new Set(messages.map((_, i) => i).filter((i) => i % 2 === 0));
          if (marked) broker.append(messages.filter((_, i) => written.has(i)));
          const error = new TributaryError('TRB_PRODUCE', 'cannot produce: leader not available');
          throw marked ? markWritten(error, written) : error;
        },
        disconnect: async () => undefined,
      };
    },
  };
}

async function run(transport: Transport, broker: MemoryBroker, records: number): Promise<{ out: number[]; worked: number }> {
  broker.append(Array.from({ length: records }, (_, i) => ({ topic: 'in', key: null, value: Buffer.from(String(i)), partition: 0 })));
  let worked = 0;
  const t = topology('partial');
  t.stream('in', { key: string(), value: string(), name: 'in', retry: { initialMs: 1, maxMs: 5 } }).pipe(
    map((record) => {
      worked++;
      return record;
    }),
    toTopic('out', { key: string(), value: string() }),
  );
  const running = await runTopology(t, { transport, metrics: createMetrics({ defaultMetrics: false }), logger: createLogger({ level: 'silent' }) });
  try {
    const deadline = Date.now() + 10_000;
    while ((await memoryTransport(broker).admin.committedOffsets('partial.in', 'in')).find((o) => o.partition === 0)?.offset !== String(records)) {
      assert.ok(Date.now() < deadline, `the batch was committed at ${records}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  } finally {
    await running.stop();
  }
  return { out: broker.partitions('out').flat().map((m) => Number(m.value?.toString())), worked };
}

describe('runtime: a produce the broker acknowledged in part', () => {
  it('three failed attempts that each wrote every other record: each retry sends only the rest, each record is published once, the batch is worked once', async () => {
    const broker = new MemoryBroker();
    const transport = halfWritingProducer(broker, 3, true);
    const { out, worked } = await run(transport, broker, 8);
    assert.deepEqual([...out].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7], 'every record once');
    assert.equal(worked, 8, 'the batch was not worked again for a failed produce');
    assert.deepEqual(transport.sends, [[0, 1, 2, 3, 4, 5, 6, 7], [1, 3, 5, 7], [3, 7], [7]]);
  });

  it('a failure that does not say what it wrote: the whole send again, the batch still worked once', async () => {
    const broker = new MemoryBroker();
    const transport = halfWritingProducer(broker, 2, false);
    const { out, worked } = await run(transport, broker, 4);
    assert.deepEqual(out, [0, 1, 2, 3]);
    assert.equal(worked, 4);
    assert.deepEqual(transport.sends, [[0, 1, 2, 3], [0, 1, 2, 3], [0, 1, 2, 3]]);
  });
});

describe('partial sends: which records a failed send wrote', () => {
  const message = (topic: string, bytes: number): OutgoingMessage => ({ topic, key: null, value: Buffer.alloc(bytes) });

  it('requests of at most maxRequestBytes: a failed request marks every record of the requests before it, and its own acknowledged ones', async () => {
    const messages = Array.from({ length: 6 }, () => message('t', 436)); // 500 bytes each with the record overhead
    assert.deepEqual(chunksOf(messages, 1_000).map((c) => c.length), [2, 2, 2]);
    let request = 0;
    const failure = await sendInChunks(messages, 1_000, async () => {
      if (++request === 2) throw markWritten(new TributaryError('TRB_PRODUCE', 'leader gone'), new Set([1]));
    }).then(() => undefined, (error: unknown) => error);
    assert.ok(failure instanceof TributaryError);
    assert.deepEqual([...writtenBy(failure)].sort(), [0, 1, 3], 'the first request, and the second one of the failed request');
    assert.equal(request, 2, 'no request after the failed one');
  });

  it('an error nobody marked wrote nothing known', async () => {
    assert.equal(writtenBy(new Error('x')).size, 0);
    assert.equal(writtenBy(undefined).size, 0);
    const failure = await sendInChunks([message('t', 1)], 1_000, () => Promise.reject(new TributaryError('TRB_PRODUCE', 'x'))).catch((error: unknown) => error);
    assert.equal(writtenBy(failure).size, 0);
  });

  it('@platformatic/kafka: records whose partition (the partitioner\'s choice modulo the count) is in produced.offsets', () => {
    const written = producedPartitions(Object.assign(new Error('Producing messages failed.'), { produced: { offsets: [{ topic: 'a', partition: 0, offset: 10n }, { topic: 'b', partition: 2, offset: 3n }] } }));
    assert.deepEqual([...written].sort(), ['a/0', 'b/2']);
    const sent = [{ topic: 'a' }, { topic: 'a' }, { topic: 'b' }, { topic: 'b' }, { topic: 'c' }];
    const placed = [3, 4, 5, 7, 0]; // a has 3 partitions: 3→0, 4→1; b has 3: 5→2, 7→1; c unknown
    const counts: Record<string, number> = { a: 3, b: 3 };
    assert.deepEqual([...acknowledgedIndices(sent, written, (i) => placed[i], (topic) => counts[topic])], [0, 2]);
    assert.equal(producedPartitions(new Error('no answer at all')).size, 0);
    assert.equal(acknowledgedIndices(sent, new Set(), (i) => placed[i], () => 3).size, 0);
  });
});
