import type { Headers } from './transport/types.js';

/** Where a record came from: kept on every derived record so a failure can be dead-lettered with its original bytes. */
export interface RecordOrigin {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly timestamp: number;
  readonly rawKey: Buffer | null;
  readonly rawValue: Buffer | null;
  readonly headers: Readonly<Headers>;
}

export const ORIGIN: unique symbol = Symbol('tributary.origin');

/** A decoded record flowing through a stream's operators. */
export interface StreamRecord<K, V> {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly timestamp: number;
  readonly key: K;
  readonly value: V;
  /**
   * Read-only: records share header objects (a derived record keeps its source's; every record
   * without headers shares one frozen empty object). To add or change one, return a record with
   * new headers: `map((r) => ({ key: r.key, value: r.value, headers: { ...r.headers, trace: 'x' } }))`.
   */
  readonly headers: Readonly<Headers>;
  readonly [ORIGIN]: RecordOrigin;
}

/** What a user function returns to produce a new record. */
export interface KeyValue<K, V> {
  readonly key: K;
  readonly value: V;
  readonly headers?: Headers;
}

export type AnyRecord = StreamRecord<unknown, unknown>;

/** A new record with the same origin (so errors downstream still point at the source bytes). */
export function derive<K, V>(from: AnyRecord, next: KeyValue<K, V>): StreamRecord<K, V> {
  return { ...from, key: next.key, value: next.value, headers: next.headers ?? from.headers } as StreamRecord<K, V>;
}

export function originOf(record: AnyRecord): RecordOrigin {
  return record[ORIGIN];
}

/**
 * Whether a record carries a value: false for a tombstone (null bytes decode to null). As a type
 * guard it narrows the value type, so `filter(hasValue)` lets the next operators read fields:
 *
 *   {value: null}, {value: {total: 5}}  --filter(hasValue)-->  {value: {total: 5}}
 */
export function hasValue<K, V>(record: StreamRecord<K, V>): record is StreamRecord<K, NonNullable<V>> {
  return record.value !== null && record.value !== undefined;
}
