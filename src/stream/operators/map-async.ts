import { filter as rxFilter, mergeMap, Observable } from 'rxjs';
import { derive, type AnyRecord, type KeyValue, type StreamRecord } from '../record.js';
import { defineOperator, DROPPED, guardedAsync, type Operator } from './define.js';

/**
 * Async transformation (an HTTP call, a lookup). Records of the same key are processed one after
 * another, in order; with the stream option `keyConcurrency: n`, up to n different keys run at once.
 * Output order follows completion, so per-key order is kept but not the order across keys.
 *
 *   {key: 'a', v: 1}, {key: 'b', v: 2}, {key: 'a', v: 3}  --mapAsync(enrich) [keyConcurrency 2]-->
 *   b:2' may overtake a:1'; a:1' always before a:3'
 */
export function mapAsync<R extends AnyRecord, K2, V2>(fn: (record: R) => Promise<KeyValue<K2, V2>>): Operator<R, StreamRecord<K2, V2>> {
  return defineOperator({ name: 'mapAsync', kind: 'transform' }, (context) => (source) => {
    const concurrency = Math.max(1, context.keyConcurrency);
    const run = (record: R) => guardedAsync(context, record, 'TRB_PROCESS', fn).then((out) => (out === DROPPED ? DROPPED : derive(record, out)));
    if (concurrency === 1) {
      return source.pipe(mergeMap(run, 1), rxFilter((r): r is StreamRecord<K2, V2> => r !== DROPPED));
    }
    return source.pipe(
      perKeyQueues(run, concurrency),
      rxFilter((r): r is StreamRecord<K2, V2> => r !== DROPPED),
    );
  });
}

/**
 * Groups records by key into queues; at most `concurrency` queues run at once, each strictly in
 * order. Keys are compared by their JSON form, so object keys work.
 */
function perKeyQueues<R extends AnyRecord, T>(run: (record: R) => Promise<T>, concurrency: number) {
  return (source: Observable<R>): Observable<T> =>
    new Observable<T>((subscriber) => {
      const queues = new Map<string, R[]>();
      const waiting: string[] = [];
      let active = 0;
      let sourceDone = false;
      let failed = false;

      const next = () => {
        while (!failed && active < concurrency && waiting.length > 0) {
          const key = waiting.shift() as string;
          active++;
          void drain(key);
        }
        if (!failed && sourceDone && active === 0 && waiting.length === 0) subscriber.complete();
      };
      const drain = async (key: string) => {
        try {
          for (let queue = queues.get(key); queue && queue.length > 0; queue = queues.get(key)) {
            const record = queue.shift() as R;
            subscriber.next(await run(record));
            if (failed) return;
          }
          queues.delete(key);
        } catch (error) {
          failed = true;
          subscriber.error(error);
          return;
        }
        active--;
        next();
      };
      const subscription = source.subscribe({
        next(record) {
          const key = JSON.stringify(record.key) ?? 'undefined';
          const queue = queues.get(key);
          if (queue) queue.push(record);
          else {
            queues.set(key, [record]);
            waiting.push(key);
          }
          next();
        },
        error: (error: unknown) => subscriber.error(error),
        complete() {
          sourceDone = true;
          next();
        },
      });
      return () => {
        failed = true;
        subscription.unsubscribe();
      };
    });
}
