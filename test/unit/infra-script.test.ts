/**
 * scripts/infra's commands that touch no service: what `kill`, `--brokers`, `env --brokers 3`, `dir`
 * and `controller` accept and refuse. Run against an empty state directory, so nothing is started,
 * stopped or killed here (the fault suite drives them on real services).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SCRIPT = join(import.meta.dirname, '..', '..', 'scripts', 'infra');

function infra(...args: string[]): { code: number | null; out: string; err: string } {
  return inStateDir(['bash', SCRIPT], args);
}

/** The same through the CLI: `tributary infra …`. */
function cliInfra(...args: string[]): { code: number | null; out: string; err: string } {
  return inStateDir([process.execPath, '--import', 'tsx', join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts'), 'infra'], args);
}

function inStateDir([command, ...prefix]: string[], args: string[]): { code: number | null; out: string; err: string } {
  const state = mkdtempSync(join(tmpdir(), 'infra-script-'));
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, TRIBUTARY_INFRA_DIR: state };
    for (const name of ['KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL', 'MONGODB_URL', 'POSTGRES_URL', 'CONNECT_URL', 'TRIBUTARY_CONFIG']) delete env[name];
    const run = spawnSync(command as string, [...prefix, ...args], { env, encoding: 'utf8' });
    return { code: run.status, out: run.stdout, err: run.stderr };
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
}

describe('scripts/infra and tributary infra: kill, --brokers, dir, controller', () => {
  it('kill needs the services to crash by name: never all of them by default', () => {
    const run = infra('kill');
    assert.equal(run.code, 1);
    assert.match(run.err, /kill needs the services to crash, by name/);
  });

  it('kill of a service not running says so and succeeds; an unknown service is refused', () => {
    const idle = infra('kill', 'kafka-2');
    assert.equal(idle.code, 0);
    assert.match(idle.err, /kafka-2: not running/);
    const unknown = infra('kill', 'kafka-4');
    assert.equal(unknown.code, 1);
    assert.match(unknown.err, /unknown service 'kafka-4'/);
  });

  it('--brokers takes 1 or 3', () => {
    const run = infra('status', '--brokers', '2');
    assert.equal(run.code, 1);
    assert.match(run.err, /--brokers takes 1 .* or 3/);
  });

  it('env --brokers 3 exports the three-node broker list as KAFKA_BROKERS; plain env the one-node broker', () => {
    const three = infra('env', '--brokers', '3');
    assert.equal(three.code, 0);
    const line = three.out.split('\n').find((l) => l.startsWith('export KAFKA_BROKERS='));
    assert.equal(line?.replace(/\\/g, ''), 'export KAFKA_BROKERS=127.0.0.1:19092,127.0.0.1:19093,127.0.0.1:19094');
    assert.doesNotMatch(three.out, /KAFKA_TEST_SASL_BROKERS/, 'the cluster has no SASL listeners');
    assert.match(infra('env').out, /^export KAFKA_BROKERS=127\.0\.0\.1:9092$/m);
  });

  it('dir prints one service\'s run directory; controller refuses when no node of the cluster runs', () => {
    const dir = infra('dir', 'kafka-3');
    assert.equal(dir.code, 0);
    assert.match(dir.out.trim(), /\/kafka-3$/);
    assert.equal(infra('dir', 'kafka', 'mongo').code, 1);
    const controller = infra('controller');
    assert.equal(controller.code, 1);
    assert.match(controller.err, /no running node of the cluster is the active controller/);
  });

  it('tributary infra passes kill, dir, controller and --brokers through to the script', () => {
    assert.match(cliInfra('kill').err, /kill needs the services to crash, by name/);
    const dir = cliInfra('dir', 'kafka-3');
    assert.equal(dir.code, 0, dir.err);
    assert.match(dir.out.trim(), /\/kafka-3$/);
    const three = cliInfra('env', '--brokers', '3');
    assert.equal(three.code, 0, three.err);
    assert.match(three.out, /^export KAFKA_BROKERS=127\.0\.0\.1:19092\\?,127\.0\.0\.1:19093/m);
    const bad = cliInfra('status', '--brokers', '2');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /TRB_CONFIG: invalid --brokers="2": expected 1, 3/);
  });
});
