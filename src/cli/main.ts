/**
 * The `tributary` command. Every command has --help; configuration errors exit with code 2
 * before anything connects.
 */
import { parseArgs } from 'node:util';
import { isTributaryError } from '../errors.js';
import { demoCommand, demoHelp } from './commands/demo.js';
import { controlCommand, pauseHelp, resumeHelp, statusHelp } from './commands/control.js';
import { describeCommand, describeHelp } from './commands/describe.js';
import { infraCommand, infraHelp } from './commands/infra.js';
import { runCommand, runHelp } from './commands/run.js';
import { refreshCommand, refreshHelp } from './commands/refresh.js';
import { serveCommand, serveHelp } from './commands/serve.js';

const help = `Usage: tributary <command> [options]

Keeps projections and single views up to date from CDC events on Kafka.

Commands:
  run <topology-file>        run a topology against Kafka (+ registry, MongoDB)
  describe <topology-file>   print a topology as text, Mermaid or JSON
  serve <topology-file>      read-only REST API (CRUD Service compatible) over its projections and views
  pause <target>             pause a stage or stream of a running instance (its control API)
  resume <target>            resume it
  status                     streams, partitions and pauses of a running instance
  refresh <topology-file> <single-view>
                             rebuild every view of a single view (batched, rate-limited, resumable)
  demo                       run the customer-360 example end to end and check it
  infra up|down|status       start/stop/report the local Kafka, registry and FerretDB

Run "tributary <command> --help" for a command's options.`;

const helps: Record<string, string> = { run: runHelp, refresh: refreshHelp, serve: serveHelp, pause: pauseHelp, resume: resumeHelp, status: statusHelp, describe: describeHelp, demo: demoHelp, infra: infraHelp };

export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    console.log(help);
    return command ? 0 : 1;
  }
  if (command === 'infra') {
    if (rest.includes('--help')) return console.log(infraHelp), 0;
    return infraCommand(rest);
  }
  const commandHelp = helps[command];
  if (!commandHelp) {
    console.error(`unknown command ${JSON.stringify(command)}\n\n${help}`);
    return 2;
  }
  const { values, positionals } = parseArgs({
    args: [...rest],
    allowPositionals: true,
    strict: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      format: { type: 'string' },
      only: { type: 'string' },
      events: { type: 'string' },
      customers: { type: 'string' },
      real: { type: 'boolean' },
      cdc: { type: 'boolean' },
      kafka: { type: 'string' },
      'kafka-brokers': { type: 'string' },
      registry: { type: 'string' },
      mongo: { type: 'string' },
      'mongo-database': { type: 'string' },
      'http-host': { type: 'string' },
      'http-port': { type: 'string' },
      host: { type: 'string' },
      paused: { type: 'boolean' },
      config: { type: 'string' },
      url: { type: 'string' },
      token: { type: 'string' },
      port: { type: 'string' },
      'log-level': { type: 'string' },
      'kafka-sasl-mechanism': { type: 'string' },
      'kafka-sasl-username': { type: 'string' },
      'kafka-sasl-password-file': { type: 'string' },
      'kafka-tls': { type: 'boolean' },
      'kafka-tls-ca-file': { type: 'string' },
      'kafka-tls-cert-file': { type: 'string' },
      'kafka-tls-key-file': { type: 'string' },
      'kafka-tls-reject-unauthorized': { type: 'string' },
      'registry-username': { type: 'string' },
      'registry-password-file': { type: 'string' },
      'batch-size': { type: 'string' },
      rate: { type: 'string' },
      checkpoint: { type: 'string' },
      restart: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(commandHelp);
    return 0;
  }
  // Boolean flags (other than --help) are passed on as 'true'.
  const flags = Object.fromEntries(Object.entries(values).filter(([, v]) => typeof v === 'string' || v === true).map(([k, v]) => [k, String(v)])) as Record<string, string>;
  switch (command) {
    case 'describe':
      console.log(await describeCommand(positionals[0], flags.format));
      return 0;
    case 'demo': {
      // The example is injected here, at the CLI's composition root: the command imports none.
      const { customer360Demo } = await import('../../topologies/customer-360.demo.js');
      await demoCommand(flags, (line) => console.log(line), customer360Demo);
      return 0;
    }
    case 'run':
      await runCommand(positionals[0], flags, process.env);
      return -1; // keeps running until a signal
    case 'pause':
    case 'resume':
    case 'status':
      return controlCommand(command, positionals[0], flags, process.env, (line) => console.log(line));
    case 'refresh':
      return refreshCommand(positionals[0], positionals[1], flags, process.env, (line) => console.log(line));
    case 'serve':
      await serveCommand(positionals[0], flags, process.env);
      return -1; // keeps serving until a signal
    default:
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    if (isTributaryError(error) && error.code === 'TRB_CONFIG') {
      console.error(`tributary: ${error.message}`);
      process.exitCode = 2;
    } else if (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) {
      console.error(`tributary: ${error.message} (see --help)`);
      process.exitCode = 2;
    } else if (isTributaryError(error)) {
      console.error(`tributary: ${error.code}: ${error.message}`);
      process.exitCode = 1;
    } else {
      console.error(error);
      process.exitCode = 1;
    }
  },
);
