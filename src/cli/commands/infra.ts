import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TributaryError } from '../../errors.js';

export const infraHelp = `Usage: tributary infra up|down|status|restart|clean [kafka|registry|mongo ...]

Starts, stops or reports the real services used by the tests and benchmarks, without Docker:
Apache Kafka (127.0.0.1:9092), Apicurio Registry (127.0.0.1:8081) and FerretDB (127.0.0.1:27017).
A service whose address is set in KAFKA_BROKERS, SCHEMA_REGISTRY_URL or MONGODB_URL is left alone.
See docs/infra.md.`;

export function infraCommand(args: readonly string[]): number {
  const commands = ['up', 'down', 'status', 'restart', 'clean', 'env'];
  if (!args[0] || !commands.includes(args[0])) {
    throw new TributaryError('TRB_CONFIG', `invalid infra command ${JSON.stringify(args[0] ?? '')}: expected ${commands.join(', ')}\n\n${infraHelp}`);
  }
  const script = fileURLToPath(new URL('../../../scripts/infra', import.meta.url));
  // The installed package ships no scripts: the services are built from a clone of the repository.
  if (!existsSync(script)) throw new TributaryError('TRB_CONFIG', 'tributary infra needs a clone of the Tributary repository (scripts/infra); see docs/infra.md');
  return spawnSync('bash', [script, ...args], { stdio: 'inherit' }).status ?? 1;
}
