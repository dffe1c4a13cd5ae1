/**
 * Runs a topology on a transport: one consumer group per stream, partitions processed
 * concurrently, each partition's batches in order (see lane.ts). Exposes health, readiness and a
 * status snapshot for the ops server, and drains on stop. The steps of a start, each its own
 * function: select the streams, check what they need, open the shared resources, run the start
 * hooks, start each stream; a start that fails half-way releases what it opened.
 */
import { TributaryError } from '../../errors.js';
import type { HealthReport } from '../../ops/http-server.js';
import { createLogger, type Logger } from '../../ops/logger.js';
import { createMetrics, type Metrics } from '../../ops/metrics.js';
import type { DocumentStore } from '../../store/types.js';
import type { StreamDefinition } from '../definition.js';
import type { SchemaRegistryClient } from '../serdes/registry.js';
import type { Topology } from '../topology.js';
import type { ConsumerOptions, TransactionalProducer, Transport } from '../transport/types.js';
import { health, lag, readiness, setPaused, status, targets, type PartitionLag, type StreamStatus } from './controls.js';
import { systemClock, type Clock } from './clock.js';
import { DesiredState, type DesiredStateSource } from './desired-state.js';
import { checkRequirements } from './requirements.js';
import { startStream, type RunResources, type StreamState } from './stream-runner.js';

export type { PartitionLag, StreamStatus } from './controls.js';
export { targets } from './controls.js';

export interface RunOptions {
  readonly transport: Transport;
  readonly registry?: SchemaRegistryClient;
  readonly store?: DocumentStore;
  readonly metrics?: Metrics;
  readonly logger?: Logger;
  /** Largest record a sink may produce (default 1 000 000 bytes, under Kafka's default limit). */
  readonly maxMessageBytes?: number;
  /** Only run these streams: stream names or stages ('ingest' runs every stream of stage 'ingest'). */
  readonly only?: readonly string[];
  /** Consumer tuning shared by every stream (session timeout, fetch wait, batch bounds). */
  readonly consumer?: Partial<Omit<ConsumerOptions, 'groupId' | 'topics' | 'fromBeginning'>>;
  /**
   * Start with these streams paused (true: all; or targets as for `pause()`), e.g. the ingest stage
   * during an initial load, as Fast Data starts its single-view creators paused. `resume()` starts them.
   */
  readonly startPaused?: boolean | readonly string[];
  /** The clock retries wait on and operators stamp documents with (default: the wall clock; tests: `virtualClock()`). */
  readonly clock?: Clock;
  /**
   * Desired state shared by every instance and kept across restarts (e.g. `controlTopic(transport,
   * { topic: '<topology>.control' })`): replayed before the streams start, followed while they run;
   * `pause()`/`resume()` store into it. Without it a pause reaches this process only.
   */
  readonly desiredState?: DesiredStateSource;
}

export interface RunningTopology {
  readonly metrics: Metrics;
  health(): HealthReport;
  readiness(): HealthReport;
  status(): StreamStatus[];
  /**
   * Pauses every stream `target` names: a stream name, a stage ('ingest' = every stream of stage
   * 'ingest') or '*'. Their partitions stop fetching, including partitions assigned later; a batch
   * in flight finishes and commits; offsets stay. Returns the stream names; throws TRB_CONFIG when
   * nothing matches.
   */
  pause(target: string): string[];
  /** Resumes what `pause()` (or `startPaused`) paused; same targets. */
  resume(target: string): string[];
  /**
   * Lag of every stream's group on every partition of its topics, from the broker (not from the
   * last batch, so it keeps growing while a stream is paused). A partition the group never
   * committed counts from its low watermark.
   */
  lag(): Promise<PartitionLag[]>;
  stop(): Promise<void>;
}

export async function runTopology(topology: Topology, options: RunOptions): Promise<RunningTopology> {
  const logger = (options.logger ?? createLogger()).child({ topology: topology.name });
  const definitions = selectStreams(topology, options.only);
  checkRequirements(definitions, { registry: options.registry !== undefined, store: options.store !== undefined });
  const run = openRun(options, logger);
  const desired = options.desiredState ? new DesiredState(options.desiredState, logger) : undefined;
  try {
    await run.connect();
    await desired?.start();
    for (const hook of topology.startHooks()) await hook(options.store ? { store: options.store } : {});
    await run.openProducer();
    for (const definition of definitions) await startStream(definition, run.resources(), startsPaused(definition, options.startPaused) || desired?.pausedAtStart(definition) === true, run.states);
    desired?.follow(run.states);
  } catch (error) {
    await desired?.source.stop().catch(() => undefined);
    await run.release();
    throw error;
  }
  const stop = onceOnly(async () => {
    logger.info('stopping: draining in-flight batches');
    await Promise.all(
      run.states.map(async (s) => {
        await s.consumer.stop();
        s.stopped = true;
      }),
    );
    await desired?.source.stop();
    await run.close();
    logger.info('stopped');
  });
  const steer = (target: string, paused: boolean) => {
    const streams = setPaused(run.states, target, paused, logger);
    desired?.publish(target, paused);
    return streams;
  };
  return {
    metrics: run.metrics,
    lag: () => lag(run.states, options.transport.admin),
    stop,
    pause: (target) => steer(target, true),
    resume: (target) => steer(target, false),
    health: () => health(run.states),
    readiness: () => readiness(run.states),
    status: () => status(run.states),
  };
}

/** The streams `only` names (all without it); a run with none is a mistake. */
function selectStreams(topology: Topology, only: readonly string[] | undefined): StreamDefinition[] {
  const definitions = topology.streams().filter((s) => !only || only.some((o) => targets(o, s)));
  if (definitions.length === 0) throw new TributaryError('TRB_TOPOLOGY', `topology '${topology.name}' has no stream to run${only ? ` named by ${only.join(', ')}` : ''}`);
  return definitions;
}

function startsPaused(definition: StreamDefinition, startPaused: RunOptions['startPaused']): boolean {
  return startPaused === true || (Array.isArray(startPaused) && startPaused.some((t) => targets(t, definition)));
}

/** The clients one run shares (transport, store, producer, transactional producers) and the streams it started. */
function openRun(options: RunOptions, logger: Logger) {
  const { transport } = options;
  const metrics = options.metrics ?? createMetrics();
  const transactional = new Map<string, Promise<TransactionalProducer>>();
  const states: StreamState[] = [];
  let producer: Awaited<ReturnType<Transport['producer']>> | undefined;
  const disconnectTransactional = () => Promise.all([...transactional.values()].map((p) => p.then((t) => t.disconnect(), () => undefined)));
  return {
    metrics,
    states,
    async connect() {
      await transport.connect();
      if (options.store) await options.store.connect();
    },
    async openProducer() {
      producer = await transport.producer({ idempotent: true });
    },
    resources(): RunResources {
      return {
        transport,
        producer: producer as NonNullable<typeof producer>,
        metrics,
        logger,
        maxMessageBytes: options.maxMessageBytes ?? 1_000_000,
        clock: options.clock ?? systemClock,
        ...(options.registry ? { registry: options.registry } : {}),
        ...(options.store ? { store: options.store } : {}),
        ...(options.consumer ? { consumer: options.consumer } : {}),
        transactional(id) {
          let p = transactional.get(id);
          if (!p) {
            p = transport.transactionalProducer(id);
            p.catch(() => transactional.delete(id));
            transactional.set(id, p);
          }
          return p;
        },
      };
    },
    /** After a failed start: every error swallowed, or sockets would keep the process alive after the error was reported. */
    async release() {
      await Promise.all(states.map((s) => s.consumer.stop().catch(() => undefined)));
      await disconnectTransactional();
      await producer?.disconnect().catch(() => undefined);
      if (options.store) await options.store.close().catch(() => undefined);
      await transport.disconnect().catch(() => undefined);
    },
    /** After the streams stopped: failures surface to whoever stops. */
    async close() {
      await disconnectTransactional();
      await producer?.disconnect();
      if (options.store) await options.store.close();
      await transport.disconnect();
    },
  };
}

function onceOnly(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= fn());
}
