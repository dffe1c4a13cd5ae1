import { mergeMap } from 'rxjs';
import { derive, type AnyRecord, type KeyValue, type StreamRecord } from '../record.js';
import { defineOperator, DROPPED, guarded, type Operator } from './define.js';

/**
 * Turns each record into zero or more records, in order.
 *
 *   {key: 'o-1', value: {lines: [a, b]}}  --flatMap(r => r.value.lines.map(l => ({ key: l.id, value: l })))-->  {key: a.id}, {key: b.id}
 */
export function flatMap<R extends AnyRecord, K2, V2>(fn: (record: R) => Iterable<KeyValue<K2, V2>>): Operator<R, StreamRecord<K2, V2>> {
  return defineOperator({ name: 'flatMap', kind: 'transform' }, (context) => (source) =>
    source.pipe(
      mergeMap((record) => {
        const out = guarded(context, record, 'TRB_PROCESS', (r) => [...fn(r)]);
        return out === DROPPED ? [] : out.map((kv) => derive(record, kv));
      }),
    ),
  );
}
