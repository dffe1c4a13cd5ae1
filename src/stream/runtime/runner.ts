/**
 * Runs a topology on a transport: one consumer group per stream, partitions processed
 * concurrently, each partition's batches in order (see lane.ts). Exposes health, readiness and a
 * status snapshot for the ops server, and drains on stop.
 */
import { TributaryError } from '../../errors.js';
import type { Logger } from '../../ops/logger.js';
import { createLogger } from '../../ops/logger.js';
import type { HealthReport } from '../../ops/http-server.js';
import { createMetrics, type Metrics } from '../../ops/metrics.js';
import type { DocumentStore } from '../../store/types.js';
import type { SchemaRegistryClient } from '../serdes/registry.js';
import type { StreamDefinition, Topology } from '../topology.js';
import type { ConsumerOptions, RawBatch, TopicPartitions, TransactionalProducer, Transport, TransportConsumer, TransportProducer } from '../transport/types.js';
import { processLane } from './lane.js';
import { sleepWhile } from './retry.js';

export interface RunOptions {
  readonly transport: Transport;
  readonly registry?: SchemaRegistryClient;
  readonly store?: DocumentStore;
  readonly metrics?: Metrics;
  readonly logger?: Logger;
  /** Largest record a sink may produce (default 1 000 000 bytes, under Kafka's default limit). */
  readonly maxMessageBytes?: number;
  /** Only run these streams: a stream name, or a stage prefix ('ingest' runs every 'ingest:…' stream). */
  readonly only?: readonly string[];
  /** Consumer tuning shared by every stream (session timeout, fetch wait, batch bounds). */
  readonly consumer?: Partial<Omit<ConsumerOptions, 'groupId' | 'topics' | 'fromBeginning'>>;
  /**
   * Start with these streams paused (true: all; or targets as for `pause()`), e.g. the ingest stage
   * during an initial load, as Fast Data starts its single-view creators paused. `resume()` starts them.
   */
  readonly startPaused?: boolean | readonly string[];
}

export interface StreamStatus {
  readonly name: string;
  readonly groupId: string;
  readonly state: 'starting' | 'running' | 'retrying' | 'failed' | 'stopped';
  readonly assigned: TopicPartitions[];
  readonly paused: TopicPartitions[];
  /** Paused by `pause()` (as opposed to partitions paused while a transient fault is retried). */
  readonly pausedByOperator: boolean;
  readonly lastError?: { code: string; message: string; at: string };
}

export interface RunningTopology {
  readonly metrics: Metrics;
  health(): HealthReport;
  readiness(): HealthReport;
  status(): StreamStatus[];
  /**
   * Pauses every stream `target` names: a stream name, a stage ('ingest' = every 'ingest:…'
   * stream) or '*'. Their partitions stop fetching, including partitions assigned later; a batch
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

export interface PartitionLag {
  readonly stream: string;
  readonly topic: string;
  readonly partition: number;
  /** Committed offset, or null when the group has none for this partition. */
  readonly committed: string | null;
  readonly end: string;
  readonly lag: number;
}

interface StreamState {
  definition: StreamDefinition;
  consumer: TransportConsumer;
  joined: boolean;
  retrying: Set<string>;
  failed?: TributaryError;
  lastError?: { code: string; message: string; at: string };
  highWatermarks: Map<string, bigint>;
  stopped: boolean;
  pausedByOperator: boolean;
}

/** Whether a pause/resume target names this stream: itself, its stage, or '*'. */
export function targets(target: string, streamName: string): boolean {
  return target === '*' || streamName === target || streamName.startsWith(`${target}:`);
}

export async function runTopology(topology: Topology, options: RunOptions): Promise<RunningTopology> {
  const { transport } = options;
  const metrics = options.metrics ?? createMetrics();
  const logger = (options.logger ?? createLogger()).child({ topology: topology.name });
  const maxMessageBytes = options.maxMessageBytes ?? 1_000_000;
  const selected = (name: string) => !options.only || options.only.some((o) => name === o || name.startsWith(`${o}:`));
  const definitions = topology.streams().filter((s) => selected(s.name));
  if (definitions.length === 0) throw new TributaryError('TRB_TOPOLOGY', `topology '${topology.name}' has no stream to run`);
  // Without this every record of such a stream would fail to decode: a setup error, not bad input.
  const needRegistry = options.registry ? [] : definitions.filter((d) => d.key.needsRegistry === true || d.value.needsRegistry === true);
  if (needRegistry.length > 0) {
    const which = needRegistry.map((d) => `${d.name} (${d.topics.join(', ')})`).join('; ');
    throw new TributaryError('TRB_CONFIG', `no schema registry, but these streams read Avro: ${which}; set SCHEMA_REGISTRY_URL or pass registry`, { context: { streams: needRegistry.map((d) => d.name) } });
  }

  const transactional = new Map<string, Promise<TransactionalProducer>>();
  const states: StreamState[] = [];
  let producer: TransportProducer | undefined;
  // A start that fails half-way (bad credentials, a missing topic) releases what it opened, or its
  // sockets would keep the process alive after the error was reported.
  const release = async () => {
    await Promise.all(states.map((s) => s.consumer.stop().catch(() => undefined)));
    await Promise.all([...transactional.values()].map((p) => p.then((t) => t.disconnect(), () => undefined)));
    await producer?.disconnect().catch(() => undefined);
    if (options.store) await options.store.close().catch(() => undefined);
    await transport.disconnect().catch(() => undefined);
  };
  try {
    await transport.connect();
    if (options.store) await options.store.connect();
    for (const hook of topology.startHooks()) await hook(options.store ? { store: options.store } : {});
    producer = await transport.producer({ idempotent: true });
    await startStreams(producer);
  } catch (error) {
    await release();
    throw error;
  }

  async function startStreams(producer: TransportProducer): Promise<void> {
    for (const definition of definitions) {
      const consumer = transport.consumer({ ...options.consumer, groupId: definition.groupId, topics: definition.topics, fromBeginning: definition.fromBeginning });
      const startPaused = options.startPaused === true || (Array.isArray(options.startPaused) && options.startPaused.some((t) => targets(t, definition.name)));
      const state: StreamState = { definition, consumer, joined: false, retrying: new Set(), highWatermarks: new Map(), stopped: false, pausedByOperator: startPaused };
      states.push(state);
      const log = logger.child({ stream: definition.name });
      const tp = (topic: string, partition: number) => `${topic}:${partition}`;
      const remember = (error: TributaryError) => {
        state.lastError = { code: error.code, message: error.message, at: new Date().toISOString() };
      };

      await consumer.run({
        onAssigned(assignment) {
          state.joined = true;
          // A pause outlives rebalances: newly assigned partitions start paused too.
          if (state.pausedByOperator && assignment.some((a) => a.partitions.length > 0)) consumer.pause(assignment);
          metrics.assignedPartitions(definition.name, assignment.reduce((n, a) => n + a.partitions.length, 0));
          log.info({ assignment }, 'partitions assigned');
        },
        onRevoked(assignment) {
          for (const { topic, partitions } of assignment) for (const p of partitions) metrics.clearLag(definition.name, topic, p);
        },
        onCommitted(offset, seconds) {
          metrics.commit(definition.name, seconds);
          const high = state.highWatermarks.get(tp(offset.topic, offset.partition));
          if (high !== undefined) metrics.lag(definition.name, offset.topic, offset.partition, Number(high - BigInt(offset.offset)));
        },
        onCrash(error) {
          state.failed = new TributaryError('TRB_CONNECT', `consumer crashed: ${error.message}`, { cause: error, retriable: false });
          remember(state.failed);
          log.error({ err: error }, 'consumer crashed');
        },
        async onBatch(batch: RawBatch, control) {
          if (state.pausedByOperator) {
            // Fetched before the pause reached the consumer: hold it, unprocessed and uncommitted.
            control.pause();
            while (state.pausedByOperator && control.isRunning()) await sleepWhile(3_000, () => !state.pausedByOperator || !control.isRunning(), () => control.heartbeat());
            if (!control.isRunning()) return { commit: null };
            control.resume();
          }
          const started = performance.now();
          state.highWatermarks.set(tp(batch.topic, batch.partition), BigInt(batch.highWatermark));
          metrics.recordsIn(definition.name, batch.topic, batch.messages.length);
          const result = await processLane(batch, control, {
            definition,
            metrics,
            producer,
            maxMessageBytes,
            ...(options.registry ? { registry: options.registry } : {}),
            ...(options.store ? { store: options.store } : {}),
            ...(definition.exactlyOnce
              ? {
                  transactional(topic: string, partition: number) {
                    const id = `${definition.groupId}.${topic}.${partition}`;
                    let p = transactional.get(id);
                    if (!p) {
                      p = transport.transactionalProducer(id);
                      p.catch(() => transactional.delete(id));
                      transactional.set(id, p);
                    }
                    return p;
                  },
                }
              : {}),
            onDecision(decision, error, origin) {
              remember(error);
              const fields = { decision, code: error.code, topic: origin.topic, partition: origin.partition, offset: origin.offset };
              if (decision === 'skip') log.warn(fields, `record skipped: ${error.message}`);
              else if (decision === 'dead-letter') log.warn(fields, `record dead-lettered: ${error.message}`);
              else log.error(fields, `record failed the stream: ${error.message}`);
            },
            onRetry(error, attempt, delayMs) {
              remember(error);
              log.warn({ code: error.code, attempt, delayMs, topic: batch.topic, partition: batch.partition }, `transient failure, retrying: ${error.message}`);
            },
            onFatal(error) {
              state.failed = error;
              remember(error);
              log.error({ code: error.code, topic: batch.topic, partition: batch.partition }, `partition stopped: ${error.message}`);
            },
            onPaused(paused) {
              const key = tp(batch.topic, batch.partition);
              if (paused) state.retrying.add(key);
              else state.retrying.delete(key);
              metrics.pausedPartitions(definition.name, consumer.paused().reduce((n, a) => n + a.partitions.length, 0));
            },
          });
          metrics.batch(definition.name, batch.messages.length, (performance.now() - started) / 1000);
          return result;
        },
      });
    }

  }

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      logger.info('stopping: draining in-flight batches');
      await Promise.all(states.map(async (s) => {
        await s.consumer.stop();
        s.stopped = true;
      }));
      await Promise.all([...transactional.values()].map((p) => p.then((t) => t.disconnect(), () => undefined)));
      await producer?.disconnect();
      if (options.store) await options.store.close();
      await transport.disconnect();
      logger.info('stopped');
    })();
    return stopping;
  };

  const select = (target: string): StreamState[] => {
    const matched = states.filter((s) => targets(target, s.definition.name));
    if (matched.length === 0) {
      throw new TributaryError('TRB_CONFIG', `no stream matches '${target}' (streams: ${states.map((s) => s.definition.name).join(', ')}; or a stage, or '*')`);
    }
    return matched;
  };
  const setPaused = (target: string, paused: boolean): string[] =>
    select(target).map((s) => {
      s.pausedByOperator = paused;
      if (paused) s.consumer.pause(s.consumer.assignment());
      else s.consumer.resume(withoutRetrying(s.consumer.assignment(), s.retrying));
      logger.info({ stream: s.definition.name }, paused ? 'paused by operator' : 'resumed by operator');
      return s.definition.name;
    });

  const lag = async (): Promise<PartitionLag[]> => {
    const out: PartitionLag[] = [];
    for (const s of states) {
      for (const topic of s.definition.topics) {
        const [ends, commits] = await Promise.all([transport.admin.topicOffsets(topic), transport.admin.committedOffsets(s.definition.groupId, topic)]);
        const committed = new Map(commits.map((c) => [c.partition, c.offset]));
        for (const e of ends) {
          const at = committed.get(e.partition);
          const known = at !== undefined && BigInt(at) >= 0n;
          out.push({ stream: s.definition.name, topic, partition: e.partition, committed: known ? at : null, end: e.high, lag: Number(BigInt(e.high) - (known ? BigInt(at) : BigInt(e.low))) });
        }
      }
    }
    return out;
  };

  return {
    metrics,
    lag,
    stop,
    pause: (target) => setPaused(target, true),
    resume: (target) => setPaused(target, false),
    health(): HealthReport {
      const checks = Object.fromEntries(states.map((s) => [s.definition.name, s.failed ? { ok: false, detail: `${s.failed.code}: ${s.failed.message}` } : { ok: true }]));
      return { ok: states.every((s) => !s.failed), checks };
    },
    readiness(): HealthReport {
      const checks = Object.fromEntries(
        states.map((s) => {
          if (s.failed) return [s.definition.name, { ok: false, detail: `failed: ${s.failed.code}` }];
          if (s.stopped) return [s.definition.name, { ok: false, detail: 'stopped' }];
          if (!s.joined) return [s.definition.name, { ok: false, detail: 'not yet assigned partitions' }];
          return [s.definition.name, { ok: true }];
        }),
      );
      return { ok: Object.values(checks).every((c) => c.ok), checks };
    },
    status: () =>
      states.map((s) => ({
        name: s.definition.name,
        groupId: s.definition.groupId,
        state: s.stopped ? 'stopped' : s.failed ? 'failed' : !s.joined ? 'starting' : s.retrying.size > 0 ? 'retrying' : 'running',
        assigned: s.consumer.assignment(),
        paused: s.consumer.paused(),
        pausedByOperator: s.pausedByOperator,
        ...(s.lastError ? { lastError: s.lastError } : {}),
      })),
  };
}

/** The assignment minus the partitions a lane keeps paused while it retries (it resumes them itself). */
function withoutRetrying(assignment: readonly TopicPartitions[], retrying: ReadonlySet<string>): TopicPartitions[] {
  return assignment.map((a) => ({ topic: a.topic, partitions: a.partitions.filter((p) => !retrying.has(`${a.topic}:${p}`)) })).filter((a) => a.partitions.length > 0);
}
