/**
 * A fetched batch larger than `consumer.maxBatchRecords` is worked in chunks (Kafka hands over whole
 * record batches whatever the fetch size asks, and a batch's decoded records are what a catching-up
 * worker's memory is made of): every chunk is worked and produced before the next, the batch is
 * committed once, after the last, and nothing is lost or doubled. Embedded engine, a transport
 * whose consumer hands over 1 200 records in one batch.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mergeMap, tap, toArray } from 'rxjs';
import { createMetrics } from '../../src/ops/metrics.js';
import { createLogger } from '../../src/ops/logger.js';
import { runTopology } from '../../src/stream/runtime/runner.js';
import { string } from '../../src/stream/serdes/string.js';
import { toTopic } from '../../src/stream/operators/to-topic.js';
import { topology } from '../../src/stream/topology.js';
import { MemoryBroker, memoryTransport } from '../../src/stream/transport/memory/memory-transport.js';
import type { Transport } from '../../src/stream/transport/types.js';

/** The memory transport, but its consumers fetch up to 10 000 records per batch whatever the runtime asks. */
function bigBatches(broker: MemoryBroker): Transport {
  const inner = memoryTransport(broker);
  return { ...inner, kind: inner.kind, admin: inner.admin, connect: () => inner.connect(), disconnect: () => inner.disconnect(), producer: (o) => inner.producer(o), transactionalProducer: (id) => inner.transactionalProducer(id), consumer: (options) => inner.consumer({ ...options, maxBatchRecords: 10_000 }) };
}

describe('runtime: a large fetched batch is worked in chunks', () => {
  it('1 200 records in one batch, maxBatchRecords 500: chunks of 500, 500, 200, each produced; one commit at 1 200', async () => {
    const broker = new MemoryBroker();
    broker.append(Array.from({ length: 1_200 }, (_, i) => ({ topic: 'in', key: null, value: Buffer.from(String(i)), partition: 0 })));
    const chunks: number[] = [];
    const t = topology('chunks');
    t.stream('in', { key: string(), value: string(), name: 'in' }).pipe(
      (source) => source.pipe(toArray(), tap((records) => chunks.push(records.length)), mergeMap((records) => records)),
      toTopic('out', { key: string(), value: string() }),
    );
    const running = await runTopology(t, { transport: bigBatches(broker), metrics: createMetrics({ defaultMetrics: false }), logger: createLogger({ level: 'silent' }), consumer: { maxBatchRecords: 500 } });
    try {
      const deadline = Date.now() + 10_000;
      while ((await memoryTransport(broker).admin.committedOffsets('chunks.in', 'in')).find((o) => o.partition === 0)?.offset !== '1200') {
        assert.ok(Date.now() < deadline, 'the batch was committed at 1200');
        await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      await running.stop();
    }
    assert.deepEqual(chunks, [500, 500, 200]);
    const out = broker.partitions('out').flat().map((m) => Number(m.value?.toString()));
    assert.deepEqual(out.sort((a, b) => a - b), Array.from({ length: 1_200 }, (_, i) => i), 'every record produced once');
  });
});
