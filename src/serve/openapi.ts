/**
 * The read API's OpenAPI 3.1 document and its browsable UI: every route carries a Fastify schema
 * generated from the endpoint model (query parameters, ACL headers, path parameters, responses),
 * `@fastify/swagger` turns the registered routes into the document at `/documentation/json` (and
 * `/documentation/yaml`), and `@fastify/swagger-ui` serves Swagger UI at `/documentation` from
 * its bundled files (no CDN, no validator badge: it works offline).
 *
 * The schemas document; they do not validate. The read API's own parser (query/params.ts) stays
 * the one validator, because its refusals carry the stable codes and the offending path clients
 * rely on (TRB_QUERY_INVALID at `_q.$where`, TRB_COLUMN_HIDDEN, ...), and the response bodies stay
 * exactly what the handlers produce. So Fastify's validator and serializer compilers are replaced
 * by pass-throughs on this instance.
 */
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifySchema } from 'fastify';
import type { Endpoint, ServedField } from './model.js';
import { ROUTE_PARAMS, STATES, type RouteKind } from './query/params.js';
import { documentSchema, fieldSchema, type JsonSchema } from './schema.js';

export interface OpenApiOptions {
  readonly title: string;
  readonly version: string;
  readonly maxLimit: number;
  readonly defaultLimit: number;
  readonly maxTimeMS: number;
  /** Names of the ACL headers, documented on every read route. */
  readonly aclHeaders: { readonly rows: string; readonly readColumns: string };
}

/** Where the UI and the document are served. */
export const DOCUMENTATION_PREFIX = '/documentation';

const ERROR_SCHEMA_ID = 'ReadApiError';
const NOT_COLUMNS = new Set(['object', 'arrayOfObject', 'arrayOfString', 'arrayOfNumber']);

/** Registers the document and the UI; call before any route is added (the plugin records routes as they come). */
export async function registerOpenApi(app: FastifyInstance, endpoints: readonly Endpoint[], options: OpenApiOptions): Promise<void> {
  app.setValidatorCompiler(() => () => true);
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.addSchema({
    $id: ERROR_SCHEMA_ID,
    type: 'object',
    properties: {
      statusCode: { type: 'integer' },
      error: { type: 'string' },
      message: { type: 'string' },
      code: { type: 'string', description: 'Stable error code, e.g. TRB_QUERY_INVALID, TRB_COLUMN_HIDDEN, TRB_CURSOR_INVALID, TRB_QUERY_TIMEOUT' },
      path: { type: 'string', description: 'The offending parameter or filter path' },
      allowed: { type: 'array', items: { type: 'string' } },
    },
    required: ['statusCode', 'error', 'message'],
  });
  for (const endpoint of endpoints) {
    const { $schema: _draft, ...document } = documentSchema(endpoint);
    app.addSchema({ ...document, $id: endpoint.collection });
  }
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: options.title,
        version: options.version,
        description:
          'Read-only API over Tributary projections, single views and on-demand views (CRUD Service compatible query language). ' +
          `Each store query has a time budget of ${options.maxTimeMS} ms (503 TRB_QUERY_TIMEOUT past it). See docs/serve.md.`,
      },
      tags: [...endpoints.map((e) => ({ name: e.collection, description: `${e.kind} ${e.collection}` })), { name: 'helpers', description: 'Schemas, health, readiness, metrics' }],
    },
    // Component names are the collection names (`#/components/schemas/pr_customers`), not def-N.
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => (typeof json['$id'] === 'string' ? json['$id'] : `def-${i}`) },
  });
  await app.register(fastifySwaggerUi, { routePrefix: DOCUMENTATION_PREFIX, uiConfig: { deepLinking: true, validatorUrl: null } });
}

/** The route schema of one read route of `endpoint`. */
export function routeSchema(endpoint: Endpoint, route: RouteKind | 'schema', options: OpenApiOptions): FastifySchema {
  const name = endpoint.collection;
  const tags = [name];
  const ref = { $ref: `${name}#` };
  const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, { description: ERROR_DESCRIPTIONS[c], content: { 'application/json': { schema: { $ref: `${ERROR_SCHEMA_ID}#` } } } }]));
  const watermark = { 'x-tributary-watermark': { type: 'string', description: 'updatedAt of the newest document: how fresh the read model is (absent when an ACL header restricts the caller)' } };
  const headers = aclHeaders(options);
  switch (route) {
    case 'list':
      return {
        tags, operationId: `list_${name}`, summary: `List ${name}`,
        querystring: query(endpoint, options, ROUTE_PARAMS.list), headers,
        response: {
          200: {
            description: 'Documents (JSON array). With _s or _after, a full page carries X-Next-Cursor and Link rel="next"',
            headers: { ...watermark, 'x-next-cursor': { type: 'string', description: 'Signed keyset cursor for _after (same _s)' }, link: { type: 'string', description: '<…&_after=…>; rel="next"' } },
            content: { 'application/json': { schema: { type: 'array', items: ref } } },
          },
          ...errors(400, 503),
        },
      };
    case 'count':
      return {
        tags, operationId: `count_${name}`, summary: `Count ${name}`,
        querystring: query(endpoint, options, ROUTE_PARAMS.count), headers,
        response: { 200: { description: 'Count (a bare JSON number)', headers: watermark, content: { 'application/json': { schema: { type: 'integer' } } } }, ...errors(400, 503) },
      };
    case 'export':
      return {
        tags, operationId: `export_${name}`, summary: `Export ${name} (NDJSON by default; JSON or CSV by Accept)`,
        querystring: query(endpoint, options, ROUTE_PARAMS.export), headers,
        response: {
          200: {
            description: 'Streamed export',
            headers: watermark,
            content: { 'application/x-ndjson': { schema: ref }, 'application/json': { schema: { type: 'array', items: ref } }, 'text/csv': { schema: { type: 'string' } } },
          },
          ...errors(400, 406, 503),
        },
      };
    case 'get':
      return {
        tags, operationId: `get_${name}`, summary: `One ${name} by _id`,
        params: { type: 'object', properties: { id: { type: 'string', description: '_id: 24 hex digits are an ObjectId, anything else a string' } }, required: ['id'] },
        querystring: query(endpoint, options, ROUTE_PARAMS.get), headers,
        response: { 200: { description: 'The document', headers: watermark, content: { 'application/json': { schema: ref } } }, ...errors(400, 404, 503) },
      };
    case 'schema':
      return { tags, operationId: `schema_${name}`, summary: `JSON Schema of ${name}`, response: { 200: { description: 'JSON Schema (2020-12), with required', content: { 'application/json': { schema: { type: 'object' } } } } } };
  }
}

/** Schemas of the helper routes (`/-/…`); `readiness`: may answer 503. */
export function helperSchema(summary: string, options: { contentType?: string; readiness?: boolean } = {}): FastifySchema {
  const contentType = options.contentType ?? 'application/json';
  const ok = { description: 'OK', content: { [contentType]: { schema: contentType === 'application/json' ? {} : { type: 'string' } } } };
  const notReady = { description: 'Not ready: the store did not answer (the reason in checks.store.detail)', content: { 'application/json': { schema: { type: 'object' } } } };
  return { tags: ['helpers'], summary, response: options.readiness === true ? { 200: ok, 503: notReady } : { 200: ok } };
}

/** Hidden from the document: the 405 write routes. */
export const HIDDEN: FastifySchema = { hide: true } as FastifySchema;

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Refused request: TRB_QUERY_INVALID, TRB_QUERY_UNSUPPORTED, TRB_COLUMN_HIDDEN, TRB_CURSOR_INVALID, TRB_VIEW_*',
  404: 'TRB_NOT_FOUND',
  406: 'TRB_NOT_ACCEPTABLE: Accept names no export format',
  503: 'TRB_QUERY_TIMEOUT (the query ran past its time budget) or TRB_STORE_READ (the store failed)',
};

function aclHeaders(options: OpenApiOptions): JsonSchema {
  return {
    type: 'object',
    properties: {
      [options.aclHeaders.rows]: { type: 'string', description: 'ACL (set by the gateway): a JSON filter, or an array of filters, ANDed into the query; same operators as _q; may name any declared field' },
      [options.aclHeaders.readColumns]: {
        type: 'string',
        description: 'ACL (set by the gateway): the fields the caller may read, comma-separated or a JSON array. Intersected with _p; naming any other field in _q, a field filter, _s or _st (other than PUBLIC) is a 400 TRB_COLUMN_HIDDEN',
      },
      'json-query-params-encoding': { type: 'string', enum: ['base64'], description: '_q is base64' },
    },
  };
}

function query(endpoint: Endpoint, options: OpenApiOptions, names: readonly string[]): JsonSchema {
  const all = parameters(endpoint, options);
  const properties: Record<string, JsonSchema> = Object.fromEntries(names.map((n) => [n, all[n] as JsonSchema]));
  for (const [name, f] of Object.entries(endpoint.fields)) {
    if (name.startsWith('__') || f.type === 'object' || f.type === 'arrayOfObject') continue;
    properties[name] = { ...fieldSchema({ ...f, nullable: false } satisfies ServedField), description: `Equality filter on ${name} (cast by its type; repeated → $all)` };
  }
  return { type: 'object', properties, additionalProperties: !endpoint.strict };
}

function parameters(endpoint: Endpoint, options: OpenApiOptions): Record<string, JsonSchema> {
  const sortable = Object.entries(endpoint.fields).filter(([, f]) => !NOT_COLUMNS.has(f.type)).map(([n]) => n);
  const escaped = sortable.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
  const states = STATES.join('|');
  return {
    _q: { type: 'string', description: 'MongoDB filter as JSON (or base64 with header json-query-params-encoding: base64); allowed operators only, declared fields only' },
    _p: { type: 'string', description: 'Comma-separated fields to return (_id always comes back)' },
    _s: { type: 'string', description: 'Sort: field or -field, comma-separated; _id is appended as tiebreak', pattern: `^(-|\\+)?(${escaped})(,(-|\\+)?(${escaped}))*$` },
    _l: { type: 'integer', description: `Page size (default ${options.defaultLimit}, at most ${options.maxLimit})`, minimum: 1, maximum: options.maxLimit, default: options.defaultLimit },
    _sk: { type: 'integer', description: 'Documents to skip (cannot be combined with _after)', minimum: 0 },
    _st: { type: 'string', description: 'Comma-separated __STATE__ values', pattern: `^(${states})(,(${states}))*$`, default: 'PUBLIC' },
    _after: { type: 'string', description: 'Keyset cursor from X-Next-Cursor of the previous page (signed; send the same _s); empty starts a walk' },
    _useEstimate: { type: 'boolean', description: 'Estimated count of every document, ignoring filters (refused with acl_rows)' },
    _exportOpts: { type: 'string', description: 'CSV options as JSON, e.g. {"delimiter":";"}' },
  };
}
