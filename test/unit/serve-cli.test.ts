import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { serveCommand, serveHelp } from '../../src/cli/commands/serve.js';

describe('tributary serve: configuration errors stop it before anything connects', () => {
  it('needs a topology file', async () => {
    await assert.rejects(serveCommand(undefined, {}, {}), (e: Error & { code?: string }) => e.code === 'TRB_CONFIG' && /missing <topology-file>/.test(e.message));
  });
  it('needs the document store', async () => {
    await assert.rejects(serveCommand('topologies/customer-360.ts', {}, {}), /set MONGODB_URL or --mongo/);
  });
  it('validates the port and the URL', async () => {
    await assert.rejects(serveCommand('topologies/customer-360.ts', { port: '99999' }, { MONGODB_URL: 'mongodb://127.0.0.1:1' }), /invalid --port="99999"/);
    await assert.rejects(serveCommand('topologies/customer-360.ts', {}, { MONGODB_URL: 'http://x' }), /MONGODB_URL/);
  });
  it('documents its options', () => {
    for (const option of ['--mongo', '--mongo-database', '--host', '--port', 'MONGODB_URL', 'MONGODB_DATABASE']) assert.ok(serveHelp.includes(option), option);
  });
});
