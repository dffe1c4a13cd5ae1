/**
 * The trigger operator of a single view: a batch of pr-update events → the affected view keys
 * (automatic strategy from the include tree, or manual strategies) → one sv-trigger per key,
 * de-duplicated per batch and keyed by the view key (so one aggregator owns each key).
 *
 *   pr-update batch (any projection of the view)  --triggerViews(sv_customers)-->  sv-trigger records
 */
import { TributaryError } from '../../errors.js';
import { defineBatchOperator } from '../../stream/operators/batch.js';
import type { Operator } from '../../stream/operators/define.js';
import { derive, type AnyRecord, type StreamRecord } from '../../stream/record.js';
import type { Row } from '../cdc/change-event.js';
import { KAFKA_INFO } from '../projection/metadata.js';
import { readPrUpdate, type ReadPrUpdate } from '../projection/pr-update.js';
import { SV_TRIGGER_HEADERS, type SvTrigger } from './events.js';
import type { SingleView } from './single-view.js';
import { patchViews, type PatchEventOptions } from './patch-views.js';
import { affectedKeysWithCause } from './strategy.js';

export function triggerViews(view: SingleView, options: PatchEventOptions = {}): Operator<AnyRecord, StreamRecord<Row, SvTrigger>> {
  // Patch rules write the view and its sv-updates from here (patch-views.ts).
  const patches = view.patches.length > 0;
  const svUpdateTopic = patches && view.options.svUpdate !== false ? (options.svUpdateTopic ?? null) : null;
  return defineBatchOperator<AnyRecord, ReadPrUpdate, StreamRecord<Row, SvTrigger>>({
    name: 'triggerViews',
    needs: { store: true, registry: patches && options.events?.format === 'avro' },
    writes: patches ? [{ kind: 'collection', name: view.name }, ...(svUpdateTopic ? [{ kind: 'topic', name: svUpdateTopic } as const] : [])] : [],
    reads: view.projections.map((p) => p.name),
    decode(record) {
      const change = readPrUpdate(record.value);
      if (!change) throw new TributaryError('TRB_DECODE', `not a pr-update v1.0.0 or v2.0.0 event on ${record.topic}`);
      return change;
    },
    async work({ kept: allKept, items: allItems }, io) {
      // Patch rules first: what they cover is updated in place, the rest is re-aggregated.
      const left = patches ? await patchViews(view, allKept, allItems, io, { ...options, svUpdateTopic }, ingestionKafkaInfo) : null;
      const kept = left ? left.map((i) => allKept[i] as AnyRecord) : allKept;
      const items = left ? left.map((i) => allItems[i] as ReadPrUpdate) : allItems;
      const affected = await affectedKeysWithCause(view, items, io.store);
      // Triggers are de-duplicated per batch; each names the newest change of the batch that affects its key.
      return affected.map(({ key, cause }) => {
        const change = items[cause] as ReadPrUpdate;
        const record = kept[cause] as AnyRecord;
        return derive(record, {
          key,
          value: {
            type: 'aggregation',
            singleViewName: view.name,
            singleViewIdentifier: key,
            change: { projectionName: change.projection, projectionIdentifier: (record.key as Row | null) ?? null, data: change.after ?? change.before },
            __internal__kafkaInfo: ingestionKafkaInfo(record, change),
          } satisfies SvTrigger,
          headers: SV_TRIGGER_HEADERS,
        });
      });
    },
  });
}

/**
 * The `__internal__kafkaInfo` of the ingestion record behind a pr-update, which Fast Data copies
 * into the sv-trigger: the v1.0.0 field, else the written document's own (the version the change
 * produced), else the v2.0.0 `context` header (hard deletes); the pr-update record's own position
 * only when none of these is there.
 */
function ingestionKafkaInfo(record: AnyRecord, change: ReadPrUpdate): unknown {
  if (change.kafkaInfo) return change.kafkaInfo;
  const own = change.after?.[KAFKA_INFO];
  if (typeof own === 'object' && own !== null) return own;
  const ingestion = contextIngestion(record.headers['context']);
  if (ingestion) {
    const previous = change.before?.[KAFKA_INFO] as { key?: unknown } | undefined;
    return { topic: ingestion['topic'], partition: ingestion['partitionID'], offset: String(ingestion['offset']), timestamp: ingestion['timestamp'], key: previous?.key ?? null };
  }
  return { topic: record.topic, partition: record.partition, offset: record.offset, timestamp: new Date(record.timestamp).toISOString(), key: record.key };
}

function contextIngestion(header: string | Buffer | undefined): Row | null {
  if (header === undefined) return null;
  try {
    const parsed = JSON.parse(header.toString()) as { ingestion?: unknown };
    return typeof parsed.ingestion === 'object' && parsed.ingestion !== null && typeof (parsed.ingestion as Row)['topic'] === 'string' ? (parsed.ingestion as Row) : null;
  } catch {
    return null;
  }
}
