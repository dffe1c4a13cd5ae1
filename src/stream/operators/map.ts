import { filter as rxFilter, map as rxMap } from 'rxjs';
import { derive, type AnyRecord, type KeyValue, type StreamRecord } from '../record.js';
import { defineOperator, DROPPED, guarded, type Operator } from './define.js';

/**
 * Replaces key and value of each record.
 *
 *   {key: 'o-1', value: {total: 10}}  --map(r => ({ key: r.value.total, value: r.key }))-->  {key: 10, value: 'o-1'}
 *
 * A throw dead-letters (or skips, or fails on) that record only, per the stream's error policy.
 */
export function map<R extends AnyRecord, K2, V2>(fn: (record: R) => KeyValue<K2, V2>): Operator<R, StreamRecord<K2, V2>> {
  return defineOperator({ name: 'map', kind: 'transform' }, (context) => (source) =>
    source.pipe(
      rxMap((record) => {
        const out = guarded(context, record, 'TRB_PROCESS', fn);
        return out === DROPPED ? DROPPED : derive(record, out);
      }),
      rxFilter((r): r is StreamRecord<K2, V2> => r !== DROPPED),
    ),
  );
}
