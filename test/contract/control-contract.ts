/**
 * The shared, durable desired state (src/stream/runtime/desired-state.ts on a control topic,
 * src/stream/control/control-topic.ts): a pause set through one instance of a topology reaches the
 * others; a restarted instance starts as the stored state says; an explicit startPaused still wins
 * at start; an entry naming no stream of an instance does nothing there. Run on the embedded broker
 * (test/unit/control-topic.test.ts) and on Kafka (test/integration/control-topic-kafka.test.ts).
 */
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { controlTopic } from '../../src/stream/control/control-topic.js';
import { createLogger } from '../../src/ops/logger.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { peek } from '../../src/stream/operators/index.js';
import { runTopology, type RunningTopology } from '../../src/stream/runtime/runner.js';
import { string } from '../../src/stream/serdes/index.js';
import { topology } from '../../src/stream/topology.js';
import type { OutgoingMessage, Transport } from '../../src/stream/transport/types.js';
import { uniqueName } from '../integration/services.js';
import { cleanups, waitFor } from './helpers.js';

export interface ControlEnv {
  /** A new transport for one instance (the runtime disconnects it when stopped). */
  transport(): Transport;
  produce(messages: readonly OutgoingMessage[]): Promise<void>;
  createTopics(topics: readonly { topic: string; partitions: number }[]): Promise<void>;
}

const logger = createLogger({ level: process.env['LOG_LEVEL'] ?? 'silent' });

export function controlContract(name: string, makeEnv: () => ControlEnv): void {
  describe(`desired state on a control topic: ${name}`, () => {
    /** One instance of a two-stream topology (stages ingest and trigger); counts what each stream saw. */
    const instance = async (t: TestContext, env: ControlEnv, names: { topology: string; a: string; b: string }, startPaused?: boolean) => {
      const seen = { ingest: 0, trigger: 0 };
      const top = topology(names.topology);
      top.stream(names.a, { key: string(), value: string(), name: 'ingest:a', stage: 'ingest' }).pipe(peek(() => void seen.ingest++));
      top.stream(names.b, { key: string(), value: string(), name: 'trigger:b', stage: 'trigger' }).pipe(peek(() => void seen.trigger++));
      const transport = env.transport();
      const running: RunningTopology = await runTopology(top, {
        transport,
        logger,
        metrics: createMetrics({ defaultMetrics: false }),
        desiredState: controlTopic(transport, { topic: `${names.topology}.control` }),
        consumer: { sessionTimeoutMs: 10_000, heartbeatIntervalMs: 500 },
        ...(startPaused ? { startPaused } : {}),
      });
      let stopped = false;
      const stop = async () => {
        if (!stopped) await running.stop();
        stopped = true;
      };
      cleanups(t)(stop);
      const paused = (stream: string) => running.status().find((s) => s.name === stream)?.pausedByOperator;
      return { running, seen, paused, stop };
    };

    it('a pause set through one instance reaches the others, and a resume too', async (t) => {
      const env = makeEnv();
      const names = { topology: uniqueName('ctl-shared'), a: uniqueName('ctl-a'), b: uniqueName('ctl-b') };
      await env.createTopics([{ topic: names.a, partitions: 2 }, { topic: names.b, partitions: 2 }]);
      const one = await instance(t, env, names);
      const two = await instance(t, env, names);
      assert.deepEqual(one.running.pause('ingest'), ['ingest:a']);
      await waitFor('the other instance paused ingest:a', () => two.paused('ingest:a') === true);
      assert.equal(two.paused('trigger:b'), false, 'what the target does not name keeps running');
      two.running.resume('*');
      await waitFor('the first instance resumed everything', () => one.paused('ingest:a') === false && one.paused('trigger:b') === false);
    });

    it('a restarted instance starts as the stored state says: paused streams take nothing until resumed', async (t) => {
      const env = makeEnv();
      const names = { topology: uniqueName('ctl-restart'), a: uniqueName('ctl-a'), b: uniqueName('ctl-b') };
      await env.createTopics([{ topic: names.a, partitions: 1 }, { topic: names.b, partitions: 1 }]);
      const first = await instance(t, env, names);
      first.running.pause('ingest');
      first.running.resume('ingest:a'); // the latest entry naming a stream decides
      first.running.pause('trigger');
      await waitFor('both entries stored and seen back', () => first.paused('trigger:b') === true);
      await first.stop();

      const again = await instance(t, env, names);
      assert.equal(again.paused('ingest:a'), false, 'resume ingest:a came after pause ingest');
      assert.equal(again.paused('trigger:b'), true, 'trigger starts paused after the restart');
      await env.produce([{ topic: names.a, key: Buffer.from('k'), value: Buffer.from('x') }, { topic: names.b, key: Buffer.from('k'), value: Buffer.from('y') }]);
      await waitFor('ingest:a processed its record', () => again.seen.ingest === 1);
      assert.equal(again.seen.trigger, 0, 'the paused stream took nothing');
      again.running.resume('trigger');
      await waitFor('trigger:b processed its record after resume', () => again.seen.trigger === 1);
    });

    it('startPaused wins at start over a stored resume; an entry naming no stream here does nothing', async (t) => {
      const env = makeEnv();
      const names = { topology: uniqueName('ctl-start'), a: uniqueName('ctl-a'), b: uniqueName('ctl-b') };
      await env.createTopics([{ topic: names.a, partitions: 1 }, { topic: names.b, partitions: 1 }]);
      const first = await instance(t, env, names);
      first.running.resume('*');
      first.running.pause('trigger:b');
      await waitFor('stored', () => first.paused('trigger:b') === true);
      await first.stop();
      const paused = await instance(t, env, names, true);
      assert.equal(paused.paused('ingest:a'), true, 'startPaused: every stream starts paused');
      assert.equal(paused.paused('trigger:b'), true);
      // Another instance, of other streams, stores a target this one does not have, then a resume of ingest:a.
      const transport = env.transport();
      const writer = controlTopic(transport, { topic: `${names.topology}.control` });
      await writer.start(() => undefined);
      await writer.publish('aggregate', true);
      await writer.publish('ingest:a', false);
      await writer.stop();
      await transport.disconnect();
      await waitFor('the resume reached the paused instance', () => paused.paused('ingest:a') === false);
      assert.equal(paused.running.health().ok, true, 'an entry naming no local stream is no error');
      assert.equal(paused.paused('trigger:b'), true, 'what the entry does not name stays as it was');
    });
  });
}
