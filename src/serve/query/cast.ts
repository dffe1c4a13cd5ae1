/**
 * Casting request values to the stored type of the field they filter, as CRUD Service's
 * QueryParser does: over HTTP a date arrives as a string, yet `{updatedAt: {$gte: '2024-…'}}` must
 * compare as a date, and `?total=12` must compare as a number.
 */
import { ObjectId } from 'mongodb';
import { TributaryError } from '../../errors.js';
import type { ServedField } from '../model.js';

export function queryError(message: string, path: string, allowed?: readonly string[]): TributaryError {
  return new TributaryError('TRB_QUERY_INVALID', message, { context: { path, ...(allowed ? { allowed: [...allowed] } : {}) } });
}

/** A `_q` value (already JSON) → the stored representation. `field` undefined → uncast. */
export function castJsonValue(value: unknown, field: ServedField | undefined, path: string): unknown {
  if (value === null || field === undefined) return value;
  switch (field.type) {
    case 'date':
      return toDate(value, path);
    case 'objectId':
      return typeof value === 'string' && /^[0-9a-fA-F]{24}$/.test(value) ? new ObjectId(value) : value;
    case 'number':
    case 'integer':
      if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
      return value;
    default:
      return value;
  }
}

/** A query-string field filter (`?total=12`) → the stored representation; refuses what cannot be that type. */
export function castTextValue(text: string, field: ServedField | undefined, path: string): unknown {
  if (field === undefined) return text;
  if (text === 'null' && field.nullable) return null;
  switch (field.type) {
    case 'number':
    case 'integer':
    case 'arrayOfNumber': {
      const n = Number(text);
      if (text.trim() === '' || !Number.isFinite(n) || (field.type === 'integer' && !Number.isInteger(n))) {
        throw queryError(`querystring/${path} must be ${field.type === 'integer' ? 'an integer' : 'a number'}`, path);
      }
      return n;
    }
    case 'boolean':
      if (text === 'true') return true;
      if (text === 'false') return false;
      throw queryError(`querystring/${path} must be boolean`, path);
    case 'date':
      return toDate(/^-?\d+$/.test(text) ? Number(text) : text, path);
    case 'objectId':
      return /^[0-9a-fA-F]{24}$/.test(text) ? new ObjectId(text) : text;
    case 'object':
    case 'arrayOfObject':
      throw queryError(`querystring/${path} is an object field: filter it with _q`, path);
    default:
      return text;
  }
}

function toDate(value: unknown, path: string): Date {
  if (value instanceof Date) return value;
  if (typeof value === 'number' || typeof value === 'string') {
    const date = new Date(value);
    if (!Number.isNaN(date.getTime())) return date;
  }
  throw queryError(`${path} must be a date (ISO 8601 string or epoch milliseconds)`, path);
}
