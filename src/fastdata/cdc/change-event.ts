/**
 * Every CDC format is adapted to one ChangeEvent before anything else happens. Adapters work on
 * decoded records (the stream's serdes already turned bytes into JSON or Avro values).
 */
import type { Serde } from '../../stream/serdes/types.js';
import type { Headers } from '../../stream/transport/types.js';

export type Row = Record<string, unknown>;

export type ChangeOperation = 'insert' | 'update' | 'delete';

/**
 * Orders versions of one source row. `counter` comes from the source when it has one (Debezium
 * `source.lsn`, else `source.ts_ms`; GoldenGate `pos`) or from Kafka (timestamp), `type` says which.
 * Ties on `counter` are broken by Kafka offset within the same partition.
 */
export interface ChangePosition {
  readonly counter: number;
  readonly type: 'lsn' | 'ts_ms' | 'pos' | 'timestamp' | 'offset' | 'custom';
}

export interface ChangeEvent {
  readonly op: ChangeOperation;
  /** The source's key object when it carries one (Debezium, basic); null otherwise (GoldenGate string keys). */
  readonly key: Row | null;
  /** Row image before the change, in source field names; null when the source does not send it. */
  readonly before: Row | null;
  /** Row image after the change; null for deletes. */
  readonly after: Row | null;
  readonly position: ChangePosition;
  /** A snapshot read (Debezium `op: r`): applied as an insert, but never over a newer state. */
  readonly snapshot?: boolean;
}

/** Records that are valid CDC but carry no row change: counted, not dead-lettered. */
export type SkipReason = 'tombstone' | 'truncate' | 'message' | 'heartbeat';

export type AdapterResult = ChangeEvent | { readonly skip: SkipReason };

export interface AdapterInput {
  readonly key: unknown;
  readonly value: unknown;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  /** Kafka timestamp, ms since epoch. */
  readonly timestamp: number;
  readonly headers: Headers;
  /**
   * The record's value bytes were zero-length (not a null tombstone). Serdes decode both to null;
   * Fast Data (RTU >= 7.5.7) deletes by key on a zero-length payload but skips a tombstone.
   */
  readonly emptyPayload?: boolean;
}

/**
 * Turns one decoded record into a ChangeEvent or a skip. Throws a TributaryError with code
 * `TRB_UNKNOWN_OPERATION` (unknown op) or `TRB_DECODE` (not this format) for bad records; those are
 * dead-lettered by the stream's policy.
 */
export interface CdcAdapter {
  readonly name: string;
  adapt(input: AdapterInput): AdapterResult;
  /** The key serde a projection uses with this adapter unless it names one (default `json()`). */
  readonly defaultKey?: Serde<unknown>;
}

export function isSkip(result: AdapterResult): result is { readonly skip: SkipReason } {
  return 'skip' in result;
}
