import { filter as rxFilter, Observable, type OperatorFunction } from 'rxjs';
import type { StreamRecord } from '../record.js';
import type { Serde, SerdeContext } from '../serdes/types.js';
import { mergedHeaders } from '../transport/headers.js';
import type { Headers } from '../transport/types.js';
import { defineOperator, DROPPED, guarded, guardedAsync, isPromiseLike, type Operator } from './define.js';

export interface ToTopicOptions<K, V> {
  readonly key?: Serde<K>;
  readonly value: Serde<V>;
  /** Extra headers for every record (merged over the record's own). */
  readonly headers?: Headers;
}

/**
 * Sink: serialises each record and queues it for the batch's single produce call, acknowledged
 * by all in-sync replicas before the batch's offsets are committed. Records pass through unchanged
 * (their type too: a `json<T>()` serde admits tombstones, but a record that had no null value
 * still has none after the sink), so several sinks can follow each other. The record's value type
 * must be one the serde writes.
 *
 *   {key: 'o-1', value: {total: 10}}  --toTopic('shop.big-orders', { value: json<Order>() })-->  (same record)
 *                                     ~~> topic shop.big-orders: key b'"o-1"', value b'{"total":10}'
 */
export function toTopic<K, V, R extends StreamRecord<K, V> = StreamRecord<K, V>>(topic: string, options: ToTopicOptions<K, V>): Operator<R, R> {
  const needsRegistry = options.value.needsRegistry === true || options.key?.needsRegistry === true;
  return defineOperator({ name: 'toTopic', kind: 'sink', writes: [{ kind: 'topic', name: topic }], needs: { registry: needsRegistry } }, (context) => {
    const keyContext: SerdeContext = { topic, part: 'key', ...(context.registry ? { registry: context.registry } : {}) };
    const valueContext: SerdeContext = { topic, part: 'value', ...(context.registry ? { registry: context.registry } : {}) };
    const emit = (r: R, key: Buffer | null, value: Buffer | null): R => {
      context.emit({ topic, key, value, headers: mergedHeaders(r.headers, options.headers), timestamp: r.timestamp });
      return r;
    };
    // Synchronous serdes (string, json) encode and emit right away; only a serde that
    // returns a promise (Avro's first registry lookup) pays for promises. Either way records are
    // emitted one at a time, in order, and a failure goes through the same guard.
    const encode = (r: R): R | Promise<R> => {
      const key = options.key ? options.key.serialize(r.key, keyContext) : asBytes(r.key);
      if (isPromiseLike(key)) return Promise.resolve(key).then(async (k) => emit(r, k, await options.value.serialize(r.value, valueContext)));
      const value = options.value.serialize(r.value, valueContext);
      if (isPromiseLike(value)) return Promise.resolve(value).then((v) => emit(r, key, v));
      return emit(r, key, value);
    };
    return (source) =>
      source.pipe(
        oneAtATime((record) => {
          const sent = guarded(context, record, 'TRB_ENCODE', encode);
          return isPromiseLike(sent) ? guardedAsync(context, record, 'TRB_ENCODE', () => sent) : sent;
        }),
        rxFilter((r): r is R => r !== DROPPED),
      );
  });
}

/**
 * `mergeMap(step, 1)` for a step that is usually synchronous: values are stepped one at a time, in
 * order, results emitted in that order; while a step's promise is pending, later values wait. A
 * synchronous result is emitted at once, without the inner subscription mergeMap builds per value.
 * A throw or a rejection errors the output; an error of the source is passed on at once; the
 * output completes once the source has completed and every value has been stepped.
 */
function oneAtATime<T, R>(step: (value: T) => R | PromiseLike<R>): OperatorFunction<T, R> {
  return (source) =>
    new Observable<R>((subscriber) => {
      let buffer: T[] = [];
      let head = 0;
      let pending = false;
      let draining = false;
      let sourceDone = false;
      const drain = (): void => {
        if (draining) return; // re-entered from a synchronous emission: the running loop picks it up
        draining = true;
        try {
          while (!pending && head < buffer.length && !subscriber.closed) {
            const value = buffer[head++] as T;
            const out = step(value);
            if (isPromiseLike(out)) {
              pending = true;
              out.then(
                (result) => {
                  pending = false;
                  try {
                    subscriber.next(result);
                  } catch (error) {
                    subscriber.error(error);
                    return;
                  }
                  drain();
                },
                (error: unknown) => subscriber.error(error),
              );
            } else {
              subscriber.next(out);
            }
          }
          if (head === buffer.length) {
            buffer = [];
            head = 0;
          }
          if (!pending && sourceDone && head === buffer.length) subscriber.complete();
        } catch (error) {
          subscriber.error(error);
        } finally {
          draining = false;
        }
      };
      return source.subscribe({
        next(value) {
          buffer.push(value);
          drain();
        },
        error: (error: unknown) => subscriber.error(error),
        complete() {
          sourceDone = true;
          drain();
        },
      });
    });
}

/** Without a key serde, strings and buffers go as they are and anything else as JSON. */
function asBytes(key: unknown): Buffer | null {
  if (key === null || key === undefined) return null;
  if (Buffer.isBuffer(key)) return key;
  if (typeof key === 'string') return Buffer.from(key, 'utf8');
  return Buffer.from(JSON.stringify(key), 'utf8');
}
