/**
 * `tributary infra up|down|status|restart|kill|clean|env|dir|controller [service...]`: runs
 * scripts/infra (the local services without Docker), with --cdc and --brokers passed through. A
 * service whose address the configuration gives (flag file, or KAFKA_BROKERS, SCHEMA_REGISTRY_URL,
 * MONGODB_URL) is external: the script leaves it alone.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TributaryError } from '../../errors.js';
import type { CommandSpec } from '../command.js';
import { infraEnv } from '../config.js';
import type { SettingSource } from '../config/source.js';
import { oneOf } from '../config/values.js';

const ACTIONS = ['up', 'down', 'status', 'restart', 'kill', 'clean', 'env', 'dir', 'controller'];

export const infraSpec: CommandSpec = {
  name: 'infra',
  summary: 'start/stop/report the local Kafka, registry and MongoDB-wire store',
  positionals: ['up|down|status|restart|kill|clean|env|dir|controller', 'service...'],
  optional: ['service...'],
  description: `Starts, stops or reports the real services used by the tests and benchmarks, without Docker:
Apache Kafka (127.0.0.1:9092), Apicurio Registry (127.0.0.1:8081) and the MongoDB-wire store
(127.0.0.1:27017). Services: kafka, registry, documentdb, mongo (the default ones), postgres and
connect (with --cdc), kafka-1..3 (with --brokers 3). "env" prints their addresses as shell exports;
"kill" crashes the named services (SIGKILL, data kept); "dir" prints one service's run directory;
"controller" the active controller of the three-node cluster. A service whose address is set
(KAFKA_BROKERS, SCHEMA_REGISTRY_URL, MONGODB_URL, or the config file's kafka-brokers, registry,
mongo) is left alone. See docs/infra.md.`,
  sections: [{ title: 'Options', keys: ['cdc', 'brokers', 'config'], help: { cdc: 'also Kafka Connect with Debezium and the CDC source database', config: 'JSON config file: its kafka-brokers, registry and mongo mark those services external' } }],
  footer: 'Exit code: the script\'s (status: 0 only when every selected service is up); 2 bad configuration.',
};

export function infraCommand(args: readonly string[], source: SettingSource): number {
  const [action, ...services] = args;
  if (action === undefined || !ACTIONS.includes(action)) {
    throw new TributaryError('TRB_CONFIG', `invalid infra command ${JSON.stringify(action ?? '')}: expected ${ACTIONS.join(', ')}`);
  }
  const script = fileURLToPath(new URL('../../../scripts/infra', import.meta.url));
  // The installed package ships no scripts: the services are built from a clone of the repository.
  if (!existsSync(script)) throw new TributaryError('TRB_CONFIG', 'tributary infra needs a clone of the Tributary repository (scripts/infra); see docs/infra.md');
  const brokers = oneOf(source.get('brokers'), '1', ['1', '3'] as const);
  const flags = [...(source.flags['cdc'] === 'true' ? ['--cdc'] : []), ...(brokers === '3' ? ['--brokers', '3'] : [])];
  const env = { ...process.env, ...infraEnv(source) };
  return spawnSync('bash', [script, action, ...flags, ...services], { stdio: 'inherit', env }).status ?? 1;
}
