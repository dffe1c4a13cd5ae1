/**
 * Debezium change events (JSON with or without the schema envelope, or Avro) --> ChangeEvent.
 *
 *   { op: 'c', before: null, after: {id: 1, ...}, source: { lsn: 23961384, ts_ms } }
 *       --> { op: 'insert', key: {id: 1}, before: null, after: {id: 1, ...}, position: { counter: 23961384, type: 'lsn' } }
 *   { op: 'r', ... }                         --> insert with snapshot: true
 *   { op: 'u', ... } / { op: 'd', ... }      --> update / delete (before as sent: null, partial or full)
 *   { op: 't' } / { op: 'm' } / null value   --> { skip: 'truncate' } / { skip: 'message' } / { skip: 'tombstone' }
 *   zero-length value (not null), key {id: 1} --> { op: 'delete', key: {id: 1}, before: null, position: <Kafka ts> } (Fast Data RTU >= 7.5.7)
 *   { schema: {...}, payload: {...} }        --> the same as its payload
 *
 * The flattened form of the `ExtractNewRecordState` SMT (the row itself, with optional `__op`,
 * `__deleted`, `__source_lsn`/`__lsn`, `__source_ts_ms`/`__ts_ms`) is recognised too:
 *
 *   { id: 1, name: 'Ann', __op: 'u', __source_lsn: 42 }  --> update, after { id: 1, name: 'Ann' }, counter 42 (lsn)
 *   { id: 1, name: '', __deleted: 'true' }             --> delete, before { id: 1, name: '' }
 *   { id: 1, name: 'Ann' }                             --> update (upsert: no operation known)
 */
import { TributaryError } from '../../errors.js';
import type { AdapterInput, AdapterResult, CdcAdapter, ChangeEvent, ChangeOperation, ChangePosition, Row } from './change-event.js';

export interface DebeziumOptions {
  /**
   * The ordering counter. 'lsn' (default): `source.lsn`, else `source.ts_ms`, else the Kafka
   * timestamp. 'ts_ms': `source.ts_ms`, else the Kafka timestamp. 'offset': the Kafka offset.
   */
  readonly counter?: 'lsn' | 'ts_ms' | 'offset';
}

type Counter = NonNullable<DebeziumOptions['counter']>;

const OPERATIONS: Readonly<Record<string, { op: ChangeOperation; snapshot?: true } | { skip: 'truncate' | 'message' }>> = {
  c: { op: 'insert' },
  r: { op: 'insert', snapshot: true },
  u: { op: 'update' },
  d: { op: 'delete' },
  t: { skip: 'truncate' },
  m: { skip: 'message' },
};

export function debezium(options: DebeziumOptions = {}): CdcAdapter {
  const counter: Counter = options.counter ?? 'lsn';
  return {
    name: 'debezium',
    adapt(input: AdapterInput): AdapterResult {
      const value = unwrapEnvelope(input.value);
      const key = objectKey(input.key);
      if (input.emptyPayload === true) return emptyPayloadDelete('debezium', key, input);
      if (value === null || value === undefined) return { skip: 'tombstone' };
      if (!isRow(value)) throw decodeError('debezium', input, `value is not an object (${describe(value)})`);
      if (isHeartbeat(input, value, key)) return { skip: 'heartbeat' };
      return isEnvelope(value) ? fromEnvelope(value, key, input, counter) : fromFlattened(value, key, input, counter);
    },
  };
}

function fromEnvelope(value: Row, key: Row | null, input: AdapterInput, counter: Counter): AdapterResult {
  const op = value['op'];
  const kind = typeof op === 'string' ? OPERATIONS[op] : undefined;
  if (kind === undefined) throw unknownOperation('debezium', input, op);
  if ('skip' in kind) return kind;
  const before = image(value, 'before', input);
  const after = image(value, 'after', input);
  if (kind.op !== 'delete' && after === null) throw decodeError('debezium', input, `op '${String(op)}' without an 'after' row`);
  const source = isRow(value['source']) ? value['source'] : {};
  const event: ChangeEvent = {
    op: kind.op,
    key,
    before: kind.op === 'insert' ? null : before,
    after: kind.op === 'delete' ? null : after,
    position: positionOf(source['lsn'], source['ts_ms'], input, counter),
  };
  return kind.snapshot ? Object.assign({}, event, { snapshot: true }) : event;
}

function fromFlattened(value: Row, key: Row | null, input: AdapterInput, counter: Counter): AdapterResult {
  const row: Row = {};
  for (const [name, v] of Object.entries(value)) if (!name.startsWith('__')) row[name] = v;
  const position = positionOf(value['__source_lsn'] ?? value['__lsn'], value['__source_ts_ms'] ?? value['__ts_ms'], input, counter);
  const deleted = value['__deleted'] === true || value['__deleted'] === 'true';
  const op = value['__op'];
  if (op !== undefined && op !== null) {
    const kind = typeof op === 'string' ? OPERATIONS[op] : undefined;
    if (kind === undefined) throw unknownOperation('debezium', input, op);
    if ('skip' in kind) return kind;
    if (!deleted && kind.op !== 'delete') {
      const event: ChangeEvent = { op: kind.op, key, before: null, after: row, position };
      return kind.snapshot ? Object.assign({}, event, { snapshot: true }) : event;
    }
  }
  if (deleted || op === 'd') return { op: 'delete', key, before: row, after: null, position };
  return { op: 'update', key, before: null, after: row, position };
}

function isEnvelope(value: Row): boolean {
  return 'op' in value && ('source' in value || 'after' in value || 'before' in value);
}

/** Debezium heartbeats: `{ ts_ms }` keyed by `{ serverName }`, on `__debezium-heartbeat.<prefix>`. */
function isHeartbeat(input: AdapterInput, value: Row, key: Row | null): boolean {
  if (input.topic.startsWith('__debezium-heartbeat')) return true;
  const names = Object.keys(value);
  return names.length === 1 && names[0] === 'ts_ms' && key !== null && 'serverName' in key;
}

function image(value: Row, field: 'before' | 'after', input: AdapterInput): Row | null {
  const v = value[field];
  if (v === null || v === undefined) return null;
  if (!isRow(v)) throw decodeError('debezium', input, `'${field}' is not an object (${describe(v)})`);
  return { ...v };
}

function positionOf(lsn: unknown, tsMs: unknown, input: AdapterInput, counter: Counter): ChangePosition {
  if (counter === 'offset') return { counter: Number(input.offset), type: 'offset' };
  if (counter === 'lsn') {
    const n = parseLsn(lsn);
    if (n !== undefined) return { counter: n, type: 'lsn' };
  }
  const ts = parseCounter(tsMs);
  if (ts !== undefined) return { counter: ts, type: 'ts_ms' };
  return { counter: input.timestamp, type: 'timestamp' };
}

/** A non-negative integer from a number, a bigint or a digit string: 42, 42n, '42' --> 42; else undefined. */
export function parseCounter(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value === 'bigint') return value >= 0n ? Number(value) : undefined;
  if (typeof value === 'string' && /^\d+$/.test(value.trim())) return Number(value.trim());
  return undefined;
}

/** An LSN as number, bigint, digit string or PostgreSQL text form: '0/16D9DF0' --> 23961072. */
function parseLsn(value: unknown): number | undefined {
  if (typeof value === 'string') {
    const text = /^([0-9A-Fa-f]+)\/([0-9A-Fa-f]+)$/.exec(value.trim());
    if (text) return Number((BigInt(`0x${text[1]}`) << 32n) | BigInt(`0x${text[2]}`));
  }
  return parseCounter(value);
}

// ---------------------------------------------------------------------------------------------
// Shared by the adapters of this folder

/** JSON objects and decoded Avro records (not arrays, buffers, dates). */
export function isRow(value: unknown): value is Row {
  return Object.prototype.toString.call(value) === '[object Object]';
}

/** Kafka Connect's JsonConverter with schemas.enable: `{ schema, payload }` --> payload; anything else unchanged. */
export function unwrapEnvelope(value: unknown): unknown {
  if (!isRow(value)) return value;
  const names = Object.keys(value);
  return names.length === 2 && 'schema' in value && 'payload' in value ? value['payload'] : value;
}

/**
 * A decoded Kafka key --> its key object, or null when it is not one:
 *   { id: 1 } --> { id: 1 };  { schema, payload: { id: 1 } } --> { id: 1 };  '{"id":1}' --> { id: 1 };  '123', null --> null
 */
export function objectKey(key: unknown): Row | null {
  let k = unwrapEnvelope(key);
  if (typeof k === 'string' && k.trimStart().startsWith('{')) {
    try {
      k = unwrapEnvelope(JSON.parse(k));
    } catch {
      return null;
    }
  }
  return isRow(k) ? { ...k } : null;
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  return typeof value;
}

/**
 * A zero-length payload is a delete of the key (Fast Data RTU >= 7.5.7, `db2` and `debezium`). It
 * carries no source position, so it is ordered by the Kafka timestamp, as Fast Data orders it.
 */
export function emptyPayloadDelete(adapter: string, key: Row | null, input: AdapterInput): ChangeEvent {
  if (key === null) {
    throw new TributaryError('TRB_MISSING_KEY', `${adapter} adapter: a zero-length payload (a delete) needs a key object, got ${describe(input.key)}`, {
      context: { adapter, topic: input.topic, partition: input.partition, offset: input.offset },
    });
  }
  return { op: 'delete', key, before: null, after: null, position: { counter: input.timestamp, type: 'timestamp' } };
}

export function decodeError(adapter: string, input: AdapterInput, message: string): TributaryError {
  return new TributaryError('TRB_DECODE', `${adapter} adapter: ${message}`, {
    context: { adapter, topic: input.topic, partition: input.partition, offset: input.offset },
  });
}

export function unknownOperation(adapter: string, input: AdapterInput, op: unknown): TributaryError {
  const shown = typeof op === 'string' ? `'${op}'` : describe(op);
  return new TributaryError('TRB_UNKNOWN_OPERATION', `${adapter} adapter: unknown operation ${shown}`, {
    context: { adapter, op: typeof op === 'string' ? op : null, topic: input.topic, partition: input.partition, offset: input.offset },
  });
}
