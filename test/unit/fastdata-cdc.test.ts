/**
 * CDC adapters against the documented Fast Data ingestion examples (fastdata.md §2.1) and real
 * Debezium PostgreSQL event shapes (cdc.md §5.1).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TributaryError } from '../../src/errors.js';
import {
  basic,
  customAdapter,
  db2,
  debezium,
  goldenGate,
  isSkip,
  type AdapterInput,
  type AdapterResult,
  type CdcAdapter,
  type ChangeEvent,
} from '../../src/fastdata/cdc/index.js';
import { textOrJsonKey } from '../../src/fastdata/cdc/golden-gate.js';
import { fastData, field, json, projection } from '../../src/index.js';
import { TestDriver } from '../../src/testing/index.js';

const KAFKA_TS = 1767400000999;

function input(key: unknown, value: unknown, extra: Partial<AdapterInput> = {}): AdapterInput {
  return { key, value, topic: 'tributary.public.customers', partition: 0, offset: '41', timestamp: KAFKA_TS, headers: {}, ...extra };
}

function event(result: AdapterResult): ChangeEvent {
  if (isSkip(result)) assert.fail(`expected a change event, got skip '${result.skip}'`);
  return result;
}

function fails(adapter: CdcAdapter, record: AdapterInput, code: TributaryError['code'], message?: RegExp): TributaryError {
  let caught: unknown;
  try {
    adapter.adapt(record);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof TributaryError, `expected a TributaryError, got ${String(caught)}`);
  assert.equal(caught.code, code);
  if (message) assert.match(caught.message, message);
  return caught;
}

// --- fastdata.md §2.1 (documented Fast Data examples) -------------------------------------------

const FD_DB2_UPSERT = {
  key: { USER_ID: 123, TAX_CODE: 'ABCDEF12B02M100O' },
  value: { USER_ID: 123, TAX_CODE: 'ABCDEF12B02M100O', NAME: 456 },
};
const FD_DB2_DELETE = { key: { USER_ID: 123, TAX_CODE: 'ABCDEF12B02M100O' }, value: null };
const FD_GG_INSERT = {
  key: '123',
  value: { op_type: 'I', before: null, after: { USER_ID: 123, TAX_CODE: 'the-fiscal-code-123', COINS: 300000000 } },
};
const FD_GG_DELETE = {
  key: '123',
  value: { op_type: 'D', before: { USER_ID: 123, TAX_CODE: 'the-fiscal-code-123', COINS: 300000000 }, after: null },
};
const FD_DEBEZIUM_DELETE = {
  key: { USER_ID: 123, TAX_CODE: 'ABCDEF12B02M100O' },
  value: { op: 'd', before: { USER_ID: 123, TAX_CODE: 'the-fiscal-code-123', COINS: 300000000 }, after: null },
};

// --- cdc.md §5.1 (Debezium PostgreSQL, JsonConverter schemas.enable=false) ----------------------

const ANN = {
  id: 1,
  name: 'Ann',
  email: 'ann@example.com',
  balance: '12.34',
  score: '3.14159',
  birthday: 7441,
  created_at: 1767323045123456,
  updated_at: '2026-01-02T03:04:05.123456Z',
};
const SOURCE = {
  version: '3.7.1.Final',
  connector: 'postgresql',
  name: 'tributary',
  ts_ms: 1767400000000,
  snapshot: 'last',
  db: 'shop',
  sequence: '[null,"23961072"]',
  ts_us: 1767400000000000,
  ts_ns: 1767400000000000000,
  schema: 'public',
  table: 'customers',
  txId: 747,
  lsn: 23961072,
  xmin: null,
  origin: null,
  origin_lsn: null,
};
const PG_SNAPSHOT = { before: null, after: ANN, source: SOURCE, transaction: null, op: 'r', ts_ms: 1767400000123, ts_us: 1767400000123456, ts_ns: Number('1767400000123456789') };
const STREAM_SOURCE = { ...SOURCE, snapshot: null, sequence: '["23961328","23961384"]', lsn: 23961384, ts_ms: 1767400001000 };
const PG_INSERT = { ...PG_SNAPSHOT, op: 'c', source: STREAM_SOURCE };
const PG_UPDATE_DEFAULT = { ...PG_SNAPSHOT, op: 'u', before: null, after: { ...ANN, name: 'Anna' }, source: { ...STREAM_SOURCE, lsn: 23961500 } };
const PG_DELETE_DEFAULT = {
  ...PG_SNAPSHOT,
  op: 'd',
  before: { id: 1, name: '', email: null, balance: null, score: null, birthday: null, created_at: 0, updated_at: null },
  after: null,
  source: { ...STREAM_SOURCE, lsn: 23961600 },
};
const PG_TRUNCATE = { before: null, after: null, source: STREAM_SOURCE, transaction: null, op: 't', ts_ms: 1767400002000 };
const PG_KEY = { id: 1 };

describe('debezium adapter', () => {
  const adapter = debezium();

  it('Fast Data example: delete with before, no source (Kafka timestamp counter)', () => {
    const e = event(adapter.adapt(input(FD_DEBEZIUM_DELETE.key, FD_DEBEZIUM_DELETE.value)));
    assert.deepEqual(e, {
      op: 'delete',
      key: { USER_ID: 123, TAX_CODE: 'ABCDEF12B02M100O' },
      before: { USER_ID: 123, TAX_CODE: 'the-fiscal-code-123', COINS: 300000000 },
      after: null,
      position: { counter: KAFKA_TS, type: 'timestamp' },
    });
  });

  it('snapshot read r --> insert with snapshot: true, counter from source.lsn', () => {
    const e = event(adapter.adapt(input(PG_KEY, PG_SNAPSHOT)));
    assert.deepEqual(e, { op: 'insert', key: { id: 1 }, before: null, after: ANN, position: { counter: 23961072, type: 'lsn' }, snapshot: true });
  });

  it('insert c --> insert, not a snapshot', () => {
    const e = event(adapter.adapt(input(PG_KEY, PG_INSERT)));
    assert.equal(e.op, 'insert');
    assert.equal(e.snapshot, undefined);
    assert.deepEqual(e.after, ANN);
    assert.deepEqual(e.position, { counter: 23961384, type: 'lsn' });
  });

  it('update u with before null (REPLICA IDENTITY DEFAULT)', () => {
    const e = event(adapter.adapt(input(PG_KEY, PG_UPDATE_DEFAULT)));
    assert.equal(e.op, 'update');
    assert.equal(e.before, null);
    assert.equal(e.after?.['name'], 'Anna');
    assert.deepEqual(e.position, { counter: 23961500, type: 'lsn' });
  });

  it('update u with the full before (REPLICA IDENTITY FULL)', () => {
    const e = event(adapter.adapt(input(PG_KEY, { ...PG_UPDATE_DEFAULT, before: ANN })));
    assert.deepEqual(e.before, ANN);
  });

  it('delete d with a partial before (key columns real, placeholders elsewhere)', () => {
    const e = event(adapter.adapt(input(PG_KEY, PG_DELETE_DEFAULT)));
    assert.equal(e.op, 'delete');
    assert.equal(e.after, null);
    assert.deepEqual(e.before, PG_DELETE_DEFAULT.before);
    assert.deepEqual(e.key, { id: 1 });
  });

  it('tombstone, truncate, logical message and heartbeat are skips', () => {
    assert.deepEqual(adapter.adapt(input(PG_KEY, null)), { skip: 'tombstone' });
    assert.deepEqual(adapter.adapt(input(null, PG_TRUNCATE)), { skip: 'truncate' });
    const message = { op: 'm', ts_ms: 1, source: STREAM_SOURCE, message: { prefix: 'p', content: 'aGk=' } };
    assert.deepEqual(adapter.adapt(input(null, message, { topic: 'tributary.message' })), { skip: 'message' });
    assert.deepEqual(adapter.adapt(input({ serverName: 'tributary' }, { ts_ms: 1 }, { topic: '__debezium-heartbeat.tributary' })), { skip: 'heartbeat' });
  });

  it('schema envelope on key and value is unwrapped', () => {
    const key = { schema: { type: 'struct', fields: [{ type: 'int64', optional: false, field: 'id' }] }, payload: PG_KEY };
    const value = { schema: { type: 'struct', name: 'tributary.public.customers.Envelope', version: 2 }, payload: PG_INSERT };
    const withEnvelope = event(adapter.adapt(input(key, value)));
    assert.deepEqual(withEnvelope, event(adapter.adapt(input(PG_KEY, PG_INSERT))));
    assert.deepEqual(withEnvelope.key, { id: 1 });
    assert.deepEqual(adapter.adapt(input(key, { schema: null, payload: null })), { skip: 'tombstone' });
  });

  it('Avro-decoded values (record instances, unwrapped unions) work the same', () => {
    class Value {
      constructor(
        readonly before: null,
        readonly after: object,
        readonly source: object,
        readonly op: string,
      ) {}
    }
    class Key {
      constructor(readonly id: number) {}
    }
    const e = event(adapter.adapt(input(new Key(1), new Value(null, ANN, STREAM_SOURCE, 'c'))));
    assert.deepEqual(e.key, { id: 1 });
    assert.deepEqual(e.after, ANN);
    assert.deepEqual(e.position, { counter: 23961384, type: 'lsn' });
  });

  it('source.lsn as a numeric string or text LSN; ts_ms and Kafka timestamp fallbacks', () => {
    const at = (source: object) => event(adapter.adapt(input(PG_KEY, { ...PG_INSERT, source }))).position;
    assert.deepEqual(at({ lsn: '23961384', ts_ms: 5 }), { counter: 23961384, type: 'lsn' });
    assert.deepEqual(at({ lsn: '0/16D9DF0' }), { counter: 23961072, type: 'lsn' });
    assert.deepEqual(at({ ts_ms: 1767400001000 }), { counter: 1767400001000, type: 'ts_ms' });
    assert.deepEqual(at({}), { counter: KAFKA_TS, type: 'timestamp' });
  });

  it('counter option: ts_ms or Kafka offset', () => {
    assert.deepEqual(event(debezium({ counter: 'ts_ms' }).adapt(input(PG_KEY, PG_INSERT))).position, { counter: 1767400001000, type: 'ts_ms' });
    assert.deepEqual(event(debezium({ counter: 'offset' }).adapt(input(PG_KEY, PG_INSERT))).position, { counter: 41, type: 'offset' });
  });

  it('a non-object key gives key null', () => {
    assert.equal(event(adapter.adapt(input('1', PG_INSERT))).key, null);
    assert.equal(event(adapter.adapt(input(null, PG_INSERT))).key, null);
    assert.deepEqual(event(adapter.adapt(input('{"id":1}', PG_INSERT))).key, { id: 1 });
  });

  it('flattened ExtractNewRecordState values', () => {
    const upsert = event(adapter.adapt(input(PG_KEY, { ...ANN, __op: 'u', __source_lsn: 42, __source_ts_ms: 7 })));
    assert.deepEqual(upsert, { op: 'update', key: { id: 1 }, before: null, after: ANN, position: { counter: 42, type: 'lsn' } });

    const snapshot = event(adapter.adapt(input(PG_KEY, { ...ANN, __op: 'r', __lsn: '43' })));
    assert.equal(snapshot.op, 'insert');
    assert.equal(snapshot.snapshot, true);
    assert.deepEqual(snapshot.position, { counter: 43, type: 'lsn' });

    const deleted = event(adapter.adapt(input(PG_KEY, { ...PG_DELETE_DEFAULT.before, __deleted: 'true', __ts_ms: 99 })));
    assert.deepEqual(deleted, { op: 'delete', key: { id: 1 }, before: PG_DELETE_DEFAULT.before, after: null, position: { counter: 99, type: 'ts_ms' } });
    assert.equal(event(adapter.adapt(input(PG_KEY, { ...ANN, __op: 'd', __deleted: true }))).op, 'delete');

    const bare = event(adapter.adapt(input(PG_KEY, { ...ANN, __deleted: 'false' })));
    assert.deepEqual(bare, { op: 'update', key: { id: 1 }, before: null, after: ANN, position: { counter: KAFKA_TS, type: 'timestamp' } });
  });

  it('unknown op --> TRB_UNKNOWN_OPERATION; non-object value or image --> TRB_DECODE', () => {
    fails(adapter, input(PG_KEY, { ...PG_INSERT, op: 'x' }), 'TRB_UNKNOWN_OPERATION', /'x'/);
    fails(adapter, input(PG_KEY, { ...ANN, __op: 'z' }), 'TRB_UNKNOWN_OPERATION');
    fails(adapter, input(PG_KEY, 'not json'), 'TRB_DECODE');
    fails(adapter, input(PG_KEY, [1, 2]), 'TRB_DECODE');
    fails(adapter, input(PG_KEY, { ...PG_INSERT, after: 'row' }), 'TRB_DECODE');
    fails(adapter, input(PG_KEY, { ...PG_INSERT, after: null }), 'TRB_DECODE');
  });
});

describe('golden-gate adapter', () => {
  const adapter = goldenGate();

  it('Fast Data examples: I and D, key null, Kafka timestamp when pos is absent', () => {
    assert.deepEqual(event(adapter.adapt(input(FD_GG_INSERT.key, FD_GG_INSERT.value))), {
      op: 'insert',
      key: null,
      before: null,
      after: { USER_ID: 123, TAX_CODE: 'the-fiscal-code-123', COINS: 300000000 },
      position: { counter: KAFKA_TS, type: 'timestamp' },
    });
    assert.deepEqual(event(adapter.adapt(input(FD_GG_DELETE.key, FD_GG_DELETE.value))), {
      op: 'delete',
      key: null,
      before: { USER_ID: 123, TAX_CODE: 'the-fiscal-code-123', COINS: 300000000 },
      after: null,
      position: { counter: KAFKA_TS, type: 'timestamp' },
    });
  });

  it('U with before and after; pos as counter (string or number)', () => {
    const value = { table: 'MKT.PREFS', op_type: 'U', op_ts: '2026-01-02 03:04:05.000000', pos: '00000000020000004567', before: { A: 1 }, after: { A: 2 } };
    assert.deepEqual(event(adapter.adapt(input('1', value))), { op: 'update', key: null, before: { A: 1 }, after: { A: 2 }, position: { counter: 20000004567, type: 'pos' } });
    assert.deepEqual(event(adapter.adapt(input('1', { ...value, pos: 17 }))).position, { counter: 17, type: 'pos' });
    assert.equal(event(adapter.adapt(input('1', { op_type: 'U', after: { A: 2 } }))).before, null);
  });

  it("accepts lower case and full operation names; before absent on insert, after on delete", () => {
    assert.equal(event(adapter.adapt(input('1', { op_type: 'insert', after: { A: 1 }, pos: '1' }))).op, 'insert');
    assert.equal(event(adapter.adapt(input('1', { op_type: 'u', after: { A: 1 }, pos: '1' }))).op, 'update');
    const d = event(adapter.adapt(input('1', { op_type: 'DELETE', before: { A: 1 }, after: { A: 9 }, pos: '1' })));
    assert.deepEqual([d.op, d.after], ['delete', null]);
    assert.equal(event(adapter.adapt(input('1', { op_type: 'I', before: { A: 0 }, after: { A: 1 } }))).before, null);
    assert.deepEqual(adapter.adapt(input('1', { op_type: 'T', pos: '1' })), { skip: 'truncate' });
  });

  it("counter: 'timestamp' ignores pos", () => {
    const e = event(goldenGate({ counter: 'timestamp' }).adapt(input('1', { op_type: 'I', after: { A: 1 }, pos: '99' })));
    assert.deepEqual(e.position, { counter: KAFKA_TS, type: 'timestamp' });
  });

  it('missing or unknown op_type --> TRB_UNKNOWN_OPERATION; bad shapes --> TRB_DECODE', () => {
    fails(adapter, input('1', { after: { A: 1 } }), 'TRB_UNKNOWN_OPERATION');
    fails(adapter, input('1', { op_type: 'X', after: { A: 1 } }), 'TRB_UNKNOWN_OPERATION', /'X'/);
    fails(adapter, input('1', 42), 'TRB_DECODE');
    fails(adapter, input('1', { op_type: 'I', after: null }), 'TRB_DECODE');
    fails(adapter, input('1', { op_type: 'D', after: null }), 'TRB_DECODE');
  });
});

describe('basic / db2 adapter', () => {
  it('Fast Data examples: full row --> update (upsert), null --> delete with the key only', () => {
    for (const adapter of [basic(), db2()]) {
      assert.deepEqual(event(adapter.adapt(input(FD_DB2_UPSERT.key, FD_DB2_UPSERT.value))), {
        op: 'update',
        key: { USER_ID: 123, TAX_CODE: 'ABCDEF12B02M100O' },
        before: null,
        after: { USER_ID: 123, TAX_CODE: 'ABCDEF12B02M100O', NAME: 456 },
        position: { counter: KAFKA_TS, type: 'timestamp' },
      });
      assert.deepEqual(event(adapter.adapt(input(FD_DB2_DELETE.key, FD_DB2_DELETE.value))), {
        op: 'delete',
        key: { USER_ID: 123, TAX_CODE: 'ABCDEF12B02M100O' },
        before: null,
        after: null,
        position: { counter: KAFKA_TS, type: 'timestamp' },
      });
    }
    assert.equal(basic().name, 'basic');
    assert.equal(db2().name, 'db2');
  });

  it('parses a JSON string key; an empty key (PK in the value) gives key null', () => {
    assert.deepEqual(event(basic().adapt(input('{"USER_ID":123}', { USER_ID: 123 }))).key, { USER_ID: 123 });
    assert.equal(event(basic().adapt(input('', { USER_ID: 123 }))).key, null);
  });

  it('a delete without a key object --> TRB_MISSING_KEY; a non-object value --> TRB_DECODE', () => {
    fails(basic(), input('', null), 'TRB_MISSING_KEY');
    fails(basic(), input({ USER_ID: 1 }, 'x'), 'TRB_DECODE');
  });
});

describe('custom adapter', () => {
  it('passes ChangeEvents and skips through', () => {
    const change: ChangeEvent = { op: 'insert', key: { id: 1 }, before: null, after: { id: 1 }, position: { counter: 5, type: 'custom' } };
    assert.deepEqual(customAdapter('mine', () => change).adapt(input(null, {})), change);
    assert.deepEqual(customAdapter('mine', () => ({ skip: 'message' })).adapt(input(null, {})), { skip: 'message' });
  });

  it('maps the Fast Data RTU output shape', () => {
    const adapter = customAdapter('rtu', (record) => {
      const value = record.value as { ID: number; op?: 'I' | 'U' | 'D' } | null;
      return value === null
        ? { keyObject: record.key as { ID: number }, value: null, timestampDate: new Date(record.timestamp) }
        : { keyObject: { ID: value.ID }, value, operation: value.op, operationPosition: 7 };
    });
    assert.deepEqual(event(adapter.adapt(input({ ID: 1 }, { ID: 1, op: 'I' }))), {
      op: 'insert',
      key: { ID: 1 },
      before: null,
      after: { ID: 1, op: 'I' },
      position: { counter: 7, type: 'custom' },
    });
    assert.equal(event(adapter.adapt(input({ ID: 1 }, { ID: 1 }))).op, 'update');
    assert.deepEqual(event(adapter.adapt(input({ ID: 1 }, null))), {
      op: 'delete',
      key: { ID: 1 },
      before: null,
      after: null,
      position: { counter: KAFKA_TS, type: 'timestamp' },
    });
  });

  it('RTU output with before/after (primary-key change) and the PS shape', () => {
    const rtu = customAdapter('rtu', () => ({ keyObject: { ID: 2 }, value: { ID: 2 }, operation: 'U', before: { ID: 1 }, after: { ID: 2 } }));
    const e = event(rtu.adapt(input(null, {})));
    assert.deepEqual([e.op, e.before, e.after], ['update', { ID: 1 }, { ID: 2 }]);
    const ps = customAdapter('ps', () => ({ operation: 'D', key: { ID: 1 }, before: { ID: 1, A: 1 }, after: null }));
    assert.deepEqual(event(ps.adapt(input(null, {}))).before, { ID: 1, A: 1 });
  });

  it('returning null or undefined is an error, not a skip (community #501)', () => {
    const nothing = customAdapter('lazy', () => null as never);
    fails(nothing, input(null, {}), 'TRB_DECODE', /returned null/);
    fails(customAdapter('lazy', () => undefined as never), input(null, {}), 'TRB_DECODE', /returned undefined/);
  });

  it('bad outputs and throwing functions', () => {
    fails(customAdapter('c', () => ({ keyObject: { ID: 1 }, value: {}, operation: 'X' }) as never), input(null, {}), 'TRB_UNKNOWN_OPERATION');
    fails(customAdapter('c', () => ({ keyObject: null, value: {} }) as never), input(null, {}), 'TRB_DECODE', /keyObject/);
    fails(customAdapter('c', () => ({ skip: 'later' }) as never), input(null, {}), 'TRB_DECODE');
    fails(customAdapter('c', () => ({ op: 'upsert', position: { counter: 1, type: 'custom' } }) as never), input(null, {}), 'TRB_UNKNOWN_OPERATION');
    const error = fails(
      customAdapter('c', () => {
        throw new SyntaxError('boom');
      }),
      input(null, {}),
      'TRB_DECODE',
      /boom/,
    );
    assert.ok(error.cause instanceof SyntaxError);
    const inner = new TributaryError('TRB_MISSING_KEY', 'no key');
    assert.equal(
      fails(
        customAdapter('c', () => {
          throw inner;
        }),
        input(null, {}),
        'TRB_MISSING_KEY',
      ),
      inner,
    );
  });
});

describe('golden-gate on the TestDriver: its default key serde', () => {
  it('reads plain-text keys (as GoldenGate writes them) and JSON keys; nothing is dead-lettered', async () => {
    const users = projection({
      name: 'pr_users',
      source: { topic: 'gg.users', adapter: goldenGate() },
      primaryKey: ['USER_ID'],
      fields: { USER_ID: field.integer(), TAX_CODE: field.string(), COINS: field.number() },
    });
    const t = fastData({ name: 'gg-keys', projections: [users] });
    const driver = await TestDriver.start(t);
    try {
      const value = (id: number, pos: string) => Buffer.from(JSON.stringify({ ...FD_GG_INSERT.value, after: { ...FD_GG_INSERT.value.after, USER_ID: id }, pos }));
      driver.pipeRaw('gg.users', [
        { key: Buffer.from(FD_GG_INSERT.key), value: value(123, '00000000000000001000') }, // the reference's plain key: 123
        { key: Buffer.from('{"USER_ID":124}'), value: value(124, '00000000000000001001') },
        { key: Buffer.from('[not json'), value: value(125, '00000000000000001002') }, // text that looks like JSON
      ]);
      await driver.idle();
      const docs = await driver.store.collection('pr_users').find({}, { sort: { USER_ID: 1 } });
      assert.deepEqual(docs.map((d) => [d['USER_ID'], d['TAX_CODE']]), [[123, 'the-fiscal-code-123'], [124, 'the-fiscal-code-123'], [125, 'the-fiscal-code-123']]);
      assert.deepEqual(await driver.readOutput('gg.users.dlq', { value: json<unknown>() }), [], 'nothing dead-lettered');
      assert.equal(textOrJsonKey.deserialize(Buffer.from('c0001'), { topic: 't', part: 'key' }), 'c0001');
      assert.deepEqual(textOrJsonKey.deserialize(Buffer.from('{"ID":"c0001"}'), { topic: 't', part: 'key' }), { ID: 'c0001' });
    } finally {
      await driver.close();
    }
  });
});
