/**
 * `tributary pause|resume <target>` and `tributary status`: clients of a running instance's control
 * API (the ops server of `tributary run`). The routes themselves are built by `controlRoutes`, so
 * server and client agree on paths and bodies in one file.
 *
 *   tributary pause ingest      --> POST /control/pause  {"target":"ingest"}  --> {"paused":["ingest:pr_customers", ...]}
 *   tributary status            --> GET  /status                              --> one line per stream
 */
import { TributaryError, isTributaryError } from '../../errors.js';
import type { OpsRoute } from '../../ops/http-server.js';
import type { RunningTopology, StreamStatus } from '../../stream/runtime/runner.js';
import type { CommandSpec } from '../command.js';
import { clientConfig } from '../config.js';
import type { OptionSection } from '../config/settings.js';
import type { SettingSource } from '../config/source.js';

export const PAUSE_PATH = '/control/pause';
export const RESUME_PATH = '/control/resume';
export const STATUS_PATH = '/status';

const CLIENT: OptionSection = { title: 'Options', keys: ['url', 'token', 'client-ops-token', 'config'] };
const EXIT_CODES = 'Exit codes: 0 done, 1 refused by the instance or unreachable, 2 bad configuration.';

export const pauseSpec: CommandSpec = {
  name: 'pause',
  summary: 'pause a stage or stream of a running instance (its control API)',
  positionals: ['<target>'],
  description: `Pauses the streams <target> names on a running instance: a stream name (e.g. ingest:pr_customers),
a stage (ingest, trigger, aggregate) or '*'. Their partitions stop fetching at once (a batch already
fetched is held, unprocessed); a batch in flight finishes and commits; offsets stay. A pause outlives
rebalances. Undo with "tributary resume <target>".`,
  sections: [{ ...CLIENT, keys: ['url', 'token', 'config'] }],
  footer: EXIT_CODES,
};

export const resumeSpec: CommandSpec = {
  name: 'resume',
  summary: 'resume streams paused by pause or by run --paused',
  positionals: ['<target>'],
  description: 'Resumes streams paused by "tributary pause" or by starting with --paused. Same targets as pause.',
  sections: [{ ...CLIENT, keys: ['url', 'token', 'config'] }],
  footer: EXIT_CODES,
};

export const statusSpec: CommandSpec = {
  name: 'status',
  summary: 'streams, partitions and pauses of a running instance',
  positionals: [],
  description: `Prints each stream of a running instance: state, assigned and paused partitions, whether an
operator paused it, and its last error.`,
  sections: [{ ...CLIENT, help: { token: 'a token the instance accepts for /status: its control token or its ops token' } }],
  footer: EXIT_CODES,
};

/**
 * The control routes `tributary run` serves; `running()` is undefined until the topology has
 * started. `config()` is the effective configuration with its secrets left out (redactedConfig).
 */
export function controlRoutes(running: () => RunningTopology | undefined, config: () => Record<string, unknown> = () => ({})): OpsRoute[] {
  const act = (action: 'pause' | 'resume'): OpsRoute['handler'] => async ({ body }) => {
    const target = (body as { target?: unknown } | undefined)?.target;
    if (typeof target !== 'string' || target === '') return { status: 400, body: { error: 'TRB_CONFIG', message: 'body must be {"target": "<stream|stage|*>"}' } };
    const instance = running();
    if (!instance) return { status: 503, body: { error: 'TRB_CONNECT', message: 'the topology is still starting' } };
    try {
      const streams = action === 'pause' ? instance.pause(target) : instance.resume(target);
      return { status: 200, body: { [action === 'pause' ? 'paused' : 'resumed']: streams } };
    } catch (error) {
      if (isTributaryError(error)) return { status: 404, body: { error: error.code, message: error.message } };
      throw error;
    }
  };
  return [
    { method: 'POST', path: PAUSE_PATH, auth: true, handler: act('pause') },
    { method: 'POST', path: RESUME_PATH, auth: true, handler: act('resume') },
    { method: 'GET', path: STATUS_PATH, handler: async () => ({ status: 200, body: { streams: running()?.status() ?? [], config: config() } }) },
  ];
}

/** Runs one client command; returns the exit code. */
export async function controlCommand(command: 'pause' | 'resume' | 'status', target: string | undefined, source: SettingSource, print: (line: string) => void): Promise<number> {
  const { url: base, token } = clientConfig(source, command);
  const url = new URL(command === 'status' ? STATUS_PATH : command === 'pause' ? PAUSE_PATH : RESUME_PATH, base);
  let response: Response;
  try {
    response = await fetch(url, {
      method: command === 'status' ? 'GET' : 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(command === 'status' ? {} : { body: JSON.stringify({ target }) }),
    });
  } catch (error) {
    throw new TributaryError('TRB_CONNECT', `cannot reach ${url.origin}: ${(error as Error).message}`, { cause: error });
  }
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok) {
    print(`tributary ${command}: ${response.status} ${String(body['message'] ?? body['error'] ?? response.statusText)}`);
    return 1;
  }
  if (command === 'status') {
    for (const s of (body['streams'] ?? []) as StreamStatus[]) print(statusLine(s));
  } else {
    const streams = (body[command === 'pause' ? 'paused' : 'resumed'] ?? []) as string[];
    print(`${command === 'pause' ? 'paused' : 'resumed'}: ${streams.join(', ')}`);
  }
  return 0;
}

function statusLine(s: StreamStatus): string {
  const count = (list: StreamStatus['assigned']) => list.reduce((n, a) => n + a.partitions.length, 0);
  const state = s.pausedByOperator ? `${s.state}, paused by operator` : s.state;
  const error = s.lastError ? `  last error ${s.lastError.code} at ${s.lastError.at}` : '';
  return `${s.name.padEnd(32)} ${state.padEnd(28)} partitions ${count(s.assigned)} (${count(s.paused)} paused)${error}`;
}
