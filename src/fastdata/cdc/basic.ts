/**
 * The `basic` adapter (Fast Data's default, alias `db2`, for IBM InfoSphere Data Replication):
 * the key is the primary-key object, the value the full row, a null value a delete. There is no
 * operation type, so every row is an upsert (the projection applies an update of a missing row as
 * an insert), and `before` is never known.
 *
 *   key { USER_ID: 123 }, value { USER_ID: 123, NAME: 'x' }
 *       --> { op: 'update', key: { USER_ID: 123 }, before: null, after: { USER_ID: 123, NAME: 'x' }, position: { counter: <Kafka ts>, type: 'timestamp' } }
 *   key { USER_ID: 123 }, value null
 *       --> { op: 'delete', key: { USER_ID: 123 }, before: null, after: null, position: ... }
 *
 * A key given as a JSON string ('{"USER_ID":123}') is parsed; any other key (e.g. '' when the
 * value carries the primary key) gives key null.
 */
import { TributaryError } from '../../errors.js';
import type { AdapterInput, AdapterResult, CdcAdapter } from './change-event.js';
import { decodeError, describe, isRow, objectKey, unwrapEnvelope } from './debezium.js';

function basicAdapter(name: 'basic' | 'db2'): CdcAdapter {
  return {
    name,
    adapt(input: AdapterInput): AdapterResult {
      const key = objectKey(input.key);
      const value = unwrapEnvelope(input.value);
      const position = { counter: input.timestamp, type: 'timestamp' } as const;
      if (value === null || value === undefined) {
        if (key === null) {
          throw new TributaryError('TRB_MISSING_KEY', `${name} adapter: a delete (null value) needs a key object, got ${describe(input.key)}`, {
            context: { adapter: name, topic: input.topic, partition: input.partition, offset: input.offset },
          });
        }
        return { op: 'delete', key, before: null, after: null, position };
      }
      if (!isRow(value)) throw decodeError(name, input, `value is not an object (${describe(value)})`);
      return { op: 'update', key, before: null, after: { ...value }, position };
    },
  };
}

export function basic(): CdcAdapter {
  return basicAdapter('basic');
}

/** The same adapter under Fast Data's other name for it. */
export function db2(): CdcAdapter {
  return basicAdapter('db2');
}
