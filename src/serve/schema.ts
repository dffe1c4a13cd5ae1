/**
 * JSON Schemas (draft 2020-12) of served documents and the OpenAPI 3.1 document, both generated
 * from the endpoint model, so the documentation cannot drift from what the routes accept.
 */
import type { Endpoint, ServedField } from './model.js';
import { STATES } from './query/params.js';

export type JsonSchema = Record<string, unknown>;

function fieldSchema(field: ServedField): JsonSchema {
  const base: JsonSchema = (() => {
    switch (field.type) {
      case 'string':
        return { type: 'string' };
      case 'number':
        return { type: 'number' };
      case 'integer':
        return { type: 'integer' };
      case 'boolean':
        return { type: 'boolean' };
      case 'date':
      case 'isoTimestamp':
        return { type: 'string', format: 'date-time' };
      case 'objectId':
        return { type: 'string', pattern: '^[0-9a-fA-F]{24}$' };
      case 'object':
        return { type: 'object', additionalProperties: true };
      case 'arrayOfObject':
        return { type: 'array', items: { type: 'object', additionalProperties: true } };
      case 'arrayOfString':
        return { type: 'array', items: { type: 'string' } };
      case 'arrayOfNumber':
        return { type: 'array', items: { type: 'number' } };
      case 'any':
        return {};
    }
  })();
  if (field.nullable && typeof base['type'] === 'string') return { ...base, type: [base['type'], 'null'] };
  return base;
}

/** The document schema `/<ep>/schema` returns (with `required`, as CRUD Service since its issue #326). */
export function documentSchema(endpoint: Endpoint): JsonSchema {
  const properties = Object.fromEntries(Object.entries(endpoint.fields).map(([name, f]) => [name, fieldSchema(f)]));
  const required = Object.entries(endpoint.fields).filter(([, f]) => f.required).map(([name]) => name);
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: endpoint.collection,
    type: 'object',
    properties,
    required,
    additionalProperties: !endpoint.strict,
  };
}

interface Parameter {
  readonly name: string;
  readonly description: string;
  readonly schema: JsonSchema;
}

function listParameters(endpoint: Endpoint, maxLimit: number, defaultLimit: number): Record<string, Parameter> {
  const sortable = Object.entries(endpoint.fields).filter(([, f]) => !['object', 'arrayOfObject', 'arrayOfString', 'arrayOfNumber'].includes(f.type)).map(([n]) => n);
  const escaped = sortable.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
  return {
    _q: { name: '_q', description: 'MongoDB filter as JSON (or base64 with header json-query-params-encoding: base64); allowed operators only', schema: { type: 'string' } },
    _p: { name: '_p', description: 'Comma-separated fields to return', schema: { type: 'string' } },
    _s: { name: '_s', description: 'Sort: field or -field, comma-separated; _id is appended as tiebreak', schema: { type: 'string', pattern: `^(-|\\+)?(${escaped})(,(-|\\+)?(${escaped}))*$` } },
    _l: { name: '_l', description: `Page size (default ${defaultLimit})`, schema: { type: 'integer', minimum: 1, maximum: maxLimit, default: defaultLimit } },
    _sk: { name: '_sk', description: 'Documents to skip (cannot be combined with _after)', schema: { type: 'integer', minimum: 0 } },
    _st: { name: '_st', description: 'Comma-separated __STATE__ values', schema: { type: 'string', pattern: `^(${STATES.join('|')})(,(${STATES.join('|')}))*$`, default: 'PUBLIC' } },
    _after: { name: '_after', description: 'Keyset cursor from X-Next-Cursor of the previous page', schema: { type: 'string' } },
    _useEstimate: { name: '_useEstimate', description: 'Estimated count, ignoring every filter', schema: { type: 'boolean' } },
    _exportOpts: { name: '_exportOpts', description: 'CSV options as JSON, e.g. {"delimiter":";"}', schema: { type: 'string' } },
  };
}

function fieldParameters(endpoint: Endpoint): Parameter[] {
  return Object.entries(endpoint.fields)
    .filter(([n, f]) => !n.startsWith('__') && f.type !== 'object' && f.type !== 'arrayOfObject')
    .map(([name, f]) => ({ name, description: `Equality filter on ${name}`, schema: fieldSchema({ ...f, nullable: false }) }));
}

const errorResponse = { description: 'Error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };

export interface OpenApiOptions {
  readonly title: string;
  readonly version: string;
  readonly maxLimit: number;
  readonly defaultLimit: number;
  /** Names of the ACL headers, documented on every read route. */
  readonly aclHeaders?: { readonly rows: string; readonly readColumns: string };
}

export function openApiDocument(endpoints: readonly Endpoint[], options: OpenApiOptions): JsonSchema {
  const paths: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {
    Error: {
      type: 'object',
      properties: { statusCode: { type: 'integer' }, error: { type: 'string' }, message: { type: 'string' }, code: { type: 'string' }, path: { type: 'string' }, allowed: { type: 'array', items: { type: 'string' } } },
      required: ['statusCode', 'error', 'message'],
    },
  };
  const query = (p: Parameter) => ({ in: 'query', name: p.name, description: p.description, required: false, schema: p.schema });
  for (const e of endpoints) {
    const name = e.collection;
    const { $schema: _ignored, ...doc } = documentSchema(e);
    schemas[name] = doc;
    const ref = { $ref: `#/components/schemas/${name}` };
    const params = listParameters(e, options.maxLimit, options.defaultLimit);
    const fields = fieldParameters(e).map(query);
    const acl = options.aclHeaders
      ? [
          { in: 'header', name: options.aclHeaders.rows, required: false, description: 'ACL: a JSON filter (or array of filters) ANDed into the query; same operators as _q', schema: { type: 'string' } },
          { in: 'header', name: options.aclHeaders.readColumns, required: false, description: 'ACL: fields the caller may read (comma-separated or a JSON array), intersected with _p', schema: { type: 'string' } },
        ]
      : [];
    const pick = (...names: string[]) => [...names.map((n) => query(params[n] as Parameter)), ...fields, ...acl];
    const headers = { 'X-Tributary-Watermark': { description: 'updatedAt of the newest document: how fresh the read model is', schema: { type: 'string' } } };
    paths[`${e.path}/`] = {
      get: {
        tags: [name], operationId: `list_${name}`, summary: `List ${name}`,
        parameters: pick('_q', '_p', '_s', '_l', '_sk', '_st', '_after'),
        responses: {
          200: { description: 'Documents (streamed JSON array)', headers: { ...headers, 'X-Next-Cursor': { description: 'Cursor for _after (keyset paging)', schema: { type: 'string' } } }, content: { 'application/json': { schema: { type: 'array', items: ref } } } },
          400: errorResponse,
        },
      },
    };
    paths[`${e.path}/count`] = {
      get: { tags: [name], operationId: `count_${name}`, summary: `Count ${name}`, parameters: pick('_q', '_st', '_useEstimate'), responses: { 200: { description: 'Count', headers, content: { 'application/json': { schema: { type: 'integer' } } } }, 400: errorResponse } },
    };
    paths[`${e.path}/export`] = {
      get: {
        tags: [name], operationId: `export_${name}`, summary: `Export ${name} (NDJSON, JSON or CSV by Accept)`,
        parameters: pick('_q', '_p', '_s', '_l', '_sk', '_st', '_exportOpts'),
        responses: {
          200: { description: 'Streamed export', headers, content: { 'application/x-ndjson': { schema: ref }, 'application/json': { schema: { type: 'array', items: ref } }, 'text/csv': { schema: { type: 'string' } } } },
          400: errorResponse, 406: errorResponse,
        },
      },
    };
    paths[`${e.path}/schema`] = {
      get: { tags: [name], operationId: `schema_${name}`, summary: `JSON Schema of ${name}`, responses: { 200: { description: 'JSON Schema', content: { 'application/json': { schema: { type: 'object' } } } } } },
    };
    paths[`${e.path}/{id}`] = {
      get: {
        tags: [name], operationId: `get_${name}`, summary: `One ${name} by _id`,
        parameters: [{ in: 'path', name: 'id', required: true, schema: { type: 'string' } }, ...pick('_q', '_p', '_st')],
        responses: { 200: { description: 'The document', headers, content: { 'application/json': { schema: ref } } }, 400: errorResponse, 404: errorResponse },
      },
    };
  }
  const helper = (summary: string) => ({ get: { tags: ['helpers'], summary, responses: { 200: { description: 'OK' }, 503: { description: 'Not ready' } } } });
  paths['/-/schemas'] = helper('JSON Schemas of every served collection ([{name, schema}]; NDJSON by Accept)');
  paths['/-/healthz'] = helper('Liveness');
  paths['/-/ready'] = helper('Readiness: the store answers');
  paths['/-/metrics'] = helper('Prometheus metrics');
  return {
    openapi: '3.1.0',
    info: { title: options.title, version: options.version, description: 'Read-only API over Tributary projections and single views (CRUD Service compatible query language).' },
    paths,
    components: { schemas },
  };
}
