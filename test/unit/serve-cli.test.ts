import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { main } from '../../src/cli/program.js';

/** Runs the program with captured output; resolves its exit code and what it printed. */
async function run(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { env, out: (l) => (out += `${l}\n`), err: (l) => (err += `${l}\n`) });
  return { code, out, err };
}

describe('tributary serve: configuration errors stop it before anything connects', () => {
  it('needs a topology file', async () => {
    const r = await run(['serve']);
    assert.equal(r.code, 2);
    assert.match(r.err, /^tributary: TRB_CONFIG: missing <topology-file>\n\nUsage: tributary serve <topology-file>/);
  });
  it('needs the document store', async () => {
    const r = await run(['serve', 'topologies/customer-360.ts']);
    assert.equal(r.code, 2);
    assert.match(r.err, /set MONGODB_URL or --mongo/);
  });
  it('validates the port and the URL, and refuses flags of other commands', async () => {
    assert.match((await run(['serve', 'topologies/customer-360.ts', '--port', '99999'], { MONGODB_URL: 'mongodb://127.0.0.1:1' })).err, /invalid --port="99999"/);
    assert.match((await run(['serve', 'topologies/customer-360.ts'], { MONGODB_URL: 'http://x' })).err, /invalid MONGODB_URL="http:\/\/x"/);
    const other = await run(['serve', 'topologies/customer-360.ts', '--http-port', '1']);
    assert.equal(other.code, 2);
    assert.match(other.err, /--http-port is not an option of "serve" \(it is one of run\)/);
  });
  it('reads only its own settings: a bad KAFKA_BROKERS does not stop it', async () => {
    const r = await run(['serve', 'topologies/customer-360.ts'], { KAFKA_BROKERS: 'not a list', MONGODB_URL: 'mongodb://127.0.0.1:1', SERVE_PORT: 'x' });
    assert.match(r.err, /invalid SERVE_PORT="x"/);
  });
  it('documents its options', async () => {
    const help = (await run(['serve', '--help'])).out;
    for (const option of ['--mongo', '--mongo-database', '--host', '--port', 'MONGODB_URL', 'MONGODB_DATABASE', 'SERVE_HOST', 'SERVE_PORT', '--config', '--log-level']) assert.ok(help.includes(option), option);
  });
});
