/**
 * Headers on the per-record hot path. Most records carry none, and three empty objects per record
 * (consumed, re-emitted by a sink, handed to the client) were a measurable share of a
 * pass-through's garbage (bench/pass-through.ts): a record without headers shares one frozen empty
 * object, and a sink passes a record's headers on without copying when it adds none.
 *
 *   consumed record, no headers  ─►  NO_HEADERS (frozen: writing a header into it throws, it never leaks)
 *   consumed record with headers ─►  its own object, frozen too (every transport alike: a record's headers are read-only)
 *   {a: 'x', b: undefined}  --withoutUndefined-->  {a: 'x'}      {a: 'x'}  --withoutUndefined-->  (same object)
 */
import type { Headers } from './types.js';

/** The headers of every record that has none; frozen, so a write fails loudly instead of reaching every such record. */
export const NO_HEADERS: Headers = Object.freeze({});

/** `headers` without its undefined entries; the same object when it has none (the usual case: no copy). */
export function withoutUndefined(headers: Headers): Record<string, Buffer | string> {
  for (const name in headers) {
    if (Object.hasOwn(headers, name) && headers[name] === undefined) return copyDefined(headers);
  }
  return headers as Record<string, Buffer | string>;
}

function copyDefined(headers: Headers): Record<string, Buffer | string> {
  const out: Record<string, Buffer | string> = {};
  for (const name in headers) {
    if (!Object.hasOwn(headers, name)) continue;
    const value = headers[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** A log's own copy (the embedded broker's): defined entries only, frozen; none → NO_HEADERS. */
export function frozenCopy(headers: Headers | undefined): Headers {
  if (headers === undefined) return NO_HEADERS;
  const copy = copyDefined(headers);
  for (const _name in copy) return Object.freeze(copy);
  return NO_HEADERS;
}

/** `{ ...base, ...extra }` without a copy when there is nothing to add. */
export function mergedHeaders(base: Headers, extra: Headers | undefined): Headers {
  return extra === undefined ? base : Object.assign({}, base, extra);
}
