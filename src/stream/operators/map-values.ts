import { filter as rxFilter, map as rxMap } from 'rxjs';
import { derive, type StreamRecord } from '../record.js';
import { defineOperator, DROPPED, guarded, type Operator } from './define.js';

/**
 * Replaces the value, keeps key and headers.
 *
 *   {key: 'c-1', value: {name: 'ada'}}  --mapValues(v => v.name.toUpperCase())-->  {key: 'c-1', value: 'ADA'}
 */
export function mapValues<K, V, V2>(fn: (value: V, record: StreamRecord<K, V>) => V2): Operator<StreamRecord<K, V>, StreamRecord<K, V2>> {
  return defineOperator({ name: 'mapValues', kind: 'transform' }, (context) => (source) =>
    source.pipe(
      rxMap((record) => {
        const out = guarded(context, record, 'TRB_PROCESS', (r) => fn(r.value, r));
        return out === DROPPED ? DROPPED : derive(record, { key: record.key, value: out });
      }),
      rxFilter((r): r is StreamRecord<K, V2> => r !== DROPPED),
    ),
  );
}
