/**
 * Oracle GoldenGate JSON (Kafka handler) --> ChangeEvent.
 *
 *   { op_type: 'I', pos: '00000000000000001234', after: { USER_ID: 123, ... } }
 *       --> { op: 'insert', key: null, before: null, after: { USER_ID: 123, ... }, position: { counter: 1234, type: 'pos' } }
 *   { op_type: 'U', before?: {...}, after: {...} }   --> update (before when GoldenGate sends it)
 *   { op_type: 'D', before: {...} }                  --> delete, after null
 *   op_type 'T' (truncate)                           --> { skip: 'truncate' }
 *
 * `op_type` also accepts lower case and INSERT / UPDATE / DELETE / TRUNCATE. The key is always null:
 * GoldenGate keys are `pk1_pk2` strings, so the projection derives the key from the row.
 */
import type { Serde } from '../../stream/serdes/types.js';
import type { AdapterInput, AdapterResult, CdcAdapter, ChangeOperation, ChangePosition, Row } from './change-event.js';
import { decodeError, describe, isRow, unknownOperation, unwrapEnvelope } from './debezium.js';

export interface GoldenGateOptions {
  /**
   * 'pos' (default, Fast Data's USE_POS_AS_COUNTER=true): the digits of `pos`, else the Kafka
   * timestamp when a record has no `pos`. 'timestamp': always the Kafka timestamp.
   */
  readonly counter?: 'pos' | 'timestamp';
}

const OPERATIONS: Readonly<Record<string, ChangeOperation | 'truncate'>> = {
  I: 'insert',
  INSERT: 'insert',
  U: 'update',
  UPDATE: 'update',
  D: 'delete',
  DELETE: 'delete',
  T: 'truncate',
  TRUNCATE: 'truncate',
};

export function goldenGate(options: GoldenGateOptions = {}): CdcAdapter {
  const counter = options.counter ?? 'pos';
  return {
    name: 'golden-gate',
    defaultKey: textOrJsonKey,
    adapt(input: AdapterInput): AdapterResult {
      const value = unwrapEnvelope(input.value);
      if (value === null || value === undefined) return { skip: 'tombstone' };
      if (!isRow(value)) throw decodeError('golden-gate', input, `value is not an object (${describe(value)})`);
      const opType = value['op_type'];
      const op = typeof opType === 'string' ? OPERATIONS[opType.trim().toUpperCase()] : undefined;
      if (op === undefined) throw unknownOperation('golden-gate', input, opType);
      if (op === 'truncate') return { skip: 'truncate' };
      const before = op === 'insert' ? null : image(value, 'before', input);
      const after = op === 'delete' ? null : image(value, 'after', input);
      if (op === 'delete' && before === null) throw decodeError('golden-gate', input, `op_type '${String(opType)}' without a 'before' row`);
      if (op !== 'delete' && after === null) throw decodeError('golden-gate', input, `op_type '${String(opType)}' without an 'after' row`);
      return { op, key: null, before, after, position: positionOf(value['pos'], input, counter) };
    },
  };
}

function image(value: Row, field: 'before' | 'after', input: AdapterInput): Row | null {
  const v = value[field];
  if (v === null || v === undefined) return null;
  if (!isRow(v)) throw decodeError('golden-gate', input, `'${field}' is not an object (${describe(v)})`);
  return { ...v };
}

/** `pos` as a number: '00000000000000001234' --> 1234, '0000000001-0000001234' --> 10000001234, 1234 --> 1234. */
export function parsePos(pos: unknown): number | undefined {
  if (typeof pos === 'number') return Number.isFinite(pos) && pos >= 0 ? pos : undefined;
  if (typeof pos === 'bigint') return pos >= 0n ? Number(pos) : undefined;
  if (typeof pos !== 'string') return undefined;
  const digits = pos.replace(/\D/g, '');
  return digits === '' ? undefined : Number(digits);
}

function positionOf(pos: unknown, input: AdapterInput, counter: 'pos' | 'timestamp'): ChangePosition {
  const n = counter === 'pos' ? parsePos(pos) : undefined;
  return n === undefined ? { counter: input.timestamp, type: 'timestamp' } : { counter: n, type: 'pos' };
}

/**
 * GoldenGate for Big Data writes the primary-key value as the Kafka key, as plain text ('c0001'), or
 * a JSON object when so configured: read either, so a plain key is not a decode error (the adapter
 * takes the primary key from the row anyway).
 *
 *   c0001            --> 'c0001'
 *   {"ID":"c0001"}   --> { ID: 'c0001' }
 */
export const textOrJsonKey: Serde<unknown> = {
  name: 'text-or-json',
  deserialize(bytes) {
    if (bytes === null) return null;
    const text = bytes.toString('utf8');
    if (text.startsWith('{') || text.startsWith('[')) {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return text; // a text key that happens to start with a bracket
      }
    }
    return text;
  },
  serialize(value) {
    if (value === null || value === undefined) return null;
    return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8');
  },
};
