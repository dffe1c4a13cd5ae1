/**
 * One decoded CDC record → zero, one or two keyed changes for its projection:
 *
 *   tombstone / truncate                    --> []                        (skipped, counted)
 *   insert or update {after}                --> [upsert(key(after))]
 *   delete {before}                         --> [delete(key(before))]
 *   update whose primary key changed        --> [delete(old key), upsert(new key)]
 *   snapshot read (Debezium `op: r`)        --> [upsert(key(after)), snapshot: true]   (never over a newer state)
 *
 * Field mapping and casts are applied here, so everything after works with projection field names.
 */
import { originOf, type StreamRecord } from '../../stream/record.js';
import { isSkip, type Row, type SkipReason } from '../cdc/change-event.js';
import { castRow, extractPrimaryKey } from './fields.js';
import { keyString, type KafkaInfo } from './metadata.js';
import type { KeyedChange } from './plan-batch.js';
import type { Projection } from './projection.js';

export function keyedChanges(p: Projection<object>, record: StreamRecord<unknown, unknown>): KeyedChange[] | { skip: SkipReason } {
  const result = p.options.source.adapter.adapt({
    key: record.key,
    value: record.value,
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    timestamp: record.timestamp,
    headers: record.headers,
    emptyPayload: originOf(record)?.rawValue?.length === 0,
  });
  if (isSkip(result)) return result;
  const context = { projection: p.name };
  const kafka: KafkaInfo = { topic: record.topic, partition: record.partition, offset: record.offset, timestamp: new Date(record.timestamp).toISOString(), key: record.key };
  const cast = (row: Row | null) => (row === null ? null : castRow(p.options.fields, row, context));
  const keyOf = (doc: Row) => extractPrimaryKey(p.options.fields, p.primaryKey, doc, context);
  const before = cast(result.before);
  const after = cast(result.after);
  const base = { position: result.position, kafka, ...(result.snapshot === true ? { snapshot: true } : {}) };

  if (result.op === 'delete') {
    // Without a before image (basic adapter, or a key-only tombstone-like delete) the key object says which row.
    const image = before ?? cast(result.key) ?? {};
    const key = keyOf(image);
    return [{ op: 'delete', key, id: keyString(key), document: before, ...base }];
  }
  const afterDoc = after ?? {};
  const newKey = keyOf(afterDoc);
  const newId = keyString(newKey);
  if (before !== null) {
    const oldKey = tryKey(() => keyOf(before));
    const oldId = oldKey && keyString(oldKey);
    if (oldKey && oldId !== newId) {
      return [
        { op: 'delete', key: oldKey, id: oldId as string, document: before, ...base },
        { op: 'upsert', key: newKey, id: newId, document: afterDoc, ...base },
      ];
    }
  }
  return [{ op: 'upsert', key: newKey, id: newId, document: afterDoc, ...base }];
}

/** A partial before image (Debezium with REPLICA IDENTITY DEFAULT) may lack key fields: then no key change is detectable from it. */
function tryKey(fn: () => Row): Row | null {
  try {
    return fn();
  } catch {
    return null;
  }
}
