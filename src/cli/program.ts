/**
 * The `tributary` program: picks the command, parses its own options (command.ts), builds its
 * configuration source, runs it, and turns a failure into a message and an exit code. Everything it
 * prints — results, errors, usage — goes through one Redactor, which the configuration fills with
 * every secret it reads.
 *
 *   main(['describe', 'topologies/orders-enricher.ts'])  --> prints the description, resolves 0
 *   main(['serve', 'x.ts', '--kafka-brokers', 'b:9092']) --> "tributary: TRB_CONFIG: --kafka-brokers is not an option of "serve" …", resolves 2
 */
import { readFileSync } from 'node:fs';
import { isTributaryError } from '../errors.js';
import { Redactor } from '../ops/secrets.js';
import { parseCommand, renderHelp, wantsUsage, type CommandSpec } from './command.js';
import { controlCommand, pauseSpec, resumeSpec, statusSpec } from './commands/control.js';
import { demoCommand } from './commands/demo.js';
import { demoSpec } from './commands/demo-spec.js';
import { describeCommand, describeSpec } from './commands/describe.js';
import { dlqCommand, dlqSpec } from './commands/dlq.js';
import { infraCommand, infraSpec } from './commands/infra.js';
import { refreshCommand, refreshSpec } from './commands/refresh.js';
import { explainCommand, explainSpec } from './commands/explain.js';
import { verifyCommand, verifySpec } from './commands/verify.js';
import { runCommand, runSpec } from './commands/run.js';
import { serveCommand, serveSpec } from './commands/serve.js';
import { topicsCommand, topicsSpec } from './commands/topics.js';
import { SettingSource, type Env } from './config/source.js';

export interface Io {
  readonly env: Env;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

interface Context {
  readonly positionals: readonly string[];
  readonly source: SettingSource;
  readonly print: (line: string) => void;
}

/** A command: its declaration and what it does. Resolves the exit code; -1 keeps the process running (run, serve). */
interface Command {
  readonly spec: CommandSpec;
  run(context: Context): Promise<number>;
}

const arg = (context: Context, i: number): string => context.positionals[i] as string; // presence checked by parseCommand

const COMMANDS: readonly Command[] = [
  { spec: runSpec, run: async (c) => (await runCommand(arg(c, 0), c.source), -1) },
  { spec: describeSpec, run: async (c) => (c.print(await describeCommand(arg(c, 0), c.source)), 0) },
  { spec: topicsSpec, run: (c) => topicsCommand(arg(c, 0), c.source, c.print) },
  { spec: serveSpec, run: async (c) => (await serveCommand(arg(c, 0), c.source), -1) },
  { spec: pauseSpec, run: (c) => controlCommand('pause', arg(c, 0), c.source, c.print) },
  { spec: resumeSpec, run: (c) => controlCommand('resume', arg(c, 0), c.source, c.print) },
  { spec: statusSpec, run: (c) => controlCommand('status', undefined, c.source, c.print) },
  { spec: refreshSpec, run: (c) => refreshCommand(arg(c, 0), arg(c, 1), c.source, c.print) },
  { spec: explainSpec, run: (c) => explainCommand(arg(c, 0), arg(c, 1), arg(c, 2), c.source, c.print) },
  { spec: verifySpec, run: (c) => verifyCommand(arg(c, 0), arg(c, 1), c.source, c.print) },
  { spec: dlqSpec, run: (c) => dlqCommand(arg(c, 0), arg(c, 1), c.source, c.print) },
  {
    spec: demoSpec,
    run: async (c) => {
      // The example is injected here, at the CLI's composition root: the command imports none.
      const { customer360Demo } = await import('../../topologies/customer-360.demo.js');
      await demoCommand(c.source.flags, c.print, customer360Demo, c.source.env);
      return 0;
    },
  },
  { spec: infraSpec, run: async (c) => infraCommand(c.positionals, c.source) },
];

export const SPECS: readonly CommandSpec[] = COMMANDS.map((c) => c.spec);

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function topHelp(): string {
  const rows = SPECS.map((spec) => [[spec.name, ...spec.positionals.map((p) => (spec.optional?.includes(p) ? `[${p}]` : p))].join(' '), spec.summary] as const);
  // Columns sized by the usual usages; a longer one puts its summary on the next line.
  const width = Math.max(...rows.map(([usage]) => usage.length).filter((n) => n <= 40)) + 3;
  return [
    'Usage: tributary <command> [options]',
    '       tributary --version',
    '',
    'Keeps projections and single views up to date from CDC events on Kafka.',
    '',
    'Commands:',
    ...rows.map(([usage, summary]) => (usage.length < width ? `  ${usage.padEnd(width)}${summary}` : `  ${usage}\n  ${''.padEnd(width)}${summary}`)),
    '',
    'Run "tributary <command> --help" for a command\'s options. Configuration errors exit with code 2.',
  ].join('\n');
}

/** Exit code of a failure: 2 for a configuration or declaration error, 1 for anything else. */
function exitCodeOf(error: unknown): number {
  return isTributaryError(error) && (error.code === 'TRB_CONFIG' || error.code === 'TRB_TOPOLOGY') ? 2 : 1;
}

export async function main(argv: readonly string[], io: Io = { env: process.env, out: (l) => console.log(l), err: (l) => console.error(l) }): Promise<number> {
  const redactor = new Redactor();
  const out = (line: string) => io.out(redactor.redact(line));
  const err = (line: string) => io.err(redactor.redact(line));
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(topHelp());
    return name === undefined ? 1 : 0;
  }
  if (name === '--version' || name === '-v' || name === 'version') {
    out(`tributary ${version()}`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.spec.name === name);
  if (!command) {
    err(`tributary: TRB_CONFIG: unknown command ${JSON.stringify(name)}`);
    io.err(`\n${topHelp()}`);
    return 2;
  }
  try {
    const parsed = parseCommand(command.spec, rest, SPECS);
    if (parsed.help) {
      io.out(renderHelp(command.spec)); // text of the code, no secret: not redacted, so its examples stay readable
      return 0;
    }
    const source = new SettingSource(io.env, parsed.flags, redactor);
    return await command.run({ positionals: parsed.positionals, source, print: out });
  } catch (error) {
    // Every failure says its code: TRB_CONFIG (exit 2) is what the user can fix in the settings.
    if (isTributaryError(error)) err(`tributary: ${error.code}: ${error.message}`);
    else err(`tributary: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    if (wantsUsage(error)) io.err(`\n${renderHelp(COMMANDS.find((c) => c.spec.name === error.context.command)?.spec ?? command.spec)}`);
    return exitCodeOf(error);
  }
}
