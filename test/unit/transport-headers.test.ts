import assert from 'node:assert/strict';
import { test } from 'node:test';
import { map, peek, toTopic } from '../../src/stream/operators/index.js';
import { json, string } from '../../src/stream/serdes/index.js';
import { topology } from '../../src/stream/topology.js';
import { frozenCopy, mergedHeaders, NO_HEADERS, withoutUndefined } from '../../src/stream/transport/headers.js';
import { TestDriver } from '../../src/testing/test-driver.js';

test('NO_HEADERS is frozen: a header written into the shared object throws instead of reaching every record', () => {
  assert.ok(Object.isFrozen(NO_HEADERS));
  assert.throws(() => {
    (NO_HEADERS as Record<string, string>)['trace'] = 'x';
  }, TypeError);
  assert.deepEqual(Object.keys(NO_HEADERS), []);
});

test('withoutUndefined hands back the same object when no value is undefined, a copy without them otherwise', () => {
  const clean = { a: 'x', b: Buffer.from('y') };
  assert.equal(withoutUndefined(clean), clean);
  assert.equal(withoutUndefined(NO_HEADERS), NO_HEADERS);
  const holed = { a: 'x', gone: undefined, c: 'z' };
  const copy = withoutUndefined(holed);
  assert.notEqual(copy, holed);
  assert.deepEqual(copy, { a: 'x', c: 'z' });
  assert.deepEqual(Object.keys(holed), ['a', 'gone', 'c'], 'the input is left as it was');
});

test('mergedHeaders copies only when there is something to add, and the added headers win', () => {
  const base = { a: '1', b: '2' };
  assert.equal(mergedHeaders(base, undefined), base);
  const merged = mergedHeaders(base, { b: 'over', c: '3' });
  assert.deepEqual(merged, { a: '1', b: 'over', c: '3' });
  assert.deepEqual(base, { a: '1', b: '2' });
});

test('frozenCopy: the embedded log keeps its own frozen copy, undefined entries dropped, none → NO_HEADERS', () => {
  assert.equal(frozenCopy(undefined), NO_HEADERS);
  assert.equal(frozenCopy({}), NO_HEADERS);
  assert.equal(frozenCopy({ gone: undefined }), NO_HEADERS);
  const source = { a: 'x', gone: undefined };
  const copy = frozenCopy(source);
  assert.deepEqual(copy, { a: 'x' });
  assert.ok(Object.isFrozen(copy));
  assert.notEqual(copy, source);
});

test('in a topology: a record without headers cannot be written into; a map returning new headers adds them to what a sink produces', async () => {
  const t = topology('headers');
  const writes: unknown[] = [];
  t.stream('in', { key: string(), value: json<number>(), name: 'headers', errors: 'fail' }).pipe(
    peek((r) => {
      try {
        (r.headers as Record<string, string>)['sneaky'] = 'x';
        writes.push('written');
      } catch (error) {
        writes.push(error instanceof TypeError ? 'refused' : error);
      }
    }),
    map((r) => ({ key: r.key, value: r.value, headers: { ...r.headers, trace: `t-${r.key}` } })),
    toTopic('out', { key: string(), value: json<number>(), headers: { via: 'tributary' } }),
  );
  const driver = await TestDriver.start(t);
  try {
    await driver.pipeInput('in', [{ key: 'a', value: 1 }, { key: 'b', value: 2, headers: { given: 'yes' } }], { key: string(), value: json<number>() });
    await driver.idle();
    assert.deepEqual(writes, ['refused', 'refused'], 'a consumed record’s headers are frozen, with or without headers');
    const out = await driver.readOutput('out', { key: string(), value: json<number>() });
    assert.deepEqual(
      out.map((r) => Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, String(v)]))),
      [{ trace: 't-a', via: 'tributary' }, { given: 'yes', trace: 't-b', via: 'tributary' }],
    );
  } finally {
    await driver.close();
  }
});
