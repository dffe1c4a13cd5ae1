/**
 * The CRUD Service query parameters → one validated read plan. Pure: no I/O, so every rule is
 * unit-tested without a store.
 *
 *   ?_q={"total":{"$gt":10}}&_p=name,total&_s=-total&_l=10&_st=PUBLIC,DRAFT&tier=gold
 *     --> filter { __STATE__: {$in: [PUBLIC, DRAFT]}, tier: 'gold', $and: [{ total: {$gt: 10} }] },
 *         projection { name: 1, total: 1 }, sort [[total, -1], [_id, 1]], limit 10
 */
import { TributaryError } from '../../errors.js';
import { fieldOf, type Endpoint } from '../model.js';
import { castTextValue, queryError } from './cast.js';
import { hiddenColumn, readableColumns, type ReadableColumns } from './columns.js';
import { afterFilter, cursorCodec, type CursorCodec, type SortSpec } from './cursor.js';
import { DEFAULT_QUERY_LIMITS, parseAclRows, parseQ, type QueryLimits } from './filter-q.js';

export type QueryString = Readonly<Record<string, string | string[] | undefined>>;

export const STATES = ['PUBLIC', 'DRAFT', 'TRASH', 'DELETED'] as const;

export type RouteKind = 'list' | 'get' | 'count' | 'export';

/** Parameters each route accepts (besides field filters); the OpenAPI document lists the same. */
export const ROUTE_PARAMS: Record<RouteKind, readonly string[]> = {
  list: ['_q', '_p', '_s', '_l', '_sk', '_st', '_after'],
  get: ['_q', '_p', '_st'],
  count: ['_q', '_st', '_useEstimate'],
  export: ['_q', '_p', '_s', '_l', '_sk', '_st', '_exportOpts'],
};

export interface ParamOptions {
  /** Default page size (default 25). */
  readonly defaultLimit: number;
  /** Largest `_l` (default 200); above → 400, as CRUD Service's code does. */
  readonly maxLimit: number;
  readonly limits: QueryLimits;
  /** Checks `_after` (default: a codec with a random key of this process). */
  readonly cursors?: CursorCodec;
}

export const DEFAULT_PARAM_OPTIONS: ParamOptions = { defaultLimit: 25, maxLimit: 200, limits: DEFAULT_QUERY_LIMITS };

let processCursors: CursorCodec | undefined;

export interface ReadPlan {
  readonly filter: Record<string, unknown>;
  readonly projection?: Readonly<Record<string, 0 | 1>>;
  /** Fields the client asked for with `_p` (the projection may add sort keys to build cursors). */
  readonly fields?: readonly string[];
  /** Empty: natural order (no `_s`, no `_after`, as CRUD Service). */
  readonly sort: SortSpec;
  readonly limit?: number;
  readonly skip?: number;
  /** Keyset paging is on: the response carries the next cursor. */
  readonly keyset: boolean;
  readonly useEstimate: boolean;
  readonly csvDelimiter: string;
  /**
   * Whether the response may carry `X-Tributary-Watermark`, the newest `updatedAt` of the whole
   * collection: not when `acl_rows` narrows the rows (it would date documents the caller cannot
   * see) nor when `updatedAt` is a hidden column.
   */
  readonly watermark: boolean;
}

function single(qs: QueryString, name: string): string | undefined {
  const value = qs[name];
  if (Array.isArray(value)) {
    if (name === '_s' || name === '_p') return value.join(',');
    throw queryError(`querystring/${name} must be given once`, name);
  }
  return value;
}

function integer(text: string | undefined, name: string, min: number, max?: number): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw queryError(`querystring/${name} must be an integer >= ${min}`, name);
  const n = Number(text);
  if (n < min) throw queryError(`querystring/${name} must be >= ${min}`, name);
  if (max !== undefined && n > max) throw queryError(`querystring/${name} must be <= ${max}`, name);
  return n;
}

/** What the request's headers contribute: `_q` encoding and the CRUD Service ACL headers (trusted as set by the gateway). */
export interface ReadHeaders {
  readonly base64?: boolean;
  /** `acl_rows`: a filter or array of filters ANDed into the query. */
  readonly aclRows?: string;
  /** `acl_read_columns`: the fields the caller may read, comma-separated (or a JSON array); intersected with `_p`. */
  readonly aclReadColumns?: string;
  /** The configured names of those two headers, for error messages (default `acl_rows`, `acl_read_columns`). */
  readonly aclNames?: { readonly rows: string; readonly readColumns: string };
}

export function parseParams(endpoint: Endpoint, route: RouteKind, qs: QueryString, headers: ReadHeaders, options: ParamOptions = DEFAULT_PARAM_OPTIONS): ReadPlan {
  const allowed = ROUTE_PARAMS[route];
  const terms: Record<string, unknown>[] = [];
  const columns = readableColumns(endpoint, headers.aclReadColumns, headers.aclNames?.readColumns ?? 'acl_read_columns');
  const readable = (path: string, at: string) => {
    if (columns && !columns.permits(path)) throw hiddenColumn(path, at, columns);
  };

  const states = (single(qs, '_st') ?? 'PUBLIC').split(',').map((s) => s.trim());
  for (const s of states) if (!STATES.includes(s as (typeof STATES)[number])) throw queryError(`querystring/_st must list states among ${STATES.join(',')}`, '_st', STATES);
  const unique = [...new Set(states)];
  // `_st` filters `__STATE__`: beyond the default (PUBLIC, which every caller may assume) it reads that column.
  if (unique.length !== 1 || unique[0] !== 'PUBLIC') readable('__STATE__', '_st');
  // One state → equality, so MongoDB uses the state index (CRUD Service issue #58).
  terms.push({ __STATE__: unique.length === 1 ? unique[0] : { $in: unique } });

  for (const [key, raw] of Object.entries(qs)) {
    if (raw === undefined) continue;
    if (allowed.includes(key)) continue;
    if (key === '_rawp') throw queryError('_rawp (raw projection) is not supported by this read API; use _p', key);
    const target = key.startsWith('_') && key !== '_id' ? null : fieldOf(endpoint, key);
    if (target === null) {
      throw queryError(`querystring must NOT have additional properties: '${key}'`, key, [...allowed, ...Object.keys(endpoint.fields).filter((f) => !f.startsWith('__'))]);
    }
    readable(key, key);
    const values = Array.isArray(raw) ? raw : [raw];
    const cast = values.map((v) => castTextValue(v, target.nested ? undefined : target.field, key));
    terms.push({ [key]: cast.length === 1 ? cast[0] : { $all: cast } });
  }

  const q = single(qs, '_q');
  if (q !== undefined && q !== '') terms.push(parseQ(q, endpoint, { base64: headers.base64 === true, limits: options.limits, ...(columns ? { columns } : {}) }));

  // acl_rows is the gateway's own row filter: it may name columns the caller cannot read (a tenant id).
  const aclRows = headers.aclRows !== undefined && headers.aclRows !== '';
  if (aclRows) terms.push(...parseAclRows(headers.aclRows as string, endpoint, { limits: options.limits, name: headers.aclNames?.rows ?? 'acl_rows' }));

  const fields = projected(parseFieldList(endpoint, single(qs, '_p'), '_p'), columns);
  const sortText = single(qs, '_s');
  const after = single(qs, '_after');
  const skip = integer(single(qs, '_sk'), '_sk', 0);
  const keyset = after !== undefined || (sortText !== undefined && route === 'list');
  let sort: SortSpec = [];
  if (sortText !== undefined || after !== undefined || route === 'export') {
    sort = parseSort(endpoint, sortText ?? '');
    for (const [f] of sort) readable(f, '_s');
    // `_id` is unique and immutable: appended, it makes every order total, so cursors never tie.
    if (!sort.some(([f]) => f === '_id')) sort = [...sort, ['_id', 1]];
  }
  if (after !== undefined) {
    if (skip !== undefined) throw queryError('_after and _sk cannot be combined (a cursor already says where to start)', '_after');
    if (after !== '') terms.push(afterFilter(sort, (options.cursors ?? (processCursors ??= cursorCodec())).decode(endpoint.collection, after, sort)));
  }

  const limitMax = route === 'export' ? undefined : options.maxLimit;
  const limit = route === 'get' ? 1 : integer(single(qs, '_l'), '_l', 1, limitMax) ?? (route === 'export' ? undefined : options.defaultLimit);

  let projection: Record<string, 0 | 1> | undefined;
  if (fields) {
    // `_id` comes back unless excluded (CRUD Service); cursors and export batches also need the sort keys.
    const sortKeys = keyset || route === 'export' ? sort.map(([f]) => f) : [];
    projection = Object.fromEntries([...fields, ...sortKeys].map((f) => [f, 1 as const]));
  }
  // Without `_p` there is no projection: the pipeline's bookkeeping fields are dropped in process
  // (collection-routes.ts): an exclusion projection costs the server more than dropping a few fields
  // costs Node (measured on FerretDB 1.24, bench/serve.ts; not re-measured on DocumentDB).

  let exportDelimiter = ',';
  const exportOpts = single(qs, '_exportOpts');
  if (exportOpts !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(exportOpts);
    } catch {
      throw queryError('_exportOpts must be JSON, e.g. {"delimiter":";"}', '_exportOpts');
    }
    const delimiter = typeof parsed === 'object' && parsed !== null && 'delimiter' in parsed ? parsed.delimiter : undefined;
    if (typeof delimiter !== 'string' || delimiter.length !== 1 || /["\r\n]/.test(delimiter)) throw queryError('_exportOpts.delimiter must be one character', '_exportOpts.delimiter');
    exportDelimiter = delimiter;
  }

  const useEstimate = single(qs, '_useEstimate');
  if (useEstimate !== undefined && useEstimate !== 'true' && useEstimate !== 'false') throw queryError('querystring/_useEstimate must be boolean', '_useEstimate');
  if (useEstimate === 'true' && aclRows) {
    throw new TributaryError('TRB_QUERY_UNSUPPORTED', `_useEstimate counts every document, so it cannot honour ${headers.aclNames?.rows ?? 'acl_rows'}; count without it`, { context: { path: '_useEstimate' } });
  }

  return {
    filter: combine(terms),
    ...(projection ? { projection } : {}),
    ...(fields ? { fields } : {}),
    sort,
    ...(limit === undefined ? {} : { limit }),
    ...(skip === undefined ? {} : { skip }),
    keyset,
    useEstimate: useEstimate === 'true',
    csvDelimiter: exportDelimiter,
    watermark: !aclRows && (columns === undefined || columns.permits('updatedAt')),
  };
}

/**
 * `_p` limited to the readable columns, as CRUD Service does: without `_p`, the readable columns;
 * with both, their intersection (a field is allowed when it or a parent path is listed). With no
 * readable field left, only `_id` comes back.
 */
function projected(fields: string[] | undefined, columns: ReadableColumns | undefined): string[] | undefined {
  if (columns === undefined) return fields;
  const result = fields === undefined ? [...columns.listed] : fields.filter((f) => columns.permits(f));
  return result.length > 0 ? result : ['_id'];
}

function parseFieldList(endpoint: Endpoint, text: string | undefined, name: string): string[] | undefined {
  if (text === undefined || text === '') return undefined;
  const out = text.split(',').map((f) => f.trim()).filter(Boolean);
  for (const f of out) {
    if (fieldOf(endpoint, f) === null) throw queryError(`unknown field '${f}' in ${name}`, name, Object.keys(endpoint.fields));
  }
  return [...new Set(out)];
}

function parseSort(endpoint: Endpoint, text: string): SortSpec {
  const out: Array<readonly [string, 1 | -1]> = [];
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const field = part.startsWith('-') ? part.slice(1) : part.startsWith('+') ? part.slice(1) : part;
    const target = fieldOf(endpoint, field);
    if (target === null) throw queryError(`unknown field '${field}' in _s`, '_s', Object.keys(endpoint.fields));
    const type = target.field?.type;
    if (!target.nested && (type === 'object' || type === 'arrayOfObject' || type === 'arrayOfString' || type === 'arrayOfNumber')) {
      throw queryError(`_s cannot sort on the ${type} field '${field}'`, '_s');
    }
    if (out.some(([f]) => f === field)) throw queryError(`_s names '${field}' twice`, '_s');
    out.push([field, part.startsWith('-') ? -1 : 1]);
  }
  return out;
}

/** ANDs the terms: top-level keys merge when they do not collide (a flat filter is the simplest plan for the server), the rest go to `$and`. */
function combine(terms: readonly Record<string, unknown>[]): Record<string, unknown> {
  const flat: Record<string, unknown> = {};
  const rest: Record<string, unknown>[] = [];
  for (const term of terms) {
    const keys = Object.keys(term);
    if (keys.some((k) => k in flat || k.startsWith('$'))) rest.push(term);
    else Object.assign(flat, term);
  }
  return rest.length === 0 ? flat : { ...flat, $and: rest };
}
