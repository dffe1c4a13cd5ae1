/**
 * `pr-update` events (Fast Data §3.1): v1.0.0 (Real-Time Updater shape) and v2.0.0 (Projection
 * Storer shape), keyed by the projection's primary key, with the `messageSchema` header.
 *
 *   change {key: {customer_id: 'c1'}, type: 'UPDATE', before, after}
 *     --v1--> {operationType: 'UPDATE', operationTimestamp, projectionName, source, primaryKeys, before, after, __internal__kafkaInfo}
 *     --v2--> {operation: {type: 'UPDATE', timestamp}, source, storageNamespace, primaryKeys, before, after}
 */
import type { Row } from '../cdc/change-event.js';
import type { ProjectionChange } from './plan-batch.js';

export type PrUpdateVersion = 'v1.0.0' | 'v2.0.0';

export interface PrUpdateV1 {
  readonly operationType: 'INSERT' | 'UPDATE' | 'DELETE';
  readonly operationTimestamp: string;
  readonly projectionName: string;
  readonly source: string;
  readonly primaryKeys: readonly string[];
  readonly before: Row | null;
  readonly after: Row | null;
  readonly __internal__kafkaInfo: unknown;
}

export interface PrUpdateV2 {
  readonly operation: { readonly type: 'INSERT' | 'UPDATE' | 'DELETE'; readonly timestamp: string };
  readonly source: string;
  readonly storageNamespace: string;
  readonly primaryKeys: readonly string[];
  readonly before: Row | null;
  readonly after: Row | null;
}

export type PrUpdate = PrUpdateV1 | PrUpdateV2;

export interface PrUpdateContext {
  readonly projection: string;
  readonly source: string;
  readonly primaryKeys: readonly string[];
  readonly version: PrUpdateVersion;
  readonly now: Date;
}

/**
 * A stored document as an event carries it: without `_id`, dates as ISO strings (so JSON and Avro
 * consumers see the same values), undefined members left out — what a JSON round trip gives, in one
 * walk instead of a stringify and a parse per document (this runs twice per pr-update). Values of
 * other classes (an ObjectId, a Decimal128) go through their own `toJSON` as JSON would.
 */
function plain(doc: Row | null): Row | null {
  return doc === null ? null : plainObject(doc, true);
}

function jsonValue(value: unknown): unknown {
  if (typeof value === 'number') return Number.isFinite(value) ? value + 0 : null; // + 0: -0 becomes 0, as in JSON
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (Array.isArray(value)) return value.map((item) => (item === undefined || typeof item === 'function' ? null : jsonValue(item)));
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return JSON.parse(JSON.stringify(value)) as unknown;
  return plainObject(value as Record<string, unknown>, false);
}

/** `withoutId`: the stored document's `_id` is left out here rather than by a copy before the walk (the walk copies anyway). */
function plainObject(value: Record<string, unknown>, withoutId: boolean): Row {
  const out: Record<string, unknown> = {};
  for (const key in value) {
    if (withoutId && key === '_id') continue;
    const member = value[key];
    if (member === undefined || typeof member === 'function') continue;
    // A field named "__proto__" must stay a field, as JSON.parse keeps it; every other one is a plain
    // assignment (defining each property kept the object in V8's slow dictionary mode).
    if (key === '__proto__') Object.defineProperty(out, key, { value: jsonValue(member), enumerable: true, writable: true, configurable: true });
    else out[key] = jsonValue(member);
  }
  return out;
}

/** The `messageSchema` header of each version, written once. */
const MESSAGE_SCHEMA: Record<PrUpdateVersion, string> = {
  'v1.0.0': JSON.stringify({ type: 'pr-update', version: 'v1.0.0' }),
  'v2.0.0': JSON.stringify({ type: 'pr-update', version: 'v2.0.0' }),
};

export function prUpdateOf(change: ProjectionChange, context: PrUpdateContext): { value: PrUpdate; headers: Record<string, string> } {
  const timestamp = context.now.toISOString();
  const messageSchema = MESSAGE_SCHEMA[context.version];
  if (context.version === 'v1.0.0') {
    return {
      headers: { messageSchema },
      value: {
        operationType: change.type,
        operationTimestamp: timestamp,
        projectionName: context.projection,
        source: context.source,
        primaryKeys: context.primaryKeys,
        before: plain(change.before),
        after: plain(change.after),
        __internal__kafkaInfo: change.kafka,
      },
    };
  }
  const ingestion = { topic: change.kafka.topic, partitionID: change.kafka.partition, offset: Number(change.kafka.offset), timestamp: change.kafka.timestamp, pollTimestamp: timestamp };
  return {
    headers: { messageSchema, context: JSON.stringify({ ingestion }) },
    value: {
      operation: { type: change.type, timestamp },
      source: context.source,
      storageNamespace: context.projection,
      primaryKeys: context.primaryKeys,
      before: plain(change.before),
      after: plain(change.after),
    },
  };
}

/** One pr-update of either version, read back into one shape. */
export interface ReadPrUpdate {
  readonly projection: string;
  readonly type: 'INSERT' | 'UPDATE' | 'DELETE';
  readonly before: Row | null;
  readonly after: Row | null;
  /** v1.0.0 only: the ingestion record's `__internal__kafkaInfo`. */
  readonly kafkaInfo?: unknown;
}

/** Reads either version back into one shape (the trigger stage accepts both, like the SVTG). */
export function readPrUpdate(value: unknown): ReadPrUpdate | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Partial<PrUpdateV1 & PrUpdateV2>;
  if (v.operation && typeof v.storageNamespace === 'string') {
    return { projection: v.storageNamespace, type: v.operation.type, before: v.before ?? null, after: v.after ?? null };
  }
  if (typeof v.operationType === 'string' && typeof v.projectionName === 'string') {
    const type = v.operationType === ('UPSERT' as string) ? 'UPDATE' : v.operationType;
    return { projection: v.projectionName, type, before: v.before ?? null, after: v.after ?? null, ...(v.__internal__kafkaInfo ? { kafkaInfo: v.__internal__kafkaInfo } : {}) };
  }
  return null;
}
