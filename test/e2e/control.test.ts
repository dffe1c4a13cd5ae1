/**
 * The control API as an operator uses it: `tributary run --paused` in a child process, then
 * `tributary status`, `pause` and `resume` against it (real Kafka, from scripts/infra).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { uniqueName } from '../integration/services.js';
import { cli, echoTopics, freePort, until } from './helpers.js';

describe('tributary control API', () => {
  it('starts paused, refuses a pause/resume without the token, and resumes with it; status shows it all', async () => {
    const topics = await echoTopics('ctl');
    const { input, output } = topics;

    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const env = { ...process.env, LOG_LEVEL: 'warn', TRIBUTARY_CONTROL_TOKEN: 's3cret-control-token-0123', E2E_INPUT: input, E2E_OUTPUT: output, E2E_NAME: uniqueName('e2e-ctl') };
    const child = spawn(process.execPath, ['bin/tributary.js', 'run', 'test/e2e/fixtures/echo-topology.ts', '--http-port', String(port), '--paused'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await until('the stream to join its group', async () => {
        const body = (await (await fetch(`${url}/status`)).json()) as { streams: Array<{ state: string }> };
        return body.streams[0]?.state === 'running' ? true : undefined;
      });
      const status = cli(['status', '--url', url]);
      assert.equal(status.status, 0, status.stderr);
      assert.match(status.stdout, /ingest:echo\s+running, paused by operator/);

      const refused = cli(['resume', '*', '--url', url], { TRIBUTARY_CONTROL_TOKEN: '' });
      assert.equal(refused.status, 1);
      assert.match(refused.stdout, /401 unauthorized/);
      const wrong = cli(['resume', '*', '--url', url, '--token', 'nope']);
      assert.equal(wrong.status, 1);
      const unknown = cli(['resume', 'nothing', '--url', url, '--token', 's3cret-control-token-0123']);
      assert.equal(unknown.status, 1);
      assert.match(unknown.stdout, /no stream matches 'nothing'/);

      await new Promise((resolve) => setTimeout(resolve, 1_000));
      assert.equal(await topics.outputCount(), 0, 'nothing processed while started paused');

      const resumed = cli(['resume', 'ingest', '--url', url, '--token', 's3cret-control-token-0123']);
      assert.equal(resumed.status, 0, resumed.stdout);
      assert.match(resumed.stdout, /resumed: ingest:echo/);
      await until('10 records in the output', async () => ((await topics.outputCount()) === 10 ? true : undefined));
      assert.match(cli(['status', '--url', url]).stdout, /ingest:echo\s+running\s/);

      const paused = cli(['pause', '*', '--url', url, '--token', 's3cret-control-token-0123']);
      assert.equal(paused.status, 0, paused.stdout);
      assert.match(paused.stdout, /paused: ingest:echo/);
    } finally {
      child.kill('SIGTERM');
      const code = await exited;
      await topics.remove();
      assert.equal(code, 0, `run exits 0 on SIGTERM after draining\n${stderr}`);
    }
  });

  it('a bad TRIBUTARY_START_PAUSED, or a bad value in the config file, names the setting and exits 2 before connecting', () => {
    const bad = cli(['run', 'test/e2e/fixtures/echo-topology.ts'], { TRIBUTARY_START_PAUSED: 'maybe' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /invalid TRIBUTARY_START_PAUSED="maybe": expected true or false/);
    const file = join(mkdtempSync(join(tmpdir(), 'trb-e2e-')), 'tributary.json');
    writeFileSync(file, JSON.stringify({ 'kafka-brokers': 'not a list' }));
    const badFile = cli(['run', 'test/e2e/fixtures/echo-topology.ts', '--config', file], { KAFKA_BROKERS: '' });
    assert.equal(badFile.status, 2, badFile.stderr);
    assert.match(badFile.stderr, /invalid .*tributary\.json: "kafka-brokers"="not a list": expected a comma-separated list of host:port/);
  });
});
