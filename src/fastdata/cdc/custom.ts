/**
 * A custom adapter: a function from the decoded record to a ChangeEvent (or a skip), or to the
 * output of a Fast Data Real-Time Updater custom adapter (`kafkaMessageAdapter.js`), mapped here:
 *
 *   { keyObject: { id: 1 }, value: { id: 1, a: 2 } }                  --> update (upsert), after = value
 *   { keyObject: { id: 1 }, value: {...}, operation: 'I' }            --> insert
 *   { keyObject: { id: 1 }, value: null }                             --> delete, before null
 *   { ..., before, after, operationPosition: 42 }                     --> before/after as given, counter 42 (type 'custom')
 *   { ..., timestampDate: new Date(1700000000000) }                   --> counter 1700000000000 (type 'timestamp')
 *
 * The Projection Storer output `{ operation, key, before, after }` is accepted too (`key` for
 * `keyObject`). Returning null or undefined is an error (TRB_DECODE), not a skip: in Fast Data it
 * does not skip either (community #501). Return `{ skip: 'message' }` to skip a record.
 */
import { toTributaryError, TributaryError } from '../../errors.js';
import type { AdapterInput, AdapterResult, CdcAdapter, ChangeEvent, ChangeOperation, ChangePosition, Row, SkipReason } from './change-event.js';
import { decodeError, describe, isRow } from './debezium.js';

/** What a Fast Data RTU custom adapter returns. */
export interface RtuAdapterOutput {
  /** The primary-key fields (not nullable). */
  readonly keyObject: Row;
  /** The row; null means delete. */
  readonly value: Row | null;
  /** The Kafka message's time: becomes the ordering counter when `operationPosition` is absent. */
  readonly timestampDate?: Date;
  readonly offset?: number | string;
  /** Needed only to tell inserts from updates; without it a row is an upsert. */
  readonly operation?: 'I' | 'U' | 'D';
  readonly before?: Row | null;
  readonly after?: Row | null;
  /** A positive integer ordering the versions of a row (e.g. a source sequence). */
  readonly operationPosition?: number;
}

/** What a Fast Data Projection Storer custom adapter returns. */
export interface PsAdapterOutput {
  readonly operation: 'I' | 'U' | 'D';
  readonly key: Row;
  readonly before: Row | null;
  readonly after: Row | null;
}

export type CustomAdapterFunction = (input: AdapterInput) => AdapterResult | RtuAdapterOutput | PsAdapterOutput;

const SKIPS: readonly SkipReason[] = ['tombstone', 'truncate', 'message', 'heartbeat'];
const CHANGE_OPS: readonly ChangeOperation[] = ['insert', 'update', 'delete'];
const RTU_OPS: Readonly<Record<string, ChangeOperation>> = { I: 'insert', U: 'update', D: 'delete' };

export function customAdapter(name: string, fn: CustomAdapterFunction): CdcAdapter {
  return {
    name,
    adapt(input: AdapterInput): AdapterResult {
      let out: unknown;
      try {
        out = fn(input);
      } catch (error) {
        throw toTributaryError(error, 'TRB_DECODE', `${name} adapter threw: ${error instanceof Error ? error.message : String(error)}`, {
          adapter: name,
          topic: input.topic,
          partition: input.partition,
          offset: input.offset,
        });
      }
      if (out === null || out === undefined) {
        throw decodeError(name, input, `returned ${String(out)}: returning nothing does not skip a record; return { skip: 'message' } or filter upstream`);
      }
      if (!isRow(out)) throw decodeError(name, input, `returned ${describe(out)}, not an object`);
      if ('skip' in out) return checkedSkip(name, input, out['skip']);
      if ('op' in out && 'position' in out) return checkedEvent(name, input, out);
      return fromRtuOutput(name, input, out);
    },
  };
}

function checkedSkip(name: string, input: AdapterInput, reason: unknown): AdapterResult {
  if (typeof reason === 'string' && (SKIPS as readonly string[]).includes(reason)) return { skip: reason as SkipReason };
  throw decodeError(name, input, `unknown skip reason ${typeof reason === 'string' ? `'${reason}'` : describe(reason)}`);
}

function checkedEvent(name: string, input: AdapterInput, out: Row): ChangeEvent {
  const op = out['op'];
  if (typeof op !== 'string' || !(CHANGE_OPS as readonly string[]).includes(op)) {
    throw new TributaryError('TRB_UNKNOWN_OPERATION', `${name} adapter: unknown operation ${typeof op === 'string' ? `'${op}'` : describe(op)}`, {
      context: { adapter: name, topic: input.topic, partition: input.partition, offset: input.offset },
    });
  }
  const position = out['position'];
  if (!isRow(position) || typeof position['counter'] !== 'number' || typeof position['type'] !== 'string') {
    throw decodeError(name, input, `'position' must be { counter: number, type }`);
  }
  return out as unknown as ChangeEvent;
}

function fromRtuOutput(name: string, input: AdapterInput, out: Row): ChangeEvent {
  const keyObject = out['keyObject'] ?? out['key'];
  if (!isRow(keyObject)) throw decodeError(name, input, `'keyObject' must be an object, got ${describe(keyObject)}`);
  const value = optionalRow(name, input, out, 'value');
  const before = optionalRow(name, input, out, 'before');
  const after = optionalRow(name, input, out, 'after');
  const operation = out['operation'];
  let op: ChangeOperation | undefined;
  if (operation === undefined || operation === null) op = value === null && after === null ? 'delete' : 'update';
  else if (typeof operation === 'string') op = RTU_OPS[operation.toUpperCase()];
  if (op === undefined) {
    throw new TributaryError('TRB_UNKNOWN_OPERATION', `${name} adapter: unknown operation ${typeof operation === 'string' ? `'${operation}'` : describe(operation)}`, {
      context: { adapter: name, topic: input.topic, partition: input.partition, offset: input.offset },
    });
  }
  const position = positionOf(name, input, out);
  if (op === 'delete') return { op, key: { ...keyObject }, before: before ?? value, after: null, position };
  const row = after ?? value;
  if (row === null) throw decodeError(name, input, `operation '${String(operation)}' without 'value' or 'after'`);
  return { op, key: { ...keyObject }, before: op === 'insert' ? null : before, after: row, position };
}

function optionalRow(name: string, input: AdapterInput, out: Row, field: string): Row | null {
  const v = out[field];
  if (v === null || v === undefined) return null;
  if (!isRow(v)) throw decodeError(name, input, `'${field}' must be an object or null, got ${describe(v)}`);
  return { ...v };
}

function positionOf(name: string, input: AdapterInput, out: Row): ChangePosition {
  const position = out['operationPosition'];
  if (position !== undefined && position !== null) {
    if (typeof position !== 'number' || !Number.isFinite(position) || position < 0) {
      throw decodeError(name, input, `'operationPosition' must be a non-negative number, got ${String(position)}`);
    }
    return { counter: position, type: 'custom' };
  }
  const date = out['timestampDate'];
  const ms = date instanceof Date ? date.getTime() : typeof date === 'number' ? date : typeof date === 'string' ? Date.parse(date) : Number.NaN;
  return { counter: Number.isFinite(ms) ? ms : input.timestamp, type: 'timestamp' };
}
