/**
 * JSON Schemas (draft 2020-12) of served documents, generated from the endpoint model (the
 * `/schema` routes, and the components of the OpenAPI document: openapi.ts).
 */
import type { Endpoint, ServedField } from './model.js';

export type JsonSchema = Record<string, unknown>;

export function fieldSchema(field: ServedField): JsonSchema {
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
