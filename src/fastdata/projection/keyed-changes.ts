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
import { TributaryError } from '../../errors.js';
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
  checkRequired(p, afterDoc, context);
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

/** The fields declared `required`, per projection: `nullable` ones must be there, the others there and not null. */
const requiredFields = new WeakMap<object, ReadonlyArray<{ readonly name: string; readonly nullable: boolean }>>();

/**
 * A row written to the projection holds every required field:
 *
 *   fields { name: field.string({ required: true }) }   { id: 1 }            --> TRB_MISSING_FIELD (dead letter)
 *                                                        { id: 1, name: 7 }   --> ok ({ name: '7' })
 */
function checkRequired(p: Projection<object>, document: Row, context: { readonly projection: string }): void {
  let required = requiredFields.get(p);
  if (!required) {
    required = Object.entries(p.options.fields)
      .filter(([, spec]) => spec.required)
      .map(([name, spec]) => ({ name, nullable: spec.nullable }));
    requiredFields.set(p, required);
  }
  if (required.length === 0) return;
  const missing = required.filter(({ name, nullable }) => (nullable ? !(name in document) : document[name] === undefined || document[name] === null)).map(({ name }) => name);
  if (missing.length === 0) return;
  throw new TributaryError('TRB_MISSING_FIELD', `projection '${context.projection}': required field${missing.length > 1 ? 's' : ''} ${missing.map((m) => `'${m}'`).join(', ')} missing or null (a value its cast cannot convert is null)`, {
    context: { projection: context.projection, fields: missing },
  });
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
