/**
 * Every mis-declared stream is refused where it is declared, with a TRB_CONFIG error naming the
 * stream, the option and what is accepted — never a raw TypeError from describe() or the first
 * batch. The CLI prints the code and exits 2.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { json, map, string, toTopic, topology, type Serde } from '../../src/index.js';
import { main } from '../../src/cli/program.js';
import { TributaryError } from '../../src/errors.js';

const key = string();
const value = json<unknown>();

function refused(declare: () => unknown, message: RegExp): void {
  assert.throws(declare, (e: unknown) => {
    assert.ok(e instanceof TributaryError, `a TributaryError, not ${String(e)}`);
    assert.equal(e.code, 'TRB_CONFIG');
    assert.match(e.message, message);
    return true;
  });
}

// Plain-JavaScript declarations, as a .mjs topology file would make them.
const loose = (options: Record<string, unknown>) => options as unknown as { key: Serde<string>; value: Serde<unknown> };

describe('stream declarations', () => {
  it('refuses a missing or wrong serde', () => {
    refused(() => topology('t').stream('orders', loose({ value })), /^stream 'orders': option key is missing: expected a serde such as string\(\), json\(\) or avro\(\)$/);
    refused(() => topology('t').stream('orders', loose({ key })), /option value is missing/);
    refused(() => topology('t').stream('orders', loose({ key: string, value })), /option key is the serde factory string, not a serde: call it \(string\(\)\)/);
    refused(() => topology('t').stream('orders', loose({ key: 'string', value })), /option key is "string", not a serde/);
    refused(() => topology('t').stream('orders', loose({ key, value: { name: 'half' } })), /option value is an object, not a serde \(name, deserialize, serialize\)/);
    refused(() => topology('t').stream('orders', undefined as never), /options are undefined/);
  });

  it('refuses bad topics, names, group ids and dead-letter topics', () => {
    refused(() => topology('t').stream('my orders', { key, value }), /source topic "my orders" is not a topic name: expected 1 to 249 letters/);
    refused(() => topology('t').stream(['a', 'a'], { key, value }), /source topic a is listed twice/);
    refused(() => topology('t').stream('a', loose({ key, value, name: '' })), /option name is "": expected a non-empty string/);
    refused(() => topology('t').stream('a', { key, value, groupId: '' }), /option groupId is ""/);
    refused(() => topology('t').stream('a', { key, value, deadLetterTopic: 'a' }), /deadLetterTopic a is one of its source topics/);
    refused(() => topology('t').stream('a', { key, value, deadLetterTopic: 'dead letters' }), /option deadLetterTopic "dead letters" is not a topic name/);
    const t = topology('t');
    t.stream('a', { key, value, groupId: 'shared' });
    refused(() => t.stream('b', { key, value, groupId: 'shared' }), /^stream 'b': group id shared is already the group of stream 'a'/);
  });

  it('refuses bad policies, numbers, flags and unknown options', () => {
    refused(() => topology('t').stream('a', loose({ key, value, errors: 'ignore' })), /option errors is "ignore": expected fail, dead-letter, skip or a handler/);
    refused(() => topology('t').stream('a', { key, value, keyConcurrency: 0 }), /option keyConcurrency is 0: expected an integer ≥ 1/);
    refused(() => topology('t').stream('a', { key, value, keyConcurrency: Number.NaN }), /keyConcurrency is NaN/);
    refused(() => topology('t').stream('a', { key, value, maxRecordBytes: -1 }), /maxRecordBytes is -1/);
    refused(() => topology('t').stream('a', loose({ key, value, exactlyOnce: 'yes' })), /option exactlyOnce is "yes": expected true or false/);
    refused(() => topology('t').stream('a', { key, value, retry: { initialMs: 500, maxMs: 100 } }), /retry.initialMs 500 is above retry.maxMs 100/);
    refused(() => topology('t').stream('a', loose({ key, value, retry: { tries: 3 } })), /unknown retry option "tries": expected one of initialMs, maxMs, maxAttempts/);
    refused(() => topology('t').stream('a', loose({ key, value, keyconcurrency: 2 })), /unknown option "keyconcurrency": expected one of key, value, name/);
  });

  it('refuses a pipe() of something that is not an operator', () => {
    refused(() => topology('t').stream('a', { key, value }).pipe(map((r) => r), undefined as never), /^stream 'a': operator 2 of pipe\(\) is undefined: expected an operator/);
  });

  it('describe() refuses a sink whose topic is not a topic name', () => {
    const t = topology('t');
    t.stream('a', { key, value }).pipe(toTopic('big orders', { value }));
    refused(() => t.describe(), /^stream 'a': toTopic target "big orders" is not a topic name/);
  });

  it('accepts what it documents: Infinity attempts and record bytes, handlers, explicit dead-letter topics', () => {
    const t = topology('t');
    t.stream(['a', 'b'], { key, value, errors: () => 'skip', deadLetterTopic: 'a.dlq', retry: { maxAttempts: Number.POSITIVE_INFINITY }, maxRecordBytes: Number.POSITIVE_INFINITY, keyConcurrency: 4, exactlyOnce: true, fromBeginning: false });
    assert.equal(t.describe().subTopologies[0]?.name, 'a+b');
  });

  it('the CLI prints the code of a mis-declared topology file and exits 2', async () => {
    for (const command of [['describe'], ['run'], ['topics', '--offline']]) {
      let err = '';
      const code = await main([command[0] as string, 'test/fixtures/declarations/no-key-serde.mjs', ...command.slice(1)], { env: {}, out: () => undefined, err: (l) => (err += l) });
      assert.equal(code, 2, err);
      assert.match(err, /^tributary: TRB_CONFIG: cannot load topology file test\/fixtures\/declarations\/no-key-serde\.mjs: stream 'orders': option key is missing/);
      assert.doesNotMatch(err, /TypeError/);
    }
  });
});
