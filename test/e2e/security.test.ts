/**
 * `tributary run` against the broker's SASL-over-TLS listener (scripts/infra), configured only
 * through the documented variables, with debug logging on: the records flow, `/status` shows who it
 * authenticated as, and the SASL password, the registry password (in its URL), the control token
 * and the ops token appear nowhere in its output nor in any ops route (/status, /topology,
 * /metrics, /dashboard…), which need the ops token while the probes stay open.
 * A wrong password stops it at start with TRB_AUTH.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { uniqueName } from '../integration/services.js';
import { echoTopics, freePort, startCli, until } from './helpers.js';

function required(name: string): string {
  const value = process.env[name];
  assert.ok(value, `${name} is not set: run through npm test (scripts/infra env exports it)`);
  return value;
}

describe('tributary run with Kafka SASL over TLS', () => {
  it('processes records, reports its identity in /status and never prints a secret', async () => {
    const topics = await echoTopics('sec');
    const { input, output } = topics;

    const password = required('KAFKA_TEST_PASSWORD');
    const token = 'control-token-0123456789';
    const opsToken = 'ops-read-token-9876543210';
    const registryPassword = 'registry-url-pw-2468';
    const port = await freePort();
    const env = {
      LOG_LEVEL: 'debug', // kafkajs logs its connection details at debug: the place a secret would leak
      KAFKA_BROKERS: required('KAFKA_TEST_SASL_SSL_BROKERS'),
      KAFKA_TLS_CA_FILE: required('KAFKA_TEST_CA_FILE'),
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: required('KAFKA_TEST_USER'),
      KAFKA_SASL_PASSWORD: password,
      TRIBUTARY_CONTROL_TOKEN: token,
      TRIBUTARY_OPS_TOKEN: opsToken,
      SCHEMA_REGISTRY_URL: (process.env['SCHEMA_REGISTRY_URL'] ?? 'http://127.0.0.1:8081/apis/ccompat/v7').replace('://', `://key:${registryPassword}@`),
      MONGODB_URL: '', // the echo topology has no store; the MongoDB URL's redaction is unit-tested (cli-redaction.test.ts)
      E2E_INPUT: input,
      E2E_OUTPUT: output,
      E2E_NAME: uniqueName('e2e-sec'),
    };
    const run = startCli(['run', 'test/e2e/fixtures/echo-topology.ts', '--http-port', String(port)], env);
    let status = '';
    try {
      await until('10 records in the output', async () => ((await topics.outputCount()) === 10 ? true : undefined), 90_000).catch((error: unknown) => {
        throw new Error(`${(error as Error).message}\n${run.output().slice(-3000)}`);
      });
      const base = `http://127.0.0.1:${port}`;
      assert.equal((await fetch(`${base}/status`)).status, 401, 'the read routes need the ops token');
      assert.equal((await fetch(`${base}/-/healthz`)).status, 200, 'probes stay open');
      const authorization = `Bearer ${opsToken}`;
      status = await (await fetch(`${base}/status`, { headers: { authorization } })).text();
      for (const path of ['/topology', '/metrics', '/dashboard', '/dashboard/snapshot', '/dashboard/graph.json', '/-/ready']) {
        status += `\n${path}: ${await (await fetch(`${base}${path}`, { headers: { authorization } })).text()}`;
      }
      const config = (JSON.parse(status.split('\n')[0] as string) as { config: Record<string, unknown> }).config;
      assert.deepEqual(config['kafkaSasl'], { mechanism: 'scram-sha-512', username: required('KAFKA_TEST_USER') });
      assert.equal(config['controlApi'], 'enabled (bearer token)');
      assert.equal(config['registryUsername'], 'key');
    } finally {
      run.child.kill('SIGTERM');
      const code = await run.exited;
      await topics.remove();
      assert.equal(code, 0, run.output());
    }
    const everything = run.output() + status;
    assert.ok(run.output().split('\n').length > 20, 'debug logging produced output to inspect');
    for (const secret of [password, token, opsToken, registryPassword]) assert.ok(!everything.includes(secret), `a secret leaked:\n${everything.split('\n').filter((l) => l.includes(secret)).join('\n')}`);
  });

  it('a wrong password stops it at start with TRB_AUTH and exit code 1, without printing the password', async () => {
    const run = startCli(['run', 'test/e2e/fixtures/echo-topology.ts', '--http-port', '0'], {
      LOG_LEVEL: 'warn',
      KAFKA_BROKERS: required('KAFKA_TEST_SASL_BROKERS'),
      KAFKA_SASL_MECHANISM: 'plain',
      KAFKA_SASL_USERNAME: required('KAFKA_TEST_USER'),
      KAFKA_SASL_PASSWORD: 'not-the-password-42',
      E2E_NAME: uniqueName('e2e-sec-bad'),
    });
    const code = await run.exited;
    assert.equal(code, 1, run.output());
    assert.match(run.output(), /tributary: TRB_AUTH: /);
    assert.ok(!run.output().includes('not-the-password-42'), run.output());
  });
});
