import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergedHeaders, NO_HEADERS, withoutUndefined } from '../../src/stream/transport/headers.js';

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
