import { filter as rxFilter } from 'rxjs';
import type { AnyRecord } from '../record.js';
import { defineOperator, guarded, type Operator } from './define.js';

/**
 * Keeps the records the predicate accepts; a type guard narrows the record type downstream.
 *
 *   {value: {total: 0}}, {value: {total: 5}}  --filter(r => r.value.total > 0)-->  {value: {total: 5}}
 */
export function filter<R extends AnyRecord, S extends R>(predicate: (record: R) => record is S): Operator<R, S>;
export function filter<R extends AnyRecord>(predicate: (record: R) => boolean): Operator<R, R>;
export function filter<R extends AnyRecord>(predicate: (record: R) => boolean): Operator<R, R> {
  return defineOperator({ name: 'filter', kind: 'filter' }, (context) => (source) =>
    source.pipe(rxFilter((record) => guarded(context, record, 'TRB_PROCESS', predicate) === true)),
  );
}
