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
import type { ConfigSource } from '../config.js';

export const PAUSE_PATH = '/control/pause';
export const RESUME_PATH = '/control/resume';
export const STATUS_PATH = '/status';

const clientOptions = `Options:
  --url <url>       TRIBUTARY_URL            the instance's ops server, default http://127.0.0.1:9464
  --token <token>   TRIBUTARY_CONTROL_TOKEN  bearer token the instance was started with (pause/resume)`;

export const pauseHelp = `Usage: tributary pause <target> [options]

Pauses the streams <target> names on a running instance: a stream name (e.g. ingest:pr_customers),
a stage (ingest, trigger, aggregate) or '*'. Their partitions stop fetching at once (a batch already
fetched is held, unprocessed); a batch in flight finishes and commits; offsets stay. A pause outlives
rebalances. Undo with "tributary resume <target>".

${clientOptions}`;

export const resumeHelp = `Usage: tributary resume <target> [options]

Resumes streams paused by "tributary pause" or by starting with --paused. Same targets as pause.

${clientOptions}`;

export const statusHelp = `Usage: tributary status [options]

Prints each stream of a running instance: state, assigned and paused partitions, whether an
operator paused it, and its last error.

${clientOptions}`;

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
export async function controlCommand(command: 'pause' | 'resume' | 'status', target: string | undefined, flags: ConfigSource, env: ConfigSource, print: (line: string) => void): Promise<number> {
  const base = flags['url'] ?? env['TRIBUTARY_URL'] ?? 'http://127.0.0.1:9464';
  try {
    new URL(base);
  } catch {
    throw new TributaryError('TRB_CONFIG', `invalid ${flags['url'] ? '--url' : 'TRIBUTARY_URL'}=${JSON.stringify(base)}: expected a URL such as http://127.0.0.1:9464`);
  }
  const token = flags['token'] ?? env['TRIBUTARY_CONTROL_TOKEN'];
  if (command !== 'status' && !target) throw new TributaryError('TRB_CONFIG', `missing <target>\n\n${command === 'pause' ? pauseHelp : resumeHelp}`);
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
