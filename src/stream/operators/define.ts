/**
 * The one helper every Tributary operator is built on. An operator is a plain RxJS
 * `OperatorFunction` (so it composes with any RxJS operator) that also carries:
 *  - `info`, for `describe()`;
 *  - `build(context)`, which the runtime calls once per batch to hand it the batch context
 *    (error policy, output buffer, store, key concurrency). Used directly as a function, outside a
 *    runtime, an operator gets a standalone context where a failure simply throws.
 */
import type { Observable, OperatorFunction } from 'rxjs';
import { failsTheBatch, toTributaryError, type ErrorCode } from '../../errors.js';
import type { AnyRecord } from '../record.js';
import type { OutgoingMessage } from '../transport/types.js';
import type { SchemaRegistryClient } from '../serdes/registry.js';
import type { DocumentStore } from '../../store/types.js';
import type { Metrics } from '../../ops/metrics.js';

export type OperatorKind = 'transform' | 'filter' | 'effect' | 'sink';

export interface OperatorInfo {
  readonly name: string;
  readonly kind: OperatorKind;
  /** Topic or collection a sink writes to. */
  readonly target?: string;
  readonly targetKind?: 'topic' | 'collection';
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
  /** Reports time spent writing to a collection (for metrics). */
  observeStoreWrite(collection: string, seconds: number): void;
  /** The runtime's metrics, for operators that report domain counters (absent when standalone). */
  readonly metrics?: Metrics;
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
  observeStoreWrite() {},
};

export function defineOperator<A, B>(info: OperatorInfo, build: (context: OperatorContext) => OperatorFunction<A, B>): Operator<A, B> {
  const standalone = (source: Observable<A>): Observable<B> => build(standaloneContext)(source);
  return Object.assign(standalone, { info, build });
}

export function isOperator(fn: unknown): fn is Operator<unknown, unknown> {
  return typeof fn === 'function' && 'build' in fn && 'info' in fn;
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
