/**
 * The trigger operator of a single view: a batch of pr-update events → the affected view keys
 * (automatic strategy from the include tree, or manual strategies) → one sv-trigger per key,
 * de-duplicated per batch and keyed by the view key (so one aggregator owns each key).
 *
 *   pr-update batch (any projection of the view)  --triggerViews(sv_customers)-->  sv-trigger records
 */
import { mergeMap, toArray } from 'rxjs';
import { TributaryError } from '../../errors.js';
import { defineOperator, DROPPED, guarded, type Operator } from '../../stream/operators/define.js';
import { derive, type AnyRecord, type StreamRecord } from '../../stream/record.js';
import type { Row } from '../cdc/change-event.js';
import { readPrUpdate } from '../projection/pr-update.js';
import { SV_TRIGGER_HEADERS, type SvTrigger } from './events.js';
import type { SingleView } from './single-view.js';
import { affectedKeys, type ChangedDocuments } from './strategy.js';

export function triggerViews(view: SingleView): Operator<AnyRecord, StreamRecord<Row, SvTrigger>> {
  return defineOperator({ name: 'triggerViews', kind: 'transform' }, (context) => (source) =>
    source.pipe(
      toArray(),
      mergeMap(async (records) => {
        const changes: Array<ChangedDocuments & { record: AnyRecord }> = [];
        for (const record of records) {
          const change = guarded(context, record, 'TRB_DECODE', (r) => {
            const c = readPrUpdate(r.value);
            if (!c) throw new TributaryError('TRB_DECODE', `not a pr-update v1.0.0 or v2.0.0 event on ${r.topic}`);
            return c;
          });
          if (change !== DROPPED) changes.push({ ...change, record });
        }
        const last = changes.at(-1);
        if (!last) return [];
        if (!context.store) throw new TributaryError('TRB_CONFIG', `single view '${view.name}' needs a document store`);
        const keys = await affectedKeys(view, changes, context.store);
        // Triggers are de-duplicated per batch; each names the newest change of the batch as its cause.
        const cause = last.after ?? last.before;
        return keys.map((key) =>
          derive(last.record, {
            key,
            value: {
              type: 'aggregation',
              singleViewName: view.name,
              singleViewIdentifier: key,
              change: { projectionName: last.projection, projectionIdentifier: (last.record.key as Row | null) ?? null, data: cause },
              __internal__kafkaInfo: { topic: last.record.topic, partition: last.record.partition, offset: last.record.offset, timestamp: new Date(last.record.timestamp).toISOString(), key: last.record.key },
            } satisfies SvTrigger,
            headers: SV_TRIGGER_HEADERS,
          }),
        );
      }),
      mergeMap((out) => out),
    ),
  );
}
