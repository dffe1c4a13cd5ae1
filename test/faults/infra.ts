/**
 * The fault suite's hands on the services: it crashes, stops and starts them through the
 * `scripts/infra` of the checkout that runs them (`TRIBUTARY_INFRA_SCRIPT`, default this
 * checkout's), so a suite run from one worktree can fault the services another one started.
 *
 *   crash('kafka')        scripts/infra kill kafka        SIGKILL to the process group, data kept
 *   start('kafka')        scripts/infra up kafka          and wait until it is ready
 *   stop('kafka')         scripts/infra down kafka        graceful
 *   serviceDir('kafka')   scripts/infra dir kafka         its run directory (logs, data)
 *
 * scripts/infra leaves a service alone when its variable (KAFKA_BROKERS, MONGODB_URL, …) is set,
 * treating it as external: the calls drop those variables. Before the first fault the suite checks
 * that the services it talks to are the ones that script runs (the same addresses as its `env`), so
 * a suite pointed at someone else's broker or database fails saying so instead of faulting nothing.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { services } from '../integration/services.js';

const ROOT = join(import.meta.dirname, '..', '..');
/** The scripts/infra whose services the suite faults. */
export const INFRA_SCRIPT = process.env['TRIBUTARY_INFRA_SCRIPT'] ?? join(ROOT, 'scripts', 'infra');

const SERVICE_VARIABLES = ['KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL', 'MONGODB_URL', 'POSTGRES_URL', 'CONNECT_URL'];

/** A service of scripts/infra the suite faults: the one-node broker, DocumentDB's PostgreSQL, its gateway, a cluster node. */
export type Service = 'kafka' | 'documentdb' | 'mongo' | `kafka-${1 | 2 | 3}`;

/** Runs scripts/infra with `args`, the service variables removed; resolves its stdout and stderr, rejects on a non-zero exit. */
function run(args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  const env = { ...process.env };
  for (const name of SERVICE_VARIABLES) delete env[name];
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [INFRA_SCRIPT, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve({ stdout, stderr }) : reject(new Error(`${INFRA_SCRIPT} ${args.join(' ')} exited ${code}:\n${stdout}${stderr}`))));
  });
}

/** scripts/infra `args`: what it printed (its log lines included). */
export async function infra(...args: string[]): Promise<string> {
  const { stdout, stderr } = await run(args);
  return stdout + stderr;
}

/** The node of the three-node cluster whose controller is active (`scripts/infra controller`). */
export async function activeController(): Promise<Service> {
  const node = (await run(['controller'])).stdout.trim();
  assert.match(node, /^kafka-[123]$/, `scripts/infra controller printed '${node}'`);
  return node as Service;
}

/** The `export NAME=value` lines of `scripts/infra env [extra…]`, unquoted by bash itself. */
export async function infraEnv(...extra: string[]): Promise<Record<string, string>> {
  const script = `eval "$(bash ${JSON.stringify(INFRA_SCRIPT)} env ${extra.join(' ')})" && printf '%s\\0%s\\0%s\\0' "$KAFKA_BROKERS" "$SCHEMA_REGISTRY_URL" "$MONGODB_URL"`;
  const env = { ...process.env };
  for (const name of SERVICE_VARIABLES) delete env[name];
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn('bash', ['-c', script], { env, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`scripts/infra env ${extra.join(' ')} exited ${code}`))));
  });
  const [kafka = '', registry = '', mongo = ''] = output.split('\0');
  return { KAFKA_BROKERS: kafka, SCHEMA_REGISTRY_URL: registry, MONGODB_URL: mongo };
}

let checked: Promise<void> | undefined;

/** Fails unless the suite's broker and database are the ones scripts/infra runs (checked once). */
export function assertOwnServices(): Promise<void> {
  checked ??= (async () => {
    const local = await infraEnv();
    assert.equal(services.kafkaBrokers.join(','), local['KAFKA_BROKERS'], `the fault suite faults the broker of ${INFRA_SCRIPT}; KAFKA_BROKERS names another one`);
    assert.equal(services.mongoUrl, local['MONGODB_URL'], `the fault suite faults the database of ${INFRA_SCRIPT}; MONGODB_URL names another one`);
  })();
  return checked;
}

/** A crash: SIGKILL to the service's processes (PostgreSQL: the postmaster and its backends), data kept. */
export async function crash(service: Service): Promise<void> {
  const output = await infra('kill', service);
  assert.match(output, new RegExp(`${service}: killed \\(SIGKILL`), `scripts/infra did not kill ${service}:\n${output}`);
}

/** Starts the service (after a crash or a stop) and waits until it answers. */
export async function start(service: Service): Promise<void> {
  const output = await infra('up', service);
  assert.match(output, new RegExp(`${service}: ready in`), `scripts/infra did not start ${service}:\n${output}`);
}

/** A graceful stop (Kafka: controlled shutdown, producer state written to disk). */
export async function stop(service: Service): Promise<void> {
  const output = await infra('down', service);
  assert.match(output, new RegExp(`${service}: stopped`), `scripts/infra did not stop ${service}:\n${output}`);
}

/** The service's run directory (Kafka's log directory is `<dir>/data`). */
export async function serviceDir(service: Service): Promise<string> {
  return (await run(['dir', service])).stdout.trim();
}
