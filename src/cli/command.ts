/**
 * What a command is: its usage, its positionals and the settings it takes (config/settings.ts).
 * From that one declaration come the command's option parser — so a flag of another command, or a
 * misspelt one, is an error printed with this command's usage — and its `--help`, so the help lists
 * exactly the options the parser accepts and the code reads.
 *
 *   parseCommand(serveSpec, ['x.ts', '--kafka-brokers', 'b:9092'])
 *     --> TRB_CONFIG '--kafka-brokers is not an option of "serve" (it is one of run, topics, refresh, verify, dlq)'
 */
import { parseArgs } from 'node:util';
import { TributaryError } from '../errors.js';
import { SETTINGS, type OptionSection, type Setting, type SettingKey } from './config/settings.js';
import type { Flags } from './config/source.js';

export interface CommandSpec {
  readonly name: string;
  /** One line for `tributary --help`. */
  readonly summary: string;
  /** Positionals by name, e.g. ['<topology-file>']; those in `optional` may be left out; a last one ending in '...' repeats. */
  readonly positionals: readonly string[];
  readonly optional?: readonly string[];
  readonly description: string;
  readonly sections: readonly OptionSection[];
  /** Text after the options (exit codes, see also). */
  readonly footer?: string;
}

export interface ParsedCommand {
  readonly help: boolean;
  readonly positionals: readonly string[];
  readonly flags: Flags;
}

function keysOf(spec: CommandSpec): SettingKey[] {
  return [...new Set(spec.sections.flatMap((section) => section.keys))];
}

/** Settings of `spec` that have a flag. */
function flagKeys(spec: CommandSpec): SettingKey[] {
  return keysOf(spec).filter((key) => (SETTINGS[key] as Setting).flag !== false);
}

export function usageLine(spec: CommandSpec): string {
  const positionals = spec.positionals.map((p) => (spec.optional?.includes(p) ? `[${p}]` : p));
  return `Usage: tributary ${[spec.name, ...positionals].join(' ')} [options]`;
}

/** `--help` of a command: usage, description, then each section's options in three columns. */
export function renderHelp(spec: CommandSpec): string {
  const rows = spec.sections.map((section) =>
    section.keys.map((key) => {
      const setting: Setting = SETTINGS[key];
      const flag = setting.flag === false ? (setting.file === false ? '' : `${key} (file)`) : `--${key}${setting.arg ? ` ${setting.arg}` : ''}`;
      return [flag, setting.env ?? '', section.help?.[key] ?? setting.help] as const;
    }),
  );
  const flagWidth = Math.max(...rows.flat().map(([flag]) => flag.length), 0) + 2;
  const envWidth = Math.max(...rows.flat().map(([, env]) => env.length), 0) + 2;
  const lines = [usageLine(spec), '', spec.description];
  spec.sections.forEach((section, i) => {
    lines.push('', `${section.title}:`);
    for (const [flag, env, help] of rows[i] ?? []) lines.push(`  ${flag.padEnd(flagWidth)}${env.padEnd(envWidth)}${help}`.trimEnd());
    if (section.note) lines.push(`  ${section.note}`);
  });
  lines.push('', 'Flags win over environment variables, which win over the config file; "key (file)" is a config-file key with no flag.');
  if (spec.footer) lines.push('', spec.footer);
  return lines.join('\n');
}

/** The commands (other than `spec`) that have `--key`, for the message about a misplaced flag. */
function commandsWith(key: string, all: readonly CommandSpec[]): string[] {
  return all.filter((other) => (flagKeys(other) as string[]).includes(key)).map((other) => other.name);
}

/** A TRB_CONFIG error after which the program prints the command's usage (its --help). */
export function usageError(command: string, message: string): TributaryError {
  return new TributaryError('TRB_CONFIG', message, { context: { command, showUsage: true } });
}

/** Whether `error` asks for the usage of its command to be printed after it. */
export function wantsUsage(error: unknown): error is TributaryError & { context: { command: string } } {
  return error instanceof TributaryError && error.context['showUsage'] === true && typeof error.context['command'] === 'string';
}

function refuse(spec: CommandSpec, message: string): never {
  throw usageError(spec.name, message);
}

/**
 * Parses `args` against `spec`: only its own flags, its positionals in number. `all` lets a
 * refusal say which commands do take a misplaced flag.
 */
export function parseCommand(spec: CommandSpec, args: readonly string[], all: readonly CommandSpec[] = []): ParsedCommand {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = { help: { type: 'boolean', short: 'h' } };
  for (const key of flagKeys(spec)) options[key] = { type: (SETTINGS[key] as Setting).boolean ? 'boolean' : 'string' };
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...args], options, allowPositionals: true, strict: true }) as typeof parsed;
  } catch (error) {
    const flag = /'(--?[^'\s=]+)/.exec((error as Error).message)?.[1];
    const key = flag?.replace(/^--?/, '');
    if (key !== undefined && !(key in options)) {
      const elsewhere = commandsWith(key, all);
      refuse(spec, elsewhere.length ? `${flag} is not an option of "${spec.name}" (it is one of ${elsewhere.join(', ')})` : `unknown option ${flag} for "${spec.name}"`);
    }
    return refuse(spec, `${(error as Error).message.replace(/\. To specify.*$/s, '')} (tributary ${spec.name})`);
  }
  if (parsed.values['help'] === true) return { help: true, positionals: parsed.positionals, flags: {} };
  const required = spec.positionals.filter((p) => !spec.optional?.includes(p));
  if (parsed.positionals.length < required.length) refuse(spec, `missing ${required.slice(parsed.positionals.length).join(' ')}`);
  const variadic = spec.positionals.at(-1)?.endsWith('...') === true;
  if (!variadic && parsed.positionals.length > spec.positionals.length) refuse(spec, `unexpected argument ${JSON.stringify(parsed.positionals[spec.positionals.length])} for "${spec.name}"`);
  const flags: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed.values)) if (key !== 'help' && value !== undefined) flags[key] = String(value);
  return { help: false, positionals: parsed.positionals, flags };
}
