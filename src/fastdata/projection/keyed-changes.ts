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
  const context = contextOf(p);
  const kafka: KafkaInfo = { topic: record.topic, partition: record.partition, offset: record.offset, timestamp: new Date(record.timestamp).toISOString(), key: record.key };
  const before = cast(p, result.before, context);
  const after = cast(p, result.after, context);
  const base = { position: result.position, kafka, ...(result.snapshot === true ? { snapshot: true } : {}) };

  if (result.op === 'delete') {
    // Without a before image (basic adapter, or a key-only tombstone-like delete) the key object says which row.
    const image = before ?? cast(p, result.key, context) ?? {};
    const key = keyOf(p, image, context);
    return [{ op: 'delete', key, id: keyString(key), document: before, ...base }];
  }
  const afterDoc = after ?? {};
  const newKey = keyOf(p, afterDoc, context);
  const newId = keyString(newKey);
  if (before !== null) {
    const oldKey = tryKey(() => keyOf(p, before, context));
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

// Per projection, not per record: this runs for every CDC record.
const contexts = new WeakMap<object, { readonly projection: string }>();
function contextOf(p: Projection<object>): { readonly projection: string } {
  let context = contexts.get(p);
  if (!context) contexts.set(p, (context = { projection: p.name }));
  return context;
}

function cast(p: Projection<object>, row: Row | null, context: { readonly projection: string }): Row | null {
  return row === null ? null : castRow(p.options.fields, row, context);
}

function keyOf(p: Projection<object>, doc: Row, context: { readonly projection: string }): Row {
  return extractPrimaryKey(p.options.fields, p.primaryKey, doc, context);
}

/** A partial before image (Debezium with REPLICA IDENTITY DEFAULT) may lack key fields: then no key change is detectable from it. */
function tryKey(fn: () => Row): Row | null {
  try {
    return fn();
  } catch {
    return null;
  }
}
