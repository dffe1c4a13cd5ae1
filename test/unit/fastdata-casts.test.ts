/**
 * Fast Data built-in casts, Debezium decoders (cdc.md §5.3–§5.4), typed field declarations,
 * applyFields and extractPrimaryKey. The `@ts-expect-error` lines are checked by `tsc`.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TributaryError } from '../../src/errors.js';
import {
  casts,
  debeziumDecimal,
  decimalFromBytes,
  epochDaysToDate,
  jsonString,
  microTimestampToDate,
  psCasts,
} from '../../src/fastdata/projection/casts.js';
import { applyFields, castRow, extractPrimaryKey, field, type FieldsOf } from '../../src/fastdata/projection/fields.js';

describe('Fast Data built-in casts', () => {
  it('defaultIdentity returns its input', () => {
    const o = { a: 1 };
    assert.equal(casts.defaultIdentity(o, 'f'), o);
    assert.equal(casts.defaultIdentity(null, 'f'), null);
  });

  it('defaultCastToString', () => {
    const c = casts.defaultCastToString;
    assert.equal(c('a'), 'a');
    assert.equal(c(12), '12');
    assert.equal(c(false), 'false');
    assert.equal(c(10n), '10');
    assert.equal(c({ a: 1, b: [2] }), '{"a":1,"b":[2]}');
    assert.equal(c([1, 'x']), '[1,"x"]');
    assert.equal(c(new Date(0)), '1970-01-01T00:00:00.000Z');
    assert.equal(c(Buffer.from([1, 2])), 'AQI=');
    assert.equal(c(null), undefined);
    assert.equal(c(undefined), undefined);
    assert.equal(c(new Date('x')), undefined);
  });

  it('defaultCastToInteger: Number() then the integer part, NaN --> undefined', () => {
    const c = casts.defaultCastToInteger;
    assert.equal(c('12'), 12);
    assert.equal(c('12.7'), 12);
    assert.equal(c(-3.9), -3);
    assert.equal(c(' 42 '), 42);
    assert.equal(c('1e3'), 1000);
    assert.equal(c(1e21), 1e21);
    assert.equal(c('abc'), undefined);
    assert.equal(c('12abc'), undefined);
    assert.equal(c(''), undefined);
    assert.equal(c(null), undefined);
    assert.equal(c(true), undefined);
    assert.equal(c(Number.NaN), undefined);
    assert.equal(c(Number.POSITIVE_INFINITY), undefined);
    assert.equal(c({}), undefined);
  });

  it('defaultCastToFloat', () => {
    const c = casts.defaultCastToFloat;
    assert.equal(c('12.5'), 12.5);
    assert.equal(c(3), 3);
    assert.equal(c('-0.25'), -0.25);
    assert.equal(c('abc'), undefined);
    assert.equal(c(''), undefined);
    assert.equal(c(null), undefined);
    assert.equal(c([1]), undefined);
  });

  it('defaultCastUnitTimestampToISOString', () => {
    const c = casts.defaultCastUnitTimestampToISOString;
    assert.equal(c(0), '1970-01-01T00:00:00.000Z');
    assert.equal(c(1767323045123), '2026-01-02T03:04:05.123Z');
    assert.equal(c('1767323045123'), '2026-01-02T03:04:05.123Z');
    assert.equal(c(new Date(1000)), '1970-01-01T00:00:01.000Z');
    assert.equal(c('2026-01-02'), undefined);
    assert.equal(c(8.64e15 + 1), undefined);
    assert.equal(c(null), undefined);
  });

  it("defaultCastStringToBoolean: only 'true'/'false', booleans pass", () => {
    const c = casts.defaultCastStringToBoolean;
    assert.equal(c('true'), true);
    assert.equal(c('false'), false);
    assert.equal(c(true), true);
    assert.equal(c(false), false);
    assert.equal(c('TRUE'), undefined);
    assert.equal(c('yes'), undefined);
    assert.equal(c(1), undefined);
    assert.equal(c(null), undefined);
  });

  it('defaultCastToDate', () => {
    const c = casts.defaultCastToDate;
    assert.equal(c('2026-01-02T03:04:05.123Z')?.toISOString(), '2026-01-02T03:04:05.123Z');
    assert.equal(c(0)?.toISOString(), '1970-01-01T00:00:00.000Z');
    const d = new Date(5);
    const copy = c(d);
    assert.deepEqual(copy, d);
    assert.notEqual(copy, d);
    assert.equal(c('not a date'), undefined);
    assert.equal(c(''), undefined);
    assert.equal(c(null), undefined);
    assert.equal(c({}), undefined);
  });

  it('defaultCastToObject: parses JSON strings, must be a plain object', () => {
    const c = casts.defaultCastToObject;
    assert.deepEqual(c('{"a":1}'), { a: 1 });
    const o = { b: 2 };
    assert.equal(c(o), o);
    assert.equal(c('[1]'), undefined);
    assert.equal(c([{ a: 1 }]), undefined);
    assert.equal(c('{bad'), undefined);
    assert.equal(c('null'), undefined);
    assert.equal(c(null), undefined);
    assert.equal(c(new Date()), undefined);
    assert.equal(c(3), undefined);
  });

  it('defaultCastToArrayOfObject', () => {
    const c = casts.defaultCastToArrayOfObject;
    assert.deepEqual(c('[{"a":1},{"b":2}]'), [{ a: 1 }, { b: 2 }]);
    assert.deepEqual(c([{ a: 1 }]), [{ a: 1 }]);
    assert.deepEqual(c([]), []);
    assert.equal(c([1, 2]), undefined);
    assert.equal(c('[{"a":1},2]'), undefined);
    assert.equal(c('{}'), undefined);
    assert.equal(c({ a: 1 }), undefined);
    assert.equal(c(null), undefined);
  });

  it('Projection Storer names are the same functions', () => {
    assert.equal(psCasts.identity, casts.defaultIdentity);
    assert.equal(psCasts.castToString, casts.defaultCastToString);
    assert.equal(psCasts.castToInteger, casts.defaultCastToInteger);
    assert.equal(psCasts.castToFloat, casts.defaultCastToFloat);
    assert.equal(psCasts.castUnixTimestampToISOString, casts.defaultCastUnitTimestampToISOString);
    assert.equal(psCasts.castStringToBoolean, casts.defaultCastStringToBoolean);
    assert.equal(psCasts.castToDate, casts.defaultCastToDate);
    assert.equal(psCasts.castToObject, casts.defaultCastToObject);
    assert.equal(psCasts.castToArrayOfObject, casts.defaultCastToArrayOfObject);
    assert.equal(Object.keys(casts).length, 9);
    assert.equal(Object.keys(psCasts).length, 9);
  });
});

describe('Debezium decoders', () => {
  it('decimals: base64 two-complement with the schema scale', () => {
    const d2 = debeziumDecimal(2);
    assert.equal(d2('BNI='), '12.34');
    assert.equal(d2('/gw='), '-5.00');
    assert.equal(d2('AA=='), '0.00');
    assert.equal(d2('Jws='), '99.95');
    assert.equal(d2(Buffer.from('BNI=', 'base64')), '12.34');
    assert.equal(debeziumDecimal(0)('BNI='), '1234');
    assert.equal(debeziumDecimal(4)('AQ=='), '0.0001');
    assert.equal(decimalFromBytes(Buffer.from('/gw=', 'base64'), 2), '-5.00');
  });

  it('decimals: VariableScaleDecimal struct, strings and numbers', () => {
    const d = debeziumDecimal(2);
    assert.equal(d({ scale: 5, value: 'BMsv' }), '3.14159');
    assert.equal(d({ scale: 5, value: Buffer.from('BMsv', 'base64') }), '3.14159');
    assert.equal(d('12.34'), '12.34');
    assert.equal(d('-5'), '-5');
    assert.equal(d(12.3), '12.30');
    assert.equal(d(null), undefined);
    assert.equal(d('not base64!'), undefined);
    assert.equal(d({ scale: -1, value: 'AA==' }), undefined);
    assert.equal(d(Number.NaN), undefined);
    assert.throws(() => debeziumDecimal(1.5), (e: unknown) => e instanceof TributaryError && e.code === 'TRB_CONFIG');
  });

  // -29293.56 with scale 2 is the unscaled integer -2929356: bytes d3 4d 34, base64 '0000' (digits only).
  const NEGATIVE = { value: '-29293.56', bytes: Buffer.from([0xd3, 0x4d, 0x34]), base64: '0000' };

  it('decimals in precise mode (the default): bytes and base64, negatives, base64 made of digits', () => {
    assert.equal(NEGATIVE.bytes.toString('base64'), NEGATIVE.base64);
    for (const mode of ['precise', 'auto'] as const) {
      const d2 = debeziumDecimal(2, { mode });
      assert.equal(d2(NEGATIVE.base64), NEGATIVE.value, mode);
      assert.equal(d2(NEGATIVE.bytes), NEGATIVE.value, mode);
      assert.equal(d2({ scale: 2, value: NEGATIVE.base64 }), NEGATIVE.value, mode);
      assert.equal(d2('/w=='), '-0.01', mode);
      assert.equal(d2('gA=='), '-1.28', mode);
      assert.equal(d2('1234'), '-26588.24', mode); // d7 6d f8: digits that are base64 are base64
    }
    assert.equal(debeziumDecimal(2)(NEGATIVE.base64), NEGATIVE.value);
    const precise = debeziumDecimal(2, { mode: 'precise' });
    assert.equal(precise('12.34'), undefined);
    assert.equal(precise(12.34), undefined);
  });

  it('decimals in string mode: decimal text only, as written', () => {
    const d = debeziumDecimal(2, { mode: 'string' });
    assert.equal(d(NEGATIVE.value), NEGATIVE.value);
    assert.equal(d('1234'), '1234');
    assert.equal(d('0000'), '0000');
    assert.equal(d('+7.5'), '+7.5');
    assert.equal(d(NEGATIVE.base64 + '='), undefined);
    assert.equal(d('NaN'), undefined);
    assert.equal(d(-29293.56), undefined);
    assert.equal(d(NEGATIVE.bytes), undefined);
    // auto mode reads text that is not base64 as text
    assert.equal(debeziumDecimal(2)(NEGATIVE.value), NEGATIVE.value);
    assert.equal(debeziumDecimal(0)('-5'), '-5');
    assert.equal(debeziumDecimal(0)('123'), '123');
  });

  it('decimals in double mode: numbers with the declared scale', () => {
    const d = debeziumDecimal(2, { mode: 'double' });
    assert.equal(d(-29293.56), NEGATIVE.value);
    assert.equal(d(-0.5), '-0.50');
    assert.equal(d(12.3), '12.30');
    assert.equal(d(Number.NEGATIVE_INFINITY), undefined);
    assert.equal(d(NEGATIVE.value), undefined);
    assert.equal(d(NEGATIVE.base64), undefined);
    assert.equal(debeziumDecimal(2)(-29293.56), NEGATIVE.value);
    assert.throws(() => debeziumDecimal(2, { mode: 'exact' as never }), (e: unknown) => e instanceof TributaryError && e.code === 'TRB_CONFIG' && /mode must be one of auto, precise, string, double/.test(e.message));
  });

  it('dates, micro timestamps and JSON strings', () => {
    assert.equal(epochDaysToDate(7441)?.toISOString(), '1990-05-17T00:00:00.000Z');
    assert.equal(epochDaysToDate('7441')?.toISOString().slice(0, 10), '1990-05-17');
    assert.equal(epochDaysToDate(-1)?.toISOString().slice(0, 10), '1969-12-31');
    assert.equal(epochDaysToDate(1.5), undefined);
    assert.equal(epochDaysToDate(null), undefined);

    assert.equal(microTimestampToDate(1767323045123456)?.toISOString(), '2026-01-02T03:04:05.123Z');
    assert.equal(microTimestampToDate(1767323045123456n)?.toISOString(), '2026-01-02T03:04:05.123Z');
    assert.equal(microTimestampToDate(-1)?.toISOString(), '1969-12-31T23:59:59.999Z');
    assert.equal(microTimestampToDate(-1n)?.toISOString(), '1969-12-31T23:59:59.999Z');
    assert.equal(microTimestampToDate('x'), undefined);

    assert.deepEqual(jsonString('{"a":[1,2]}'), { a: [1, 2] });
    assert.deepEqual(jsonString({ a: 1 }), { a: 1 });
    assert.equal(jsonString('{bad'), undefined);
    assert.equal(jsonString(null), undefined);
  });
});

interface Address {
  city: string;
}

describe('typed fields', () => {
  it('infers the document type from the declarations: what the ingest guarantees, no more', () => {
    const f = { id: field.string({ required: true }), n: field.integer({ required: true, nullable: true }), note: field.string() };
    type D = FieldsOf<typeof f>;
    const d: D = { id: 'a', n: null, note: undefined };
    // @ts-expect-error — `id` is a string field
    const wrong: D = { id: 1, n: 2, note: 'x' };
    // @ts-expect-error — `n` is nullable but not optional
    const missing: D = { id: 'a', note: null };

    const g = {
      address: field.object<Address>({ required: true }),
      addresses: field.arrayOfObject<Address>({ required: true, nullable: true }),
      at: field.date({ required: true }),
      iso: field.isoTimestamp({ required: true }),
      ok: field.boolean({ required: true, nullable: false }),
      tags: field.arrayOfString({ required: true }),
      any: field.any<{ x: number }>({ required: true }),
      loose: field.number(),
      looseObject: field.object<Address>({ nullable: true }),
    };
    type G = FieldsOf<typeof g>;
    const check = (doc: G) => {
      const city: string = doc.address.city;
      const maybe: Address[] | null = doc.addresses;
      const at: Date = doc.at;
      const iso: string = doc.iso;
      const ok: boolean = doc.ok;
      const tags: string[] = doc.tags;
      const x: number = doc.any.x;
      // @ts-expect-error — `addresses` may be null
      const notNull: Address[] = doc.addresses;
      // @ts-expect-error — not `required`: a row without the column stores no field, an uncastable value null
      const loose: number = doc.loose;
      const looseOk: number | null | undefined = doc.loose;
      // @ts-expect-error — not `required`, whatever `nullable` says
      const looseCity: string = doc.looseObject.city;
      return [city, maybe, at, iso, ok, tags, x, notNull, loose, looseOk, looseCity];
    };
    void [f, g, wrong, missing, check];
    assert.deepEqual(d, { id: 'a', n: null, note: undefined });
  });

  it('carries kind, source name, cast and flags', () => {
    const spec = field.integer({ from: 'N', required: true });
    assert.equal(spec.kind, 'integer');
    assert.equal(spec.from, 'N');
    assert.equal(spec.cast, casts.defaultCastToInteger);
    assert.deepEqual([spec.required, spec.nullable], [true, false]);
    assert.equal(field.string().from, undefined);
    assert.equal(field.arrayOfNumber().cast, casts.defaultIdentity);
    const custom = (v: unknown) => String(v).toUpperCase();
    assert.equal(field.string({ cast: custom }).cast, custom);
  });
});

describe('applyFields', () => {
  const fields = {
    customer_id: field.string({ from: 'id' }),
    name: field.string({ from: 'full_name' }),
    score: field.integer(),
    vip: field.boolean({ nullable: true }),
    signup: field.isoTimestamp({ from: 'signup_ms' }),
    code: field.string({ cast: (v) => String(v).toUpperCase() }),
  };
  const context = { projection: 'pr_customers' };

  it('renames, casts and lists unmapped and uncastable fields', () => {
    const row = { id: 7, full_name: 'Ann', score: '12.9', vip: null, signup_ms: 0, code: 'ab', extra: 1, __op: 'c' };
    assert.deepEqual(applyFields(fields, row, context), {
      document: { customer_id: '7', name: 'Ann', score: 12, vip: null, signup: '1970-01-01T00:00:00.000Z', code: 'AB' },
      unmapped: ['extra', '__op'],
      uncastable: [],
    });
  });

  it('absent source fields stay absent; values that do not cast are stored as null', () => {
    const out = applyFields(fields, { id: 1, score: 'many', vip: 'yes' }, context);
    assert.deepEqual(out.document, { customer_id: '1', score: null, vip: null });
    assert.deepEqual(out.uncastable, ['score', 'vip']);
    assert.deepEqual(out.unmapped, []);
  });

  it('castRow (the ingest path) gives applyFields\' document, the same on every call with one declaration', () => {
    const rows = [
      { id: 7, full_name: 'Ann', score: '12.9', vip: null, signup_ms: 0, code: 'ab', extra: 1 },
      { id: 1, score: 'many', vip: 'yes' },
      {},
    ];
    for (const row of rows) {
      assert.deepEqual(castRow(fields, row, context), applyFields(fields, row, context).document);
      assert.deepEqual(castRow(fields, row, context), applyFields(fields, row, context).document);
    }
  });

  it('passes the source field name to the cast', () => {
    const seen: string[] = [];
    applyFields({ a: field.any({ from: 'A', cast: (v, name) => (seen.push(name), v) }) }, { A: 1 }, context);
    assert.deepEqual(seen, ['A']);
  });

  it('a cast that throws --> TRB_PROCESS naming projection and field', () => {
    const bad = {
      total: field.number({
        from: 'TOTAL',
        cast: () => {
          throw new RangeError('negative');
        },
      }),
    };
    assert.throws(
      () => applyFields(bad, { TOTAL: -1 }, context),
      (e: unknown) =>
        e instanceof TributaryError &&
        e.code === 'TRB_PROCESS' &&
        /pr_customers/.test(e.message) &&
        /'total'/.test(e.message) &&
        /TOTAL/.test(e.message) &&
        /negative/.test(e.message) &&
        e.cause instanceof RangeError &&
        e.context['field'] === 'total',
    );
  });
});

describe('extractPrimaryKey', () => {
  const fields = { customer_id: field.string({ from: 'id' }), shop: field.string(), name: field.string() };
  const context = { projection: 'pr_customers' };

  it('returns the key object in projection field names', () => {
    assert.deepEqual(extractPrimaryKey(fields, ['customer_id', 'shop'], { customer_id: '7', shop: 'recife', name: 'Ann' }, context), {
      customer_id: '7',
      shop: 'recife',
    });
    assert.deepEqual(extractPrimaryKey(fields, ['customer_id'], { customer_id: 0 }, context), { customer_id: 0 });
  });

  it('null, undefined and empty string are missing --> TRB_MISSING_KEY naming the fields', () => {
    for (const value of [null, undefined, '']) {
      assert.throws(
        () => extractPrimaryKey(fields, ['customer_id', 'shop'], { customer_id: value, shop: 's' }, context),
        (e: unknown) =>
          e instanceof TributaryError &&
          e.code === 'TRB_MISSING_KEY' &&
          /pr_customers/.test(e.message) &&
          /'customer_id' \(source field 'id'\)/.test(e.message) &&
          !/shop/.test(e.message),
      );
    }
    assert.throws(
      () => extractPrimaryKey(fields, ['customer_id', 'shop'], {}, context),
      (e: unknown) => e instanceof TributaryError && (e.context['missing'] as string[]).join() === 'customer_id,shop',
    );
  });
});
