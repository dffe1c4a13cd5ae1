/**
 * A secret planted in every position the configuration accepts one — MongoDB user info and
 * credential options, Kafka SASL passwords (variable, *_FILE, config file), registry auth (URL user
 * info, variable, *_FILE, config file), the control and ops tokens, the client's --token — never
 * appears in what Tributary prints: CLI stdout and stderr (results and refusals), log lines, error
 * messages, and every route of `run`'s ops server (/status, /topology, /dashboard and its feed,
 * /metrics, the probes), wired exactly as `run` wires it (startRunOpsServer).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRunOpsServer } from '../../src/cli/commands/run.js';
import { configSource, redactedConfig, runConfig } from '../../src/cli/config.js';
import { main } from '../../src/cli/program.js';
import { createLogger, kafkajsLogCreator } from '../../src/ops/logger.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { json, map, string, toTopic, topology } from '../../src/index.js';
import { TestDriver } from '../../src/testing/test-driver.js';

const SECRETS = {
  mongoPassword: 'mongo-pw-A1b2C3d4',
  keyFilePassword: 'keyfile-pw-E5f6G7h8',
  proxyPassword: 'proxy-pw-I9j0K1l2',
  saslPassword: 'sasl-pw-M3n4O5p6',
  saslPasswordInFile: 'sasl-file-pw-Q7r8S9t0',
  saslPasswordInConfig: 'sasl-config-pw-U1v2W3x4',
  registryPassword: 'registry-pw-Y5z6A7b8',
  registryUrlPassword: 'registry-url-pw-C9d0E1f2',
  registryPasswordInFile: 'registry-file-pw-G3h4I5j6',
  controlToken: 'control-token-K7l8M9n0-xyz',
  opsToken: 'ops-token-O1p2Q3r4-abcdefg',
  clientToken: 'client-token-S5t6U7v8-hijk',
} as const;

const dir = mkdtempSync(join(tmpdir(), 'trb-redaction-'));
const file = (name: string, text: string) => (writeFileSync(join(dir, name), text), join(dir, name));

/** Every accepted position filled, as one valid `run` configuration can hold them at once. */
const MONGODB_URL = `mongodb://app:${encodeURIComponent(SECRETS.mongoPassword)}@h1:27017,h2:27017,h3:27017/x?replicaSet=rs0&tls=true&tlsCertificateKeyFile=/k.pem&tlsCertificateKeyFilePassword=${SECRETS.keyFilePassword}&proxyHost=p&proxyUsername=u&proxyPassword=${SECRETS.proxyPassword}`;
const fullEnv = {
  MONGODB_URL,
  KAFKA_SASL_MECHANISM: 'scram-sha-512',
  KAFKA_SASL_USERNAME: 'app',
  KAFKA_SASL_PASSWORD: SECRETS.saslPassword,
  SCHEMA_REGISTRY_URL: 'https://registry.example/apis/ccompat/v7',
  SCHEMA_REGISTRY_USERNAME: 'key',
  SCHEMA_REGISTRY_PASSWORD: SECRETS.registryPassword,
  TRIBUTARY_CONTROL_TOKEN: SECRETS.controlToken,
  TRIBUTARY_OPS_TOKEN: SECRETS.opsToken,
};

function assertClean(text: string, where: string): void {
  for (const [name, secret] of Object.entries(SECRETS)) {
    for (const form of [secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)]) {
      assert.ok(!text.includes(form), `${name} leaked into ${where}:\n${text.split('\n').filter((l) => l.includes(form)).join('\n')}`);
    }
  }
}

async function cli(argv: string[], env: Record<string, string>): Promise<string> {
  let output = '';
  const code = await main(argv, { env, out: (l) => (output += `${l}\n`), err: (l) => (output += `${l}\n`) });
  return `exit ${code}\n${output}`;
}

describe('no secret reaches any output', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  after(async () => {
    for (const cleanup of cleanups) await cleanup();
  });

  it('CLI refusals: every bad value beside a secret, and every secret in a refused value', async () => {
    const config = file('tributary.json', JSON.stringify({ 'kafka-sasl-mechanism': 'plain', 'kafka-sasl-username': 'a', 'kafka-sasl-password': SECRETS.saslPasswordInConfig, 'registry-password': SECRETS.registryPasswordInFile, 'http-port': 'ninety' }));
    const saslFile = file('sasl.pw', `${SECRETS.saslPasswordInFile}\n`);
    const runs: Array<[string[], Record<string, string>]> = [
      // A refused MongoDB URL, its password and credential options in it.
      [['run', 'x.ts'], { MONGODB_URL: `${MONGODB_URL}&tls=maybe` }],
      [['run', 'x.ts'], { MONGODB_URL: `mongodb://app:${SECRETS.mongoPassword}@h1/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:${SECRETS.keyFilePassword}` }],
      [['serve', 'x.ts'], { MONGODB_URL: `mongodb+srv://app:${SECRETS.mongoPassword}@h1,h2/x` }],
      // A password without its mechanism; both a password and its file.
      [['run', 'x.ts'], { KAFKA_SASL_PASSWORD: SECRETS.saslPassword }],
      [['refresh', 'x.ts', 'v'], { KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'a', KAFKA_SASL_PASSWORD: SECRETS.saslPassword, KAFKA_SASL_PASSWORD_FILE: saslFile }],
      // A bad registry URL carrying user:password; a password without a user; a bad value in a config file holding secrets.
      [['run', 'x.ts'], { SCHEMA_REGISTRY_URL: `ftp://key:${SECRETS.registryUrlPassword}@registry.example` }],
      [['run', 'x.ts'], { SCHEMA_REGISTRY_URL: 'https://r.example', SCHEMA_REGISTRY_PASSWORD: SECRETS.registryPassword }],
      [['run', 'x.ts', '--config', config], {}],
      [['topics', 'x.ts', '--config', config, '--kafka-brokers', 'nope'], {}],
      // Tokens too short, a token given to a command that does not take it, a token in a client's unreachable call.
      [['run', 'x.ts'], { TRIBUTARY_CONTROL_TOKEN: SECRETS.controlToken.slice(0, 12), TRIBUTARY_OPS_TOKEN: SECRETS.opsToken.slice(0, 12) }],
      [['run', 'x.ts'], { ...fullEnv, KAFKA_BROKERS: 'not a list' }],
      [['serve', 'x.ts', '--token', SECRETS.clientToken], {}],
      [['status', '--url', 'http://127.0.0.1:9', '--token', SECRETS.clientToken], {}],
      [['pause', '*', '--url', 'http://127.0.0.1:9'], { TRIBUTARY_CONTROL_TOKEN: SECRETS.clientToken }],
    ];
    for (const [argv, env] of runs) {
      const output = await cli(argv, env);
      assert.match(output, /^exit [12]\ntributary: TRB_(CONFIG|CONNECT): /, output);
      assertClean(output, `tributary ${argv.join(' ')}`);
    }
  });

  it('log lines: the configuration, library errors and kafkajs entries', () => {
    const config = runConfig(configSource(fullEnv));
    const lines: string[] = [];
    const logger = createLogger({ level: 'debug', redactor: config.redactor, destination: { write: (line: string) => void lines.push(line) } });
    logger.info({ config, env: fullEnv }, 'starting');
    logger.error({ err: new Error(`SCRAM refused ${SECRETS.saslPassword} for ${MONGODB_URL}`) }, `store failed at ${MONGODB_URL}`);
    kafkajsLogCreator(logger)(1)({ namespace: 'Connection', level: 5 as never, label: 'DEBUG', log: { timestamp: '', message: 'connecting', sasl: { mechanism: 'plain', username: 'a', password: SECRETS.saslPassword }, broker: 'b:9092' } });
    logger.warn(`registry said 401 to key:${SECRETS.registryPassword} (Authorization: Basic ${Buffer.from(`key:${SECRETS.registryPassword}`).toString('base64')})`);
    assert.ok(lines.length >= 4);
    assertClean(lines.join('\n'), 'the log');
  });

  it('the ops server of run: /status, /topology, /dashboard and its feed, /metrics and the probes', async () => {
    const config = runConfig(configSource({ ...fullEnv, HTTP_PORT: '0' }));
    // A stream that fails on a record with an error message holding secrets: lastError, health and readiness carry it.
    const t = topology('redaction');
    t.stream('in', { key: string(), value: json<{ n: number }>(), errors: 'fail', name: `ingest:${SECRETS.saslPassword.slice(0, 4)}` }).pipe(
      map((r) => {
        if (r.value !== undefined) throw new Error(`cannot reach ${MONGODB_URL} with ${SECRETS.saslPassword} / ${SECRETS.registryPassword}`);
        return r;
      }),
      toTopic('out', { key: string(), value: json<{ n: number }>() }),
    );
    const driver = await TestDriver.start(t, { logger: createLogger({ level: 'silent' }) });
    cleanups.push(() => driver.close().catch(() => undefined));
    await driver.pipeInput('in', [{ key: 'k', value: { n: 1 } }], { key: string(), value: json<{ n: number }>() });
    await assert.rejects(driver.idle(), /a stream failed/);

    const metrics = createMetrics({ defaultMetrics: false });
    metrics.recordsIn('ingest', `topic-${SECRETS.controlToken}`, 1); // a label value holding a secret
    const logger = createLogger({ level: 'silent', redactor: config.redactor });
    const { server, dashboard } = await startRunOpsServer({ config, topology: t, metrics, logger, running: () => driver.running });
    cleanups.push(async () => (dashboard.close(), await server.close()));
    await dashboard.tick();

    const authorization = `Bearer ${SECRETS.opsToken}`;
    const bodies: string[] = [];
    for (const path of ['/status', '/topology', '/metrics', '/dashboard', '/dashboard/snapshot', '/dashboard/graph.svg', '/dashboard/graph.json', '/dashboard/graph.mmd', '/dashboard/graph.dot', '/-/healthz', '/-/ready']) {
      const response = await fetch(`${server.url}${path}`, { headers: { authorization } });
      bodies.push(`${path} ${response.status}\n${await response.text()}`);
    }
    // The event stream's first frames (topology and the latest tick).
    const events = await fetch(`${server.url}/dashboard/events`, { headers: { authorization } });
    const reader = events.body!.getReader();
    let feed = '';
    while (!feed.includes('event: tick')) feed += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    bodies.push(`/dashboard/events\n${feed}`);

    const all = bodies.join('\n');
    assert.match(all, /cannot reach mongodb:\/\/app:\*\*\*@h1:27017,h2:27017,h3:27017\/x\?replicaSet=rs0&tls=true&tlsCertificateKeyFile=\/k\.pem&tlsCertificateKeyFilePassword=\*\*\*/, 'the failure is shown, redacted');
    assert.match(all, /"controlApi":"enabled \(bearer token\)"/);
    assertClean(all, 'the ops server');
    assertClean(JSON.stringify(redactedConfig(config)), 'redactedConfig');
  });
});
