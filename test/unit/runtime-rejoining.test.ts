/**
 * A member out of its group and joining again by itself (`onRejoining`, sent by the kafkajs
 * transport when it restarts a consumer kafkajs gave up on and by the platformatic transport when
 * it replaces its client): readiness goes down with the reason, the status says 'rejoining', the
 * assigned-partitions gauge drops to 0, and the next assignment brings all of it back. Driven
 * through startStream with a transport that hands its handlers to the test.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ASSIGNED_PARTITIONS } from '../../src/ops/metric-names.js';
import { createLogger } from '../../src/ops/logger.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { map } from '../../src/stream/operators/index.js';
import { systemClock } from '../../src/stream/runtime/clock.js';
import { readiness, status } from '../../src/stream/runtime/controls.js';
import { startStream, type StreamState } from '../../src/stream/runtime/stream-runner.js';
import { json, string } from '../../src/stream/serdes/index.js';
import { topology } from '../../src/stream/topology.js';
import type { ConsumerHandlers, TopicPartitions, Transport, TransportConsumer } from '../../src/stream/transport/types.js';

describe('stream runner: a member joining its group again', () => {
  it('is not ready, says why and owns no partition until it is assigned again', async () => {
    const t = topology('rejoin');
    t.stream('in', { name: 'in', key: string(), value: json<{ n: number }>() }).pipe(map((r) => r));
    let handlers: ConsumerHandlers | undefined;
    let owned: TopicPartitions[] = [];
    const consumer: TransportConsumer = {
      async run(h) {
        handlers = h;
      },
      pause: () => undefined,
      resume: () => undefined,
      paused: () => [],
      assignment: () => owned,
      stop: async () => undefined,
    };
    const transport = { consumer: () => consumer } as unknown as Transport;
    const metrics = createMetrics({ defaultMetrics: false });
    const states: StreamState[] = [];
    await startStream(
      t.streams()[0]!,
      {
        transport,
        producer: { send: async () => undefined } as never,
        metrics,
        logger: createLogger({ level: 'silent' }),
        maxMessageBytes: 1_000_000,
        clock: systemClock,
        transactional: () => Promise.reject(new Error('not used')),
      },
      false,
      states,
    );
    const assign = (partitions: number[]) => {
      owned = [{ topic: 'in', partitions }];
      handlers?.onAssigned?.(owned);
    };

    assign([0, 1]);
    assert.equal(readiness(states).ok, true);
    assert.equal(status(states)[0]?.state, 'running');
    assert.equal(await metrics.value(ASSIGNED_PARTITIONS, { stream: 'in' }), 2);

    handlers?.onRejoining?.('kafkajs gave up on the consumer (Failed to find group coordinator); restart 1 in 1000 ms');
    const down = readiness(states);
    assert.equal(down.ok, false);
    assert.equal(down.checks['in']?.detail, 'joining its consumer group again: kafkajs gave up on the consumer (Failed to find group coordinator); restart 1 in 1000 ms');
    assert.equal(status(states)[0]?.state, 'rejoining');
    assert.equal(await metrics.value(ASSIGNED_PARTITIONS, { stream: 'in' }), 0);

    assign([1]);
    assert.deepEqual(readiness(states), { ok: true, checks: { in: { ok: true } } });
    assert.equal(status(states)[0]?.state, 'running');
    assert.equal(await metrics.value(ASSIGNED_PARTITIONS, { stream: 'in' }), 1);
  });
});
