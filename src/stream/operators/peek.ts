import { filter as rxFilter } from 'rxjs';
import type { AnyRecord } from '../record.js';
import { defineOperator, DROPPED, guarded, type Operator } from './define.js';

/**
 * Runs a side effect for each record and passes it on unchanged (logging, counting).
 *
 *   r  --peek(r => log.info(r.key))-->  r
 */
export function peek<R extends AnyRecord>(fn: (record: R) => void): Operator<R, R> {
  return defineOperator({ name: 'peek', kind: 'effect' }, (context) => (source) =>
    source.pipe(rxFilter((record) => guarded(context, record, 'TRB_PROCESS', fn) !== DROPPED)),
  );
}
