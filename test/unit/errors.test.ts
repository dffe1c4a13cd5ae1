import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ERROR_CODES, TributaryError, isTributaryError, toTributaryError } from '../../src/errors.js';

describe('TributaryError', () => {
  it('takes retriable from the code unless overridden', () => {
    assert.equal(new TributaryError('TRB_STORE_WRITE', 'x').retriable, true);
    assert.equal(new TributaryError('TRB_DECODE', 'x').retriable, false);
    assert.equal(new TributaryError('TRB_STORE_WRITE', 'x', { retriable: false }).retriable, false);
  });

  it('keeps the cause and context and serialises without the stack', () => {
    const cause = new Error('socket hang up');
    const error = new TributaryError('TRB_PRODUCE', 'send failed', { cause, context: { topic: 't' } });
    assert.equal(error.cause, cause);
    assert.deepEqual(JSON.parse(JSON.stringify(error)), { code: 'TRB_PRODUCE', message: 'send failed', retriable: true, context: { topic: 't' } });
    assert.ok(isTributaryError(error));
  });

  it('wraps foreign errors once and lets the innermost code win', () => {
    const inner = new TributaryError('TRB_SCHEMA', 'unknown id 7');
    assert.equal(toTributaryError(inner, 'TRB_DECODE'), inner);
    const wrapped = toTributaryError(new SyntaxError('Unexpected token'), 'TRB_DECODE');
    assert.equal(wrapped.code, 'TRB_DECODE');
    assert.equal(wrapped.message, 'Unexpected token');
    assert.ok(wrapped.cause instanceof SyntaxError);
  });

  it('docs/stream.md lists every code once, with its retriable default, and no other', () => {
    const docs = readFileSync(new URL('../../docs/stream.md', import.meta.url), 'utf8');
    const rows = [...docs.matchAll(/^\| `(TRB_[A-Z_]+)` \| (yes|no) \|/gm)].map(([, code, retriable]) => [code, retriable === 'yes'] as const);
    assert.deepEqual(rows, Object.entries(ERROR_CODES).map(([code, meta]) => [code, meta.retriable]));
  });

  it('codes form one closed list, each with a summary', () => {
    for (const [code, meta] of Object.entries(ERROR_CODES)) {
      assert.match(code, /^TRB_[A-Z_]+$/);
      assert.ok(meta.summary.length > 0);
    }
  });
});
