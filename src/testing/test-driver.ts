/**
 * Runs a topology on the embedded broker, store and registry, with no network: pipe records in,
 * wait until every stream has committed everything, read output topics and inspect the store.
 * With a virtual clock (`clock: virtualClock(t0)`) the run is deterministic in time: piped records
 * carry the clock's time, documents and events are stamped with it, and a retry backoff waits until
 * the test advances the clock (`driver.clock.advance(ms)`).
 *
 *   const driver = await TestDriver.start(t);
 *   await driver.pipeInput('shop.orders', [{ key: 'o-1', value: { total: 10 } }], { value: json() });
 *   await driver.idle();
 *   const out = await driver.readOutput('shop.big-orders', { value: json<Order>() });
 */
import { TributaryError } from '../errors.js';
import { createLogger, type Logger } from '../ops/logger.js';
import { createMetrics } from '../ops/metrics.js';
import { MemoryDocumentStore } from '../store/memory/memory-store.js';
import type { DocumentStore } from '../store/types.js';
import { systemClock, type Clock } from '../stream/runtime/clock.js';
import { runTopology, type RunningTopology } from '../stream/runtime/runner.js';
import { memoryRegistry, type SchemaRegistryClient } from '../stream/serdes/registry.js';
import type { Serde } from '../stream/serdes/types.js';
import type { Topology } from '../stream/topology.js';
import { MemoryBroker, memoryTransport } from '../stream/transport/memory/memory-transport.js';
import type { Headers } from '../stream/transport/types.js';

export interface TestDriverOptions {
  /** Partitions per topic, created before the topology starts (default: 1 for unlisted topics). */
  readonly partitions?: Readonly<Record<string, number>>;
  readonly registry?: SchemaRegistryClient;
  readonly store?: DocumentStore;
  readonly logger?: Logger;
  readonly broker?: MemoryBroker;
  /** Start with these streams paused (see RunOptions.startPaused); `driver.running.resume()` starts them. */
  readonly startPaused?: boolean | readonly string[];
  /** The run's clock (default the wall clock); `virtualClock(t0)` makes time a test input. */
  readonly clock?: Clock;
}

export interface InputRecord<K, V> {
  readonly key: K;
  readonly value: V;
  readonly headers?: Headers;
  readonly partition?: number;
  /** Record timestamp (default: the driver's clock). */
  readonly timestamp?: number;
}

export interface OutputRecord<K, V> {
  readonly key: K;
  readonly value: V;
  readonly headers: Headers;
  readonly partition: number;
  readonly offset: string;
}

export class TestDriver {
  private constructor(
    readonly topology: Topology,
    readonly broker: MemoryBroker,
    readonly registry: SchemaRegistryClient,
    readonly store: DocumentStore,
    readonly running: RunningTopology,
    readonly clock: Clock,
  ) {}

  static async start(topology: Topology, options: TestDriverOptions = {}): Promise<TestDriver> {
    const broker = options.broker ?? new MemoryBroker();
    for (const [topic, n] of Object.entries(options.partitions ?? {})) broker.createTopic(topic, n);
    const registry = options.registry ?? memoryRegistry();
    const store = options.store ?? new MemoryDocumentStore();
    const clock = options.clock ?? systemClock;
    const running = await runTopology(topology, {
      clock,
      transport: memoryTransport(broker),
      registry,
      store,
      metrics: createMetrics({ defaultMetrics: false }),
      logger: options.logger ?? createLogger({ level: process.env.LOG_LEVEL ?? 'silent' }),
      ...(options.startPaused !== undefined ? { startPaused: options.startPaused } : {}),
    });
    return new TestDriver(topology, broker, registry, store, running, clock);
  }

  async pipeInput<K, V>(topic: string, records: ReadonlyArray<InputRecord<K, V>>, serdes: { key?: Serde<K>; value: Serde<V> }): Promise<void> {
    const context = { topic, registry: this.registry };
    const messages = [];
    for (const r of records) {
      const key = serdes.key ? await serdes.key.serialize(r.key, { ...context, part: 'key' }) : r.key === null || r.key === undefined ? null : Buffer.from(typeof r.key === 'string' ? r.key : JSON.stringify(r.key));
      const value = await serdes.value.serialize(r.value, { ...context, part: 'value' });
      messages.push({ topic, key, value, timestamp: r.timestamp ?? this.clock.now(), ...(r.headers ? { headers: r.headers } : {}), ...(r.partition !== undefined ? { partition: r.partition } : {}) });
    }
    this.broker.append(messages);
  }

  /** Raw bytes, for poison records. */
  pipeRaw(topic: string, records: ReadonlyArray<{ key: Buffer | null; value: Buffer | null; headers?: Headers; partition?: number; timestamp?: number }>): void {
    this.broker.append(records.map((r) => ({ topic, timestamp: this.clock.now(), ...r })));
  }

  async readOutput<K, V>(topic: string, serdes: { key?: Serde<K>; value: Serde<V> }): Promise<Array<OutputRecord<K, V>>> {
    const out: Array<OutputRecord<K, V>> = [];
    const context = { topic, registry: this.registry };
    for (const [partition, log] of this.broker.partitions(topic).entries()) {
      for (const m of log) {
        const key = serdes.key ? await serdes.key.deserialize(m.key, { ...context, part: 'key' }) : (m.key?.toString('utf8') as K);
        out.push({ key, value: await serdes.value.deserialize(m.value, { ...context, part: 'value' }), headers: m.headers, partition, offset: m.offset });
      }
    }
    return out;
  }

  /** Waits until every stream committed all its input, or throws if a stream failed or time ran out. */
  async idle(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const health = this.running.health();
      const streams = this.topology.streams();
      const lag = streams.reduce((n, s) => n + this.broker.lag(s.groupId, s.topics), 0);
      const ready = this.running.readiness().ok;
      if (lag === 0 && ready) return;
      if (!health.ok) {
        throw new TributaryError('TRB_PROCESS', `a stream failed while ${lag} records were pending: ${JSON.stringify(health.checks)}`);
      }
      if (Date.now() > deadline) throw new TributaryError('TRB_ABORTED', `not idle after ${timeoutMs} ms: ${lag} records not committed`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  close(): Promise<void> {
    return this.running.stop();
  }
}
