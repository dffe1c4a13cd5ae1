/**
 * One attempt at a batch — the records of one partition, or of several worked as one group, each
 * partition's in order: decode every record, run the stream's operators over the batch as a finite
 * Observable, and collect what must be produced (sink outputs and dead letters).
 * Nothing is produced or committed here; the lane does that once this resolves.
 */
import { ignoreElements, lastValueFrom } from 'rxjs';
import { TributaryError, failsTheBatch, toTributaryError, type ErrorCode } from '../../errors.js';
import type { Metrics } from '../../ops/metrics.js';
import type { DocumentStore } from '../../store/types.js';
import type { StreamDefinition } from '../definition.js';
import { isOperator, isPromiseLike, type OperatorContext } from '../operators/define.js';
import { decide, type ErrorDecision } from '../policy.js';
import { ORIGIN, originOf, type AnyRecord, type RecordOrigin } from '../record.js';
import type { SchemaRegistryClient } from '../serdes/registry.js';
import type { SerdeContext } from '../serdes/types.js';
import type { OutgoingMessage, RawBatch } from '../transport/types.js';
import type { Clock } from './clock.js';
import { deadLetter } from './dead-letter.js';
import { pipeline } from './pipeline.js';
import { underPolicy } from './plain-operator.js';

export interface BatchDeps {
  readonly definition: StreamDefinition;
  readonly clock: Clock;
  readonly registry?: SchemaRegistryClient;
  readonly store?: DocumentStore;
  readonly metrics: Metrics;
  readonly maxMessageBytes: number;
  /** Called for every error decision (the runtime logs it and keeps the last one for status). */
  onDecision(decision: ErrorDecision, error: TributaryError, origin: RecordOrigin): void;
}

/** Thrown when the policy says 'fail': the partition stops and health goes red. */
export class RecordFailedError extends TributaryError {
  constructor(readonly failure: TributaryError, readonly origin: RecordOrigin) {
    super(failure.code, `${failure.message} (${origin.topic}[${origin.partition}]@${origin.offset})`, {
      cause: failure,
      retriable: false,
      context: { topic: origin.topic, partition: origin.partition, offset: origin.offset },
    });
  }
}

/**
 * `deferDecisions`: count and report the policy's decisions only if the run completes. A group of
 * partitions (lane.ts) that meets a fatal record is worked again partition by partition, and each
 * decision must be counted once, by the run whose outputs are kept.
 */
/** What a batch's run leaves to do: records to produce, then work to finish before the commit. */
export interface BatchOutcome {
  readonly outputs: readonly OutgoingMessage[];
  /** Handed over by operators (`afterProduce`): run after the produce, before the commit, in order. */
  readonly afterProduce: ReadonlyArray<() => Promise<void>>;
}

export async function runBatch(batches: readonly RawBatch[], deps: BatchDeps, deferDecisions = false): Promise<BatchOutcome> {
  const { definition, metrics } = deps;
  const outputs: OutgoingMessage[] = [];
  const afterProduce: Array<() => Promise<void>> = [];
  const deferred: Array<() => void> = [];

  const reject = (origin: RecordOrigin, error: unknown, code: ErrorCode): void => {
    const failure = toTributaryError(error, code);
    const decision = decide(definition.errors, { stream: definition.name, code: failure.code, error: failure, origin });
    const report = () => {
      metrics.error(definition.name, failure.code, decision);
      deps.onDecision(decision, failure, origin);
      if (decision === 'dead-letter') metrics.deadLetter(definition.name, definition.deadLetterTopic(origin.topic), failure.code);
    };
    if (deferDecisions) deferred.push(report);
    else report();
    if (decision === 'fail') throw new RecordFailedError(failure, origin);
    if (decision === 'dead-letter') outputs.push(deadLetter(definition.deadLetterTopic(origin.topic), definition.name, origin, failure));
  };

  const context: OperatorContext = {
    stream: definition.name,
    keyConcurrency: definition.keyConcurrency,
    ...(deps.registry ? { registry: deps.registry } : {}),
    ...(deps.store ? { store: deps.store } : {}),
    reject: (record, error, code) => reject(originOf(record), error, code),
    emit(message) {
      const size = (message.key?.length ?? 0) + (message.value?.length ?? 0);
      if (size > deps.maxMessageBytes) {
        throw new TributaryError('TRB_TOO_LARGE', `record of ${size} bytes for ${message.topic} exceeds the ${deps.maxMessageBytes}-byte limit`);
      }
      outputs.push(message);
    },
    afterProduce: (work) => void afterProduce.push(work),
    now: () => deps.clock.now(),
    observeStoreWrite: (collection, seconds) => metrics.storeWrite(definition.name, collection, seconds),
    metrics,
  };

  const records: AnyRecord[] = [];
  for (const batch of batches) await decodeInto(records, batch, deps, reject);

  // Tributary operators apply the policy per record themselves; plain RxJS operators get it from underPolicy.
  const run = pipeline(definition, records, context, (op) => (isOperator(op) ? op.build(context) : underPolicy(op, context)));
  await lastValueFrom(run.pipe(ignoreElements()), { defaultValue: undefined });
  for (const report of deferred) report();
  return { outputs, afterProduce };
}

/** Decodes one partition's records onto `records`; a record that cannot be decoded goes to the policy. */
async function decodeInto(records: AnyRecord[], batch: RawBatch, deps: BatchDeps, reject: (origin: RecordOrigin, error: unknown, code: ErrorCode) => void): Promise<void> {
  const { definition } = deps;
  // One serde context per part for the whole batch (they only name the topic, the part and the registry).
  const keyContext: SerdeContext = { topic: batch.topic, part: 'key', ...(deps.registry ? { registry: deps.registry } : {}) };
  const valueContext: SerdeContext = { topic: batch.topic, part: 'value', ...(deps.registry ? { registry: deps.registry } : {}) };
  for (const message of batch.messages) {
    const origin: RecordOrigin = {
      topic: batch.topic,
      partition: batch.partition,
      offset: message.offset,
      timestamp: message.timestamp,
      rawKey: message.key,
      rawValue: message.value,
      headers: message.headers,
    };
    const size = (message.key?.length ?? 0) + (message.value?.length ?? 0);
    if (size > definition.maxRecordBytes) {
      reject(origin, new TributaryError('TRB_TOO_LARGE', `record of ${size} bytes on ${batch.topic} exceeds the stream's ${definition.maxRecordBytes}-byte limit (maxRecordBytes)`), 'TRB_TOO_LARGE');
      continue;
    }
    try {
      // Await only what is really asynchronous (a registry lookup): a synchronous serde costs no microtask.
      const keyResult = definition.key.deserialize(message.key, keyContext);
      const key = isPromiseLike(keyResult) ? await keyResult : keyResult;
      const valueResult = definition.value.deserialize(message.value, valueContext);
      const value = isPromiseLike(valueResult) ? await valueResult : valueResult;
      records.push({ topic: origin.topic, partition: origin.partition, offset: origin.offset, timestamp: origin.timestamp, key, value, headers: origin.headers, [ORIGIN]: origin });
    } catch (error) {
      const failure = toTributaryError(error, 'TRB_DECODE');
      if (failsTheBatch(failure)) throw failure; // registry unreachable (retried) or none configured (stops)
      reject(origin, failure, 'TRB_DECODE');
    }
  }
}
