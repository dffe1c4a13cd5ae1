/**
 * The read routes of one served collection (CRUD Service's per-collection plugin):
 * `GET /<ep>/`, `/<ep>/count`, `/<ep>/export`, `/<ep>/schema`, `/<ep>/:id`; every write method
 * answers 405 TRB_READ_ONLY, because these collections belong to the pipeline.
 */
import { ObjectId } from 'mongodb';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TributaryError } from '../errors.js';
import type { Document } from '../store/types.js';
import type { ReadExecutor } from './executor.js';
import { EXPORT_CONTENT_TYPES, exportFormat, exportStream } from './export.js';
import { INTERNAL_FIELDS, type Endpoint } from './model.js';
import { HIDDEN, routeSchema, type OpenApiOptions } from './openapi.js';
import type { CursorCodec } from './query/cursor.js';
import { parseParams, type ParamOptions, type QueryString, type ReadPlan, type RouteKind } from './query/params.js';
import { documentSchema } from './schema.js';
import type { Watermarks } from './watermark.js';

/** Names of the CRUD Service ACL headers (set by the gateway, trusted as given). */
export interface AclHeaderNames {
  readonly rows: string;
  readonly readColumns: string;
}

export interface RouteContext {
  readonly aclHeaders: AclHeaderNames;
  readonly executor: ReadExecutor;
  readonly params: ParamOptions & { readonly cursors: CursorCodec };
  readonly watermarks: Watermarks;
  readonly exportBatchSize: number;
  readonly openapi: OpenApiOptions;
}

/** Route config read by the metrics hook (bounded label values: collection names and route kinds). */
export interface RouteLabels {
  readonly collection: string;
  readonly route: string;
}

declare module 'fastify' {
  // The route config the read API sets (Fastify's way to type `config`).
  interface FastifyContextConfig {
    readonly collection?: string;
    readonly route?: string;
  }
}

const WRITE_METHODS = ['POST', 'PUT', 'PATCH', 'DELETE'] as const;

export function registerCollectionRoutes(app: FastifyInstance, endpoint: Endpoint, ctx: RouteContext): void {
  const ep = endpoint.path;
  const labels = (route: RouteKind | 'schema'): { config: RouteLabels; schema: ReturnType<typeof routeSchema> } => ({
    config: { collection: endpoint.collection, route },
    schema: routeSchema(endpoint, route, ctx.openapi),
  });
  const writes = { config: { collection: endpoint.collection, route: 'write' } satisfies RouteLabels, schema: HIDDEN };
  const plan = async (request: FastifyRequest, route: RouteKind): Promise<ReadPlan> => {
    const qs = request.query as QueryString;
    const header = (name: string) => {
      const value = request.headers[name.toLowerCase()];
      return Array.isArray(value) ? value.join(',') : value;
    };
    const aclRows = header(ctx.aclHeaders.rows);
    const aclReadColumns = header(ctx.aclHeaders.readColumns);
    return parseParams(
      endpoint,
      route,
      qs,
      { base64: request.headers['json-query-params-encoding'] === 'base64', aclNames: ctx.aclHeaders, ...(aclRows !== undefined ? { aclRows } : {}), ...(aclReadColumns !== undefined ? { aclReadColumns } : {}) },
      ctx.params,
    );
  };
  const watermark = async (reply: FastifyReply, p: ReadPlan) => {
    if (!p.watermark) return;
    const value = await ctx.watermarks.get(endpoint.collection);
    if (value !== undefined) reply.header('x-tributary-watermark', value);
  };

  app.get(`${ep}/`, labels('list'), async (request, reply) => {
    const p = await plan(request, 'list');
    const [docs] = await Promise.all([ctx.executor.find(endpoint.collection, p), watermark(reply, p)]);
    if (p.keyset && p.limit !== undefined && docs.length === p.limit) {
      const cursor = ctx.params.cursors.encode(endpoint.collection, p.sort, docs[docs.length - 1] as Document);
      reply.header('x-next-cursor', cursor);
      reply.header('link', `<${nextUrl(request.url, cursor)}>; rel="next"`);
    }
    reply.type('application/json');
    return JSON.stringify(docs.map(shaper(p)));
  });

  app.get(`${ep}/count`, labels('count'), async (request, reply) => {
    const p = await plan(request, 'count');
    // _useEstimate ignores every filter, __STATE__ included, as in CRUD Service.
    const [n] = await Promise.all([ctx.executor.count(endpoint.collection, p.useEstimate ? {} : p.filter), watermark(reply, p)]);
    reply.type('application/json');
    return JSON.stringify(n);
  });

  app.get(`${ep}/export`, labels('export'), async (request, reply) => {
    const format = exportFormat(request.headers.accept);
    if (format === undefined) throw new TributaryError('TRB_NOT_ACCEPTABLE', `export produces ${Object.values(EXPORT_CONTENT_TYPES).join(', ')}`, { context: { accept: request.headers.accept } });
    const p = await plan(request, 'export');
    await watermark(reply, p);
    const columns = p.fields ?? Object.keys(endpoint.fields).filter((f) => !f.startsWith('__internal__'));
    const abort = new AbortController();
    request.raw.once('close', () => abort.abort());
    const body = await exportStream(ctx.executor, { collection: endpoint.collection, plan: p, format, columns, delimiter: p.csvDelimiter, batchSize: ctx.exportBatchSize, shape: shaper(p), signal: abort.signal });
    reply.type(EXPORT_CONTENT_TYPES[format]);
    return reply.send(body);
  });

  app.get(`${ep}/schema`, labels('schema'), async () => documentSchema(endpoint));

  app.get<{ Params: { id: string } }>(`${ep}/:id`, labels('get'), async (request, reply) => {
    const p = await plan(request, 'get');
    const id = request.params.id;
    const idValue = /^[0-9a-fA-F]{24}$/.test(id) ? new ObjectId(id) : id;
    const filter = '_id' in p.filter ? { ...p.filter, $and: [...((p.filter['$and'] as unknown[]) ?? []), { _id: idValue }] } : { ...p.filter, _id: idValue };
    const [docs] = await Promise.all([ctx.executor.find(endpoint.collection, { ...p, filter, limit: 1 }), watermark(reply, p)]);
    const doc = docs[0];
    if (!doc) throw new TributaryError('TRB_NOT_FOUND', 'not found', { context: { collection: endpoint.collection, id } });
    reply.type('application/json');
    return JSON.stringify(shaper(p)(doc));
  });

  const readOnly = async (request: FastifyRequest) => {
    throw new TributaryError('TRB_READ_ONLY', `${endpoint.collection} is written by the pipeline; the read API does not accept ${request.method}`, {
      context: { collection: endpoint.collection },
    });
  };
  app.route({ method: [...WRITE_METHODS], url: `${ep}/`, ...writes, handler: readOnly });
  app.route({ method: [...WRITE_METHODS], url: `${ep}/*`, ...writes, handler: readOnly });
}

/**
 * Without `_p`: drops the pipeline's bookkeeping (CRUD Service strips undeclared properties too).
 * With `_p`: drops the sort keys a cursor needed but the client did not ask for.
 */
function shaper(p: ReadPlan): (doc: Document) => Document {
  if (!p.fields) {
    return (doc) => {
      // Documents come fresh from the store for this request: deleting in place is safe and cheap.
      for (const f of INTERNAL_FIELDS) delete doc[f];
      return doc;
    };
  }
  const keep = new Set(['_id', ...p.fields.map((f) => f.split('.')[0] as string)]);
  return (doc) => Object.fromEntries(Object.entries(doc).filter(([k]) => keep.has(k)));
}

function nextUrl(url: string, cursor: string): string {
  const [path, query = ''] = url.split('?', 2) as [string, string?];
  const params = new URLSearchParams(query);
  params.set('_after', cursor);
  params.delete('_sk');
  return `${path}?${params.toString()}`;
}
