/**
 * One stream of a running topology: its consumer group member, the state the controls and the
 * health checks read (joined, retrying partitions, failure, operator pause), and the handlers that
 * turn the consumer's events into lane runs, metrics and log lines.
 *
 *   consumer batch  --onBatch-->  (held while paused by the operator)  --processLane-->  { commit }
 *   batches of several partitions at once  --gather-->  processGroup  --> a commit for each
 */
import { TributaryError } from '../../errors.js';
import type { Logger } from '../../ops/logger.js';
import type { Metrics } from '../../ops/metrics.js';
import type { DocumentStore } from '../../store/types.js';
import type { StreamDefinition } from '../definition.js';
import type { SchemaRegistryClient } from '../serdes/registry.js';
import { DEFAULT_MAX_BATCH_RECORDS, type ConsumerOptions, type RawBatch, type TransactionalProducer, type Transport, type TransportConsumer, type TransportProducer } from '../transport/types.js';
import type { Clock } from './clock.js';
import { batchGatherer } from './gather.js';
import { processGroup, processLane, type LaneDeps, type LaneMember, type LaneResult } from './lane.js';
import { sleepWhile } from './retry.js';

export interface StreamState {
  readonly definition: StreamDefinition;
  readonly consumer: TransportConsumer;
  joined: boolean;
  /** Why the member is out of its group and joining again by itself (cleared by the next assignment). */
  rejoining?: string;
  /** `topic:partition` of the partitions a lane keeps paused while it retries a transient fault. */
  readonly retrying: Set<string>;
  failed?: TributaryError;
  lastError?: { code: string; message: string; at: string };
  readonly highWatermarks: Map<string, bigint>;
  stopped: boolean;
  pausedByOperator: boolean;
}

/** What every stream of one run shares. */
export interface RunResources {
  readonly transport: Transport;
  readonly producer: TransportProducer;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly registry?: SchemaRegistryClient;
  readonly store?: DocumentStore;
  readonly maxMessageBytes: number;
  readonly clock: Clock;
  readonly consumer?: Partial<Omit<ConsumerOptions, 'groupId' | 'topics' | 'fromBeginning'>>;
  /** One transactional producer per exactly-once partition, opened on first use. */
  transactional(id: string): Promise<TransactionalProducer>;
}

const tp = (topic: string, partition: number) => `${topic}:${partition}`;

/** Joins the stream's consumer group and starts processing; resolves once the consumer runs. */
export async function startStream(definition: StreamDefinition, run: RunResources, startPaused: boolean, states: StreamState[]): Promise<StreamState> {
  const consumer = run.transport.consumer({ ...run.consumer, groupId: definition.groupId, topics: definition.topics, fromBeginning: definition.fromBeginning });
  const state: StreamState = { definition, consumer, joined: false, retrying: new Set(), highWatermarks: new Map(), stopped: false, pausedByOperator: startPaused };
  states.push(state); // before run(): a start that fails later still stops this consumer
  const { metrics } = run;
  const log = run.logger.child({ stream: definition.name });
  const remember = (error: TributaryError) => {
    state.lastError = { code: error.code, message: error.message, at: new Date().toISOString() };
  };
  const deps = laneDeps(state, run, log, remember);
  const maxBatchRecords = run.consumer?.maxBatchRecords ?? DEFAULT_MAX_BATCH_RECORDS;
  // Exactly-once streams commit each partition in its own transaction: they are never combined.
  const gatherer = (run.consumer?.combinePartitions ?? true) && !definition.exactlyOnce ? batchGatherer(maxBatchRecords, (members) => workTogether(members, deps)) : undefined;

  await consumer.run({
    onAssigned(assignment) {
      state.joined = true;
      state.rejoining = undefined;
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
    onNotice(message) {
      log.warn(message);
    },
    onRejoining(reason) {
      state.joined = false;
      state.rejoining = reason;
      metrics.assignedPartitions(definition.name, 0);
      log.warn({ reason }, 'out of the consumer group, joining again');
    },
    async onBatch(batch, control) {
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
      let result: LaneResult = { commit: null };
      // A fetched batch is worked in chunks of at most maxBatchRecords: Kafka returns whole record
      // batches whatever the fetch size asks (a producer's batch can hold thousands of records), and
      // a batch's decoded records, plans and outputs are what a catching-up worker's memory is made
      // of. Each chunk is durable before the next starts; the batch is committed after the last. A
      // chunk that is not committed makes the whole batch come again (the chunks before it replay:
      // their writes are idempotent). Exactly-once streams take the batch whole (one transaction
      // per chunk would commit offsets the consumer's position does not know).
      if (gatherer && batch.messages.length > 0 && batch.messages.length <= maxBatchRecords) {
        result = await gatherer({ batch, control });
      } else {
        for (const chunk of chunksOf(batch, definition.exactlyOnce ? Number.POSITIVE_INFINITY : maxBatchRecords)) {
          result = await processLane(chunk, control, deps);
          if (!result.commit) break;
        }
      }
      metrics.batch(definition.name, batch.messages.length, (performance.now() - started) / 1000);
      return result;
    },
  });
  return state;
}

/** One partition's batch alone, or several as one group; a group a fatal record stops is worked again partition by partition. */
async function workTogether(members: readonly LaneMember[], deps: LaneDeps): Promise<readonly LaneResult[]> {
  if (members.length === 1) {
    const { batch, control } = members[0] as LaneMember;
    return [await processLane(batch, control, deps)];
  }
  const results = await processGroup(members, deps);
  if (results !== 'split') return results;
  return Promise.all(members.map(({ batch, control }) => processLane(batch, control, deps)));
}

/** What a lane needs for the batches of this stream, and how its events land in state, metrics and logs. */
function laneDeps(state: StreamState, run: RunResources, log: Logger, remember: (error: TributaryError) => void): LaneDeps {
  const { definition, consumer } = state;
  return {
    definition,
    clock: run.clock,
    metrics: run.metrics,
    producer: run.producer,
    maxMessageBytes: run.maxMessageBytes,
    ...(run.registry ? { registry: run.registry } : {}),
    ...(run.store ? { store: run.store } : {}),
    ...(definition.exactlyOnce ? { transactional: (topic: string, partition: number) => run.transactional(`${definition.groupId}.${topic}.${partition}`) } : {}),
    onDecision(decision, error, origin) {
      remember(error);
      const fields = { decision, code: error.code, topic: origin.topic, partition: origin.partition, offset: origin.offset };
      if (decision === 'skip') log.warn(fields, `record skipped: ${error.message}`);
      else if (decision === 'dead-letter') log.warn(fields, `record dead-lettered: ${error.message}`);
      else log.error(fields, `record failed the stream: ${error.message}`);
    },
    onRetry(error, attempt, delayMs, batches) {
      remember(error);
      const where = batches.length === 1 ? { topic: batches[0]?.topic, partition: batches[0]?.partition } : { partitions: batches.map((b) => tp(b.topic, b.partition)) };
      log.warn({ code: error.code, attempt, delayMs, ...where }, `transient failure, retrying: ${error.message}`);
    },
    onFatal(error, batch) {
      state.failed = error;
      remember(error);
      log.error({ code: error.code, topic: batch.topic, partition: batch.partition }, `partition stopped: ${error.message}`);
    },
    onPaused(paused, batch) {
      const key = tp(batch.topic, batch.partition);
      if (paused) state.retrying.add(key);
      else state.retrying.delete(key);
      run.metrics.pausedPartitions(definition.name, consumer.paused().reduce((n, a) => n + a.partitions.length, 0));
    },
  };
}

function chunksOf(batch: RawBatch, size: number): RawBatch[] {
  if (batch.messages.length <= size) return [batch];
  const chunks: RawBatch[] = [];
  for (let start = 0; start < batch.messages.length; start += size) chunks.push({ ...batch, messages: batch.messages.slice(start, start + size) });
  return chunks;
}
