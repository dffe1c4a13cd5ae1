/**
 * The one helper every Tributary operator is built on. An operator is a plain RxJS
 * `OperatorFunction` (so it composes with any RxJS operator) that also carries:
 *  - `info`, for `describe()`: its name, and every topic and collection it writes or reads and
 *    what it needs from the runtime (a store, a registry), so a description is complete by
 *    construction and a missing store or registry is refused when the topology starts;
 *  - `build(context)`, which the runtime calls once per batch to hand it the batch context
 *    (error policy, output buffer, store, key concurrency). Used directly as a function, outside a
 *    runtime, an operator gets a standalone context where a failure simply throws.
 * Operators that work a whole batch at once (store sinks, the Fast Data stages) are built on
 * `defineBatchOperator` (batch.ts), itself built on this.
 */
import type { Observable, OperatorFunction } from 'rxjs';
import { failsTheBatch, toTributaryError, TributaryError, type ErrorCode } from '../../errors.js';
import type { AnyRecord } from '../record.js';
import type { OutgoingMessage } from '../transport/types.js';
import type { SchemaRegistryClient } from '../serdes/registry.js';
import type { DocumentStore } from '../../store/types.js';
import type { MetricsSink } from '../../ops/metrics.js';

export type OperatorKind = 'transform' | 'filter' | 'effect' | 'sink';

/** A topic or a collection an operator writes. */
export interface OperatorOutput {
  readonly kind: 'topic' | 'collection';
  readonly name: string;
}

/** What an operator needs from the runtime; a topology whose operators need what the run lacks does not start. */
export interface OperatorNeeds {
  readonly store?: boolean;
  readonly registry?: boolean;
}

export interface OperatorInfo {
  readonly name: string;
  readonly kind: OperatorKind;
  /** Every topic and collection the operator writes (a sink's target, retry topics, error collections). */
  readonly writes?: readonly OperatorOutput[];
  /** Collections the operator reads. */
  readonly reads?: readonly string[];
  readonly needs?: OperatorNeeds;
}

export interface OperatorContext {
  readonly stream: string;
  /** Records with different keys processed at once by async operators (1 = strictly sequential). */
  readonly keyConcurrency: number;
  readonly registry?: SchemaRegistryClient;
  readonly store?: DocumentStore;
  /**
   * Applies the stream's error policy to one failed record. Returns normally when the record was
   * dead-lettered or skipped (the operator drops it); throws when the policy is to fail.
   */
  reject(record: AnyRecord, error: unknown, code: ErrorCode): void;
  /** Queues a record for the batch's single produce call (sent before the commit). */
  emit(message: OutgoingMessage): void;
  /**
   * Work that must be durable before the batch commits but need not hold back its records: run
   * once the batch's records are acknowledged by the broker (in a transaction: before it commits),
   * in the order given; a failure retries what is left of it, not the batch. Absent when the
   * operator runs standalone (there is no produce: the work runs at the end of the batch).
   */
  afterProduce?(work: () => Promise<void>): void;
  /** The run's clock, in ms since the epoch (virtual under a TestDriver given a virtual clock). */
  now(): number;
  /** Reports time spent writing to a collection (for metrics). */
  observeStoreWrite(collection: string, seconds: number): void;
  /** Where operators count their own metrics (declared in metric-names.ts; absent when standalone). */
  readonly metrics?: MetricsSink;
}

export type Operator<A, B> = OperatorFunction<A, B> & {
  readonly info: OperatorInfo;
  build(context: OperatorContext): OperatorFunction<A, B>;
};

export const standaloneContext: OperatorContext = {
  stream: 'standalone',
  keyConcurrency: 1,
  reject(_record, error, code) {
    throw toTributaryError(error, code);
  },
  emit() {
    throw toTributaryError(new Error('sinks need a runtime (run the topology or use the TestDriver)'), 'TRB_TOPOLOGY');
  },
  now: () => Date.now(),
  observeStoreWrite() {},
};

export function defineOperator<A, B>(info: OperatorInfo, build: (context: OperatorContext) => OperatorFunction<A, B>): Operator<A, B> {
  const topics = new Set((info.writes ?? []).filter((o) => o.kind === 'topic').map((o) => o.name));
  // An operator may only produce to the topics it declared: what describe() shows is all it writes.
  const declared = (context: OperatorContext): OperatorContext => ({
    ...context,
    emit(message) {
      if (!topics.has(message.topic)) throw undeclared(info, 'topic', message.topic);
      context.emit(message);
    },
  });
  const standalone = (source: Observable<A>): Observable<B> => build(standaloneContext)(source);
  return Object.assign(standalone, { info, build: (context: OperatorContext) => build(declared(context)) });
}

/** A write to a topic or collection the operator did not declare: a bug in the operator, never the record's fault. */
export function undeclared(info: OperatorInfo, kind: OperatorOutput['kind'], name: string): TributaryError {
  const known = (info.writes ?? []).map((o) => `${o.kind} ${o.name}`).join(', ') || 'nothing';
  return new TributaryError('TRB_TOPOLOGY', `operator ${info.name} wrote to ${kind} '${name}', which it does not declare (it declares: ${known})`, { retriable: false });
}

export function isOperator(fn: unknown): fn is Operator<unknown, unknown> {
  return typeof fn === 'function' && 'build' in fn && 'info' in fn;
}

/** What describe() says of an operator: its own info, or a generic entry for a plain RxJS operator. */
export function operatorInfo(fn: OperatorFunction<unknown, unknown>): OperatorInfo {
  return isOperator(fn) ? fn.info : { name: fn.name || 'rxjs', kind: 'transform' };
}

/** Marker for "this record was rejected and must be dropped". */
export const DROPPED: unique symbol = Symbol('tributary.dropped');

/**
 * Runs a user function for one record. A retriable failure (store or broker down) propagates so the
 * whole batch is retried; anything else goes through the error policy and the record is dropped.
 */
export function guarded<R extends AnyRecord, T>(context: OperatorContext, record: R, code: ErrorCode, fn: (record: R) => T): T | typeof DROPPED {
  try {
    return fn(record);
  } catch (error) {
    return rejectOrRethrow(context, record, error, code);
  }
}

export async function guardedAsync<R extends AnyRecord, T>(context: OperatorContext, record: R, code: ErrorCode, fn: (record: R) => Promise<T>): Promise<T | typeof DROPPED> {
  try {
    return await fn(record);
  } catch (error) {
    return rejectOrRethrow(context, record, error, code);
  }
}

/**
 * Serdes and user functions may answer synchronously or with a promise. Hot paths check this and
 * only `await` (one microtask and a promise per call) when there really is something to wait for.
 */
export function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

function rejectOrRethrow(context: OperatorContext, record: AnyRecord, error: unknown, code: ErrorCode): typeof DROPPED {
  if (failsTheBatch(error)) throw error;
  context.reject(record, error, code);
  return DROPPED;
}
