/**
 * `createReadApi`: a read-only HTTP API over the projections and single views of a Fast Data
 * topology, compatible with Mia-Platform CRUD Service clients. It talks to the store only (no
 * Kafka), so reads scale apart from the pipeline.
 *
 *   const api = await createReadApi({ topology: customer360(), store });
 *   await api.listen({ port: 3000 });     // GET /pr-customers/?_q={"tier":"gold"}&_l=10
 */
import Fastify, { LogController, type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { isTributaryError, TributaryError, type ErrorCode } from '../errors.js';
import type { Projection } from '../fastdata/projection/projection.js';
import type { SingleView } from '../fastdata/singleview/single-view.js';
import { createLogger } from '../ops/logger.js';
import type { DocumentStore } from '../store/types.js';
import { registerCollectionRoutes, type AclHeaderNames, type RouteLabels } from './collection-routes.js';
import { executorFor } from './executor.js';
import { buildEndpoints, type Endpoint, type EndpointOptions, type ReadDeclarations } from './model.js';
import { createServeMetrics, type ServeMetrics } from './metrics.js';
import { DOCUMENTATION_PREFIX, helperSchema, registerOpenApi } from './openapi.js';
import { cursorCodec } from './query/cursor.js';
import { DEFAULT_QUERY_LIMITS, type QueryLimits } from './query/filter-q.js';
import { documentSchema } from './schema.js';
import { registerSingleViewRoutes } from './single-view-routes.js';
import { installViews, type ViewMode } from './views/modes.js';
import { portableViewExecutor } from './views/portable.js';
import type { View } from './views/view.js';
import { watermarks } from './watermark.js';

export interface ReadApiOptions extends EndpointOptions {
  /** A `fastData(...)` topology: every projection and single view is served. */
  readonly topology?: { readonly fastData: { readonly projections: ReadonlyArray<Projection<object>>; readonly singleViews: ReadonlyArray<SingleView<object>> } };
  /** Or the declarations to serve, without a topology. */
  readonly declarations?: ReadDeclarations;
  /** On-demand views to serve besides the topology's collections. */
  readonly views?: ReadonlyArray<View>;
  /** Connected by the caller; no document is ever written (native views and their join indexes are created at start). */
  readonly store: DocumentStore;
  readonly logger?: Logger;
  /** Default `_l` (default 25). */
  readonly defaultLimit?: number;
  /** Largest `_l` (default 200, CRUD Service's CRUD_MAX_LIMIT); above → 400. */
  readonly maxLimit?: number;
  readonly queryLimits?: Partial<QueryLimits>;
  /** Documents per store query while exporting (default 500). */
  readonly exportBatchSize?: number;
  /**
   * How views without `map` run: 'auto' (default) compiles them to `$lookup` MongoDB views where the
   * store is MongoDB (≥ 5.0; a view the server refuses falls back to portable, with a warning) and
   * joins portably elsewhere; 'portable' always joins in the API; 'native' requires MongoDB (a
   * TRB_CONFIG error otherwise). Views with `map` are always portable. See views/modes.ts.
   */
  readonly viewMode?: 'auto' | 'portable' | 'native';
  /** Header names of the CRUD Service ACL (defaults `acl_rows`, `acl_read_columns`); the gateway in front sets them. */
  readonly aclHeaders?: Partial<AclHeaderNames>;
  /** How long a collection's watermark is reused before a background refresh (default 5000 ms). */
  readonly watermarkTtlMs?: number;
  /** Default: a fresh registry with Node's process metrics. */
  readonly metrics?: ServeMetrics;
  /** OpenAPI `info.title` (default 'Tributary read API'). */
  readonly title?: string;
  /**
   * Key(s) signing the `_after` cursors (HMAC-SHA256), each at least 32 characters; the first
   * signs, all verify (rotation). Default: env `SERVE_CURSOR_KEY`, else a random key of this
   * process — then cursors do not survive a restart and one replica refuses another's (logged at start).
   */
  readonly cursorKey?: string | readonly string[];
  /**
   * Time budget of each store query in ms (MongoDB's `maxTimeMS`), for list, get, count, each
   * export batch and every query of a view; past it the request answers 503 TRB_QUERY_TIMEOUT.
   * 0 = none. Default: env `SERVE_MAX_TIME_MS`, else 5000.
   */
  readonly maxTimeMS?: number;
  /** Where `SERVE_CURSOR_KEY` and `SERVE_MAX_TIME_MS` are read (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * Serve `GET /-/explain/<view>?<key fields>` (default false): the lineage of a view document — the
   * document and every projection row in it, whole. It bypasses the ACL headers and hidden columns
   * of the collection routes, so turn it on only where every caller may read everything.
   */
  readonly explain?: boolean;
}

export interface ReadApi {
  /** The Fastify instance (use `inject()` in tests). */
  readonly app: FastifyInstance;
  readonly endpoints: readonly Endpoint[];
  /** How each on-demand view is served. */
  readonly viewModes: Readonly<Record<string, ViewMode>>;
  /** Binds (default 127.0.0.1, port 3000) and returns the base URL. */
  listen(options?: { port?: number; host?: string }): Promise<string>;
  close(): Promise<void>;
}

const STATUS: Partial<Record<ErrorCode, number>> = {
  TRB_QUERY_INVALID: 400,
  TRB_QUERY_UNSUPPORTED: 400,
  TRB_VIEW_FILTER_TOO_BROAD: 400,
  TRB_VIEW_SORT_UNSUPPORTED: 400,
  TRB_READ_ONLY: 405,
  TRB_NOT_FOUND: 404,
  TRB_NOT_ACCEPTABLE: 406,
  TRB_COLUMN_HIDDEN: 400,
  TRB_CURSOR_INVALID: 400,
  // 503, not 408: 408 says the client was too slow sending its request, and clients resend it at
  // once; here the store ran out of the time budget, which a less loaded store or a narrower
  // query avoids. The code tells it apart from a failing store (TRB_STORE_READ, also 503).
  TRB_QUERY_TIMEOUT: 503,
  TRB_STORE_READ: 503,
  TRB_CONNECT: 503,
};

const REASONS: Record<number, string> = { 400: 'Bad Request', 404: 'Not Found', 405: 'Method Not Allowed', 406: 'Not Acceptable', 500: 'Internal Server Error', 503: 'Service Unavailable' };

export async function createReadApi(options: ReadApiOptions): Promise<ReadApi> {
  const declared: ReadDeclarations = options.declarations ?? options.topology?.fastData ?? {};
  const declarations: ReadDeclarations = { ...declared, views: [...(declared.views ?? []), ...(options.views ?? [])] };
  const endpoints = buildEndpoints(declarations, options);
  const logger = options.logger ?? createLogger({ name: 'tributary-serve' });
  const metrics = options.metrics ?? createServeMetrics();
  const env = options.env ?? process.env;
  const maxTimeMS = maxTimeOf(options.maxTimeMS, env['SERVE_MAX_TIME_MS']);
  const cursorKeys = cursorKeysOf(options.cursorKey, env['SERVE_CURSOR_KEY']);
  const cursors = cursorCodec(cursorKeys);
  const viewModes = await installViews(declarations.views ?? [], options.store, options.viewMode ?? 'auto', logger);
  const executor = (declarations.views ?? []).filter((v) => viewModes[v.name] === 'portable').reduce((inner, v) => portableViewExecutor(v, inner), executorFor(options.store, { maxTimeMS }));
  const defaultLimit = options.defaultLimit ?? 25;
  const maxLimit = options.maxLimit ?? 200;
  const params = { defaultLimit, maxLimit, limits: { ...DEFAULT_QUERY_LIMITS, ...options.queryLimits }, cursors };
  if (cursorKeys.length === 0) {
    logger.warn('read API: no cursor key configured (cursorKey / SERVE_CURSOR_KEY): _after cursors are signed with a random key of this process, so they do not survive a restart and other replicas refuse them (400 TRB_CURSOR_INVALID)');
  }

  // No per-request log lines: at read-API rates they would dominate the log; the metrics count requests.
  const app = Fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { ignoreTrailingSlash: true },
  }) as unknown as FastifyInstance;

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (isTributaryError(error)) {
      const status = STATUS[error.code] ?? 500;
      if (error.code === 'TRB_QUERY_TIMEOUT') request.log.warn({ code: error.code, url: request.url.split('?')[0] }, 'read query exceeded maxTimeMS');
      else if (status >= 500) request.log.error({ err: error, code: error.code }, 'read failed');
      const context = error.context;
      if (error.code === 'TRB_READ_ONLY') reply.header('allow', 'GET, HEAD');
      return reply.status(status).send({
        statusCode: status,
        error: REASONS[status] ?? 'Error',
        message: error.message,
        code: error.code,
        ...(typeof context['path'] === 'string' ? { path: context['path'] } : {}),
        ...(Array.isArray(context['allowed']) ? { allowed: context['allowed'] } : {}),
      });
    }
    const status = typeof error.statusCode === 'number' && error.statusCode >= 400 ? error.statusCode : 500;
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    return reply.status(status).send({ statusCode: status, error: REASONS[status] ?? 'Error', message: status >= 500 ? 'internal error' : error.message });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ statusCode: 404, error: 'Not Found', message: `Route ${request.method}:${request.url.split('?')[0]} not found`, code: 'TRB_NOT_FOUND' }),
  );
  app.addHook('onResponse', async (request, reply) => {
    const config = request.routeOptions.config as Partial<RouteLabels>;
    const route = config.route ?? (request.routeOptions.url?.startsWith(DOCUMENTATION_PREFIX) === true ? 'documentation' : 'unmatched');
    metrics.request(config.collection ?? '-', route, reply.statusCode, reply.elapsedTime / 1000);
  });

  const aclHeaders = aclHeaderNames(options.aclHeaders);
  const openapi = { title: options.title ?? 'Tributary read API', version: '1', maxLimit, defaultLimit, maxTimeMS, aclHeaders };
  await registerOpenApi(app, endpoints, openapi);
  const context = { aclHeaders, executor, params, watermarks: watermarks(executor, options.watermarkTtlMs ?? 5000), exportBatchSize: options.exportBatchSize ?? 500, openapi };
  for (const endpoint of endpoints) registerCollectionRoutes(app, endpoint, context);

  const helper = (route: string, summary: string, more: Parameters<typeof helperSchema>[1] = {}) => ({ config: { collection: '-', route } satisfies RouteLabels, schema: helperSchema(summary, more) });
  app.get('/-/schemas', helper('schemas', 'JSON Schemas of every served collection ([{name, schema}]; NDJSON with Accept: application/x-ndjson)'), async (request, reply) => {
    const all = endpoints.map((e) => ({ name: e.collection, schema: documentSchema(e) }));
    if (/application\/(x-)?ndjson/.test(request.headers.accept ?? '')) {
      reply.type('application/x-ndjson');
      return all.map((s) => `${JSON.stringify(s)}\n`).join('');
    }
    return all;
  });
  // --- single views: definitions (blue/green) and lineage; see single-view-routes.ts ---
  registerSingleViewRoutes(app, declarations.singleViews ?? [], options.store, { explain: options.explain === true, schema: helperSchema });
  // ---
  app.get('/-/healthz', helper('healthz', 'Liveness'), async () => ({ status: 'OK' }));
  app.get('/-/ready', helper('ready', 'Readiness: the store answers within 2 s', { readiness: true }), async (_request, reply) => {
    const probe = endpoints[0]?.collection;
    try {
      if (probe) await withTimeout(executor.find(probe, { filter: { _id: '__tributary_ready__' }, sort: [], limit: 1 }), 2000);
      return { status: 'OK', checks: { store: { ok: true } } };
    } catch (error) {
      return reply.status(503).send({ status: 'KO', checks: { store: { ok: false, detail: error instanceof Error ? error.message : String(error) } } });
    }
  });
  app.get('/-/metrics', helper('metrics', 'Prometheus metrics', { contentType: 'text/plain' }), async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  await app.ready();
  return {
    app,
    endpoints,
    viewModes,
    async listen(listenOptions = {}) {
      return app.listen({ port: listenOptions.port ?? 3000, host: listenOptions.host ?? '127.0.0.1' });
    },
    close: () => app.close(),
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`store did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The configured time budget, else the environment's, else 5000 ms; a non-negative integer. */
function maxTimeOf(configured: number | undefined, fromEnv: string | undefined): number {
  const [value, setting] = configured !== undefined ? [configured, 'maxTimeMS'] : fromEnv !== undefined && fromEnv !== '' ? [/^\d+$/.test(fromEnv) ? Number(fromEnv) : Number.NaN, 'SERVE_MAX_TIME_MS'] : [5000, 'maxTimeMS'];
  if (!Number.isInteger(value) || value < 0 || value > 2 ** 31 - 1) {
    throw new TributaryError('TRB_CONFIG', `read API: ${setting} must be an integer number of milliseconds from 0 to ${2 ** 31 - 1}`, { context: { setting } });
  }
  return value;
}

/** The configured key(s), else the environment's; none → [] (a random process key). Never logged. */
function cursorKeysOf(configured: string | readonly string[] | undefined, fromEnv: string | undefined): string[] {
  if (configured !== undefined) return typeof configured === 'string' ? [configured] : [...configured];
  return fromEnv !== undefined && fromEnv !== '' ? [fromEnv] : [];
}

/** CRUD Service's names unless configured; each must be an HTTP header name, and the two must differ. */
function aclHeaderNames(configured: Partial<AclHeaderNames> | undefined): AclHeaderNames {
  const names: AclHeaderNames = { rows: configured?.rows ?? 'acl_rows', readColumns: configured?.readColumns ?? 'acl_read_columns' };
  for (const name of [names.rows, names.readColumns]) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new TributaryError('TRB_CONFIG', `read API: '${name}' is not an HTTP header name (aclHeaders)`);
  }
  if (names.rows.toLowerCase() === names.readColumns.toLowerCase()) throw new TributaryError('TRB_CONFIG', `read API: aclHeaders.rows and aclHeaders.readColumns are both '${names.rows}'`);
  return names;
}
