/**
 * The ops HTTP server: metrics, health, readiness, topology and the routes its owner adds (status,
 * control, dashboard). Every body it sends — JSON, text, HTML and event streams — goes through one
 * Redactor, so no error message or configuration value reaches a client unscrubbed. Access levels
 * (open probes, read token, control token) are in ops-auth.ts.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TributaryError, isTributaryError } from '../errors.js';
import { READ_CHALLENGE, authorized, tokenDigest } from './ops-auth.js';
import { Redactor } from './secrets.js';

/** Result of a liveness or readiness check: overall verdict plus one entry per named check. */
export interface HealthReport {
  ok: boolean;
  checks: Record<string, { ok: boolean; detail?: string }>;
}

export interface OpsRouteRequest {
  /** Parsed JSON body; `undefined` when the request had none. */
  body: unknown;
  query: URLSearchParams;
}

export interface OpsRouteResponse {
  status: number;
  /** Serialised as JSON, unless `contentType` is given: then a string sent as is. */
  body: unknown;
  /** e.g. 'text/html; charset=utf-8' for pages and assets. */
  contentType?: string;
  /** Takes the response over (Server-Sent Events): called after the status line, instead of sending `body`. */
  stream?: (res: ServerResponse, req: IncomingMessage) => void;
}

/** An extra endpoint, e.g. a control action such as pausing a stream. */
export interface OpsRoute {
  method: 'GET' | 'POST';
  path: string;
  /**
   * Require the control token (`Authorization: Bearer <controlToken>`). Anything that changes state
   * should set this. Routes without it are read routes: they need the read token when one is set.
   */
  auth?: boolean;
  handler(request: OpsRouteRequest): Promise<OpsRouteResponse>;
}

export interface OpsServerOptions {
  /** Interface to bind. Default `127.0.0.1`: ops endpoints are not for the open internet. */
  host?: string;
  /** Port to bind. Default 9464 (the Prometheus exporter convention); 0 picks a free port. */
  port?: number;
  /**
   * What `/metrics` serves: the `Metrics` the topology runs with (`createMetrics()`), or a function
   * returning a scrape body. Without it `/metrics` answers 404.
   */
  metrics?: ScrapeSource | (() => Promise<{ contentType: string; body: string }>);
  /** Liveness: is the process worth keeping? Without it the process counts as alive. */
  health?: () => HealthReport | Promise<HealthReport>;
  /** Readiness: should traffic/partitions go here? Without it, same as liveness. */
  readiness?: () => HealthReport | Promise<HealthReport>;
  /** JSON description of the running topology. Without it `/topology` answers 404. */
  topology?: () => unknown;
  routes?: readonly OpsRoute[];
  /** Bearer token for `auth: true` routes. Without it those routes are disabled (403). At least 16 characters. */
  controlToken?: string;
  /**
   * Bearer token for every other route except `/-/healthz` and `/-/ready` (metrics, topology, status,
   * dashboard), e.g. when the server is bound beyond loopback; the control token is accepted too.
   * Without it those routes are open. At least 16 characters.
   */
  readToken?: string;
  /** Every body sent goes through it. Default: a Redactor without registered secrets (patterns only). */
  redactor?: Redactor;
  /** Largest accepted request body in bytes. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Told about failures that became a 500, so they reach the log instead of vanishing. */
  onError?: (error: unknown, request: { method: string; path: string }) => void;
}

/** A metrics registry that renders Prometheus text (`Metrics` does). */
export interface ScrapeSource {
  readonly contentType: string;
  text(): Promise<string>;
}

export interface OpsServer {
  /** Base URL, e.g. `http://127.0.0.1:9464`. */
  readonly url: string;
  readonly host: string;
  /** The bound port (the real one when 0 was asked for). */
  readonly port: number;
  readonly address: AddressInfo;
  /** Stops listening and drops open connections, keep-alive ones included. Idempotent. */
  close(): Promise<void>;
}

export const DEFAULT_OPS_HOST = '127.0.0.1';
export const DEFAULT_OPS_PORT = 9464;
const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
const RESERVED_PATHS = new Set(['/metrics', '/-/healthz', '/-/ready', '/topology']);
/** Open whatever the tokens: probes carry no credentials. */
const PROBE_PATHS = new Set(['/-/healthz', '/-/ready']);

interface JsonReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** Starts the ops HTTP server: metrics, health, readiness, topology and optional control routes. */
export async function startOpsServer(options: OpsServerOptions = {}): Promise<OpsServer> {
  const host = options.host ?? DEFAULT_OPS_HOST;
  const port = options.port ?? DEFAULT_OPS_PORT;
  const routes = validateRoutes(options.routes ?? []);
  const controlToken = tokenDigest('controlToken', options.controlToken);
  const readToken = tokenDigest('readToken', options.readToken);
  const redactor = options.redactor ?? new Redactor();
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const send = (res: ServerResponse, reply: JsonReply) => sendJson(res, reply, redactor);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    const path = url.pathname;
    try {
      if (readToken !== undefined && !PROBE_PATHS.has(path) && !authorized(req.headers.authorization, [readToken, controlToken])) {
        return send(res, { status: 401, body: { error: 'unauthorized: this route needs the read token' }, headers: { 'www-authenticate': READ_CHALLENGE } });
      }
      if (RESERVED_PATHS.has(path)) {
        if (method !== 'GET') return send(res, { status: 405, body: { error: 'method not allowed' }, headers: { allow: 'GET, HEAD' } });
        if (path === '/metrics') {
          if (options.metrics === undefined) return send(res, { status: 404, body: { error: 'metrics not enabled' } });
          const source = options.metrics;
          const { contentType, body } = typeof source === 'function' ? await source() : { contentType: source.contentType, body: await source.text() };
          res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
          res.end(redactor.redact(body));
          return;
        }
        if (path === '/-/healthz') return send(res, await healthReply(options.health));
        if (path === '/-/ready') return send(res, await healthReply(options.readiness ?? options.health));
        if (options.topology === undefined) return send(res, { status: 404, body: { error: 'topology not available' } });
        return send(res, { status: 200, body: await options.topology() });
      }
      const candidates = routes.filter((route) => route.path === path);
      const route = candidates.find((candidate) => candidate.method === method);
      if (route === undefined) {
        if (candidates.length === 0) return send(res, { status: 404, body: { error: 'not found', path } });
        const allow = candidates.map((candidate) => candidate.method).join(', ');
        return send(res, { status: 405, body: { error: 'method not allowed' }, headers: { allow } });
      }
      if (route.auth === true) {
        if (controlToken === undefined) return send(res, { status: 403, body: { error: 'control disabled: no token configured' } });
        if (!authorized(req.headers.authorization, [controlToken])) {
          return send(res, { status: 401, body: { error: 'unauthorized' }, headers: { 'www-authenticate': 'Bearer' } });
        }
      }
      const body = await readJsonBody(req, maxBodyBytes);
      if ('reply' in body) return send(res, body.reply);
      const reply = await route.handler({ body: body.value, query: url.searchParams });
      if (reply.stream) {
        res.writeHead(reply.status, { 'content-type': reply.contentType ?? 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-content-type-options': 'nosniff' });
        return reply.stream(redactedWrites(res, redactor), req);
      }
      if (reply.contentType !== undefined) {
        res.writeHead(reply.status, { 'content-type': reply.contentType, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
        res.end(redactor.redact(String(reply.body)));
        return;
      }
      return send(res, reply);
    } catch (error) {
      options.onError?.(error, { method, path });
      const body = isTributaryError(error) ? { error: error.message, code: error.code } : { error: 'internal error' };
      if (!res.headersSent) return send(res, { status: 500, body });
      res.destroy();
    }
  }

  const server = createServer((req, res) => {
    void handle(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => {
      reject(new TributaryError('TRB_CONFIG', `ops server cannot listen on ${host}:${port}: ${error.message}`, { cause: error, context: { host, port } }));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });

  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' || address.address.includes(':') ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${address.port}`,
    host: address.address,
    port: address.port,
    address,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        // close() only stops accepting; without this an idle keep-alive socket from the last
        // scrape would hold shutdown open for the keep-alive timeout.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function validateRoutes(routes: readonly OpsRoute[]): readonly OpsRoute[] {
  const seen = new Set<string>();
  for (const route of routes) {
    const key = `${route.method} ${route.path}`;
    if (!route.path.startsWith('/')) throw new TributaryError('TRB_CONFIG', `ops route path must start with '/': ${route.path}`);
    if (RESERVED_PATHS.has(route.path)) throw new TributaryError('TRB_CONFIG', `ops route path is reserved: ${route.path}`);
    if (seen.has(key)) throw new TributaryError('TRB_CONFIG', `duplicate ops route: ${key}`);
    seen.add(key);
  }
  return [...routes];
}

async function healthReply(provider: OpsServerOptions['health']): Promise<JsonReply> {
  let report: HealthReport;
  try {
    report = provider === undefined ? { ok: true, checks: {} } : await provider();
  } catch (error) {
    // A check that throws is itself a failed check, not a crashed endpoint.
    const detail = error instanceof Error ? error.message : String(error);
    report = { ok: false, checks: { provider: { ok: false, detail } } };
  }
  const reasons = Object.entries(report.checks)
    .filter(([, check]) => !check.ok)
    .map(([name, check]) => (check.detail === undefined ? name : `${name}: ${check.detail}`));
  return { status: report.ok ? 200 : 503, body: { status: report.ok ? 'ok' : 'fail', checks: report.checks, reasons } };
}

/** `res` whose text writes (and a last chunk given to end) go through the redactor: an event stream's frames are scrubbed like any body. */
function redactedWrites(res: ServerResponse, redactor: Redactor): ServerResponse {
  const scrub = (chunk: unknown): unknown => (typeof chunk === 'string' ? redactor.redact(chunk) : Buffer.isBuffer(chunk) ? redactor.redact(chunk.toString('utf8')) : chunk);
  const write = res.write.bind(res) as (chunk: unknown, ...rest: unknown[]) => boolean;
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
  res.write = ((chunk: unknown, ...rest: unknown[]) => write(scrub(chunk), ...rest)) as ServerResponse['write'];
  res.end = ((...args: unknown[]) => end(...(typeof args[0] === 'function' ? args : [scrub(args[0]), ...args.slice(1)]))) as ServerResponse['end'];
  return res;
}

async function readJsonBody(req: IncomingMessage, limit: number): Promise<{ value: unknown } | { reply: JsonReply }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    // The rest of the body is never read, so the connection cannot be reused.
    if (size > limit) return { reply: { status: 413, body: { error: 'request body too large', limit }, headers: { connection: 'close' } } };
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return { value: undefined };
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return { reply: { status: 400, body: { error: 'invalid JSON body' } } };
  }
}

function sendJson(res: ServerResponse, reply: JsonReply, redactor: Redactor): void {
  const payload = redactor.redact(JSON.stringify(reply.body) ?? 'null');
  res.writeHead(reply.status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...reply.headers,
  });
  res.end(payload);
}
