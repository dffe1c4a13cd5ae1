/**
 * `GET /<ep>/export`: the whole matching collection, streamed. CRUD Service reads through one
 * driver cursor; the store interface here returns arrays, so the export walks the collection in
 * keyset batches (sort + `_id`, the same cursor `_after` uses). Memory stays bounded by one batch,
 * and a document that exists for the whole export is written exactly once even under CDC updates.
 */
import { Readable } from 'node:stream';
import type { Document } from '../store/types.js';
import { afterFilter, valueAt, type SortSpec } from './query/cursor.js';
import type { FindPlan, ReadExecutor } from './executor.js';

export type ExportFormat = 'ndjson' | 'json' | 'csv';

export const EXPORT_CONTENT_TYPES: Record<ExportFormat, string> = {
  ndjson: 'application/x-ndjson',
  json: 'application/json',
  csv: 'text/csv; charset=utf-8',
};

/** The format an Accept header asks for; undefined when it names none we produce (→ 406). */
export function exportFormat(accept: string | undefined): ExportFormat | undefined {
  if (accept === undefined || accept.trim() === '') return 'ndjson';
  const types = accept.split(',').map((t) => (t.split(';')[0] ?? '').trim().toLowerCase());
  for (const t of types) {
    if (t === 'application/x-ndjson' || t === 'application/ndjson' || t === '*/*' || t === 'application/*') return 'ndjson';
    if (t === 'application/json') return 'json';
    if (t === 'text/csv' || t === 'text/*') return 'csv';
  }
  return undefined;
}

export interface ExportRequest {
  readonly collection: string;
  readonly plan: FindPlan & { readonly sort: SortSpec };
  readonly format: ExportFormat;
  readonly columns: readonly string[];
  readonly delimiter: string;
  readonly batchSize: number;
  /** Post-processing of each document (e.g. dropping sort keys the client did not ask for). */
  readonly shape: (document: Document) => Document;
  readonly signal?: AbortSignal;
}

/**
 * The export body. The first batch is read before this resolves, so a query the store refuses or
 * times out (TRB_QUERY_TIMEOUT) is an error status, not a 200 whose body stops short; a failure of
 * a later batch can only end the body early (as in CRUD Service).
 */
export async function exportStream(executor: ReadExecutor, request: ExportRequest): Promise<Readable> {
  const limit = request.plan.limit ?? Number.POSITIVE_INFINITY;
  const first = await executor.find(request.collection, { ...request.plan, limit: Math.min(request.batchSize, limit) });
  return Readable.from(exportChunks(executor, request, first), { objectMode: false });
}

async function* exportChunks(executor: ReadExecutor, request: ExportRequest, first: Document[]): AsyncGenerator<string> {
  const { plan, format } = request;
  let remaining = plan.limit ?? Number.POSITIVE_INFINITY;
  let batch = first;
  let opened = false;
  if (format === 'json') yield '[';
  if (format === 'csv') yield `${request.columns.map((c) => csvCell(c, request.delimiter)).join(request.delimiter)}\r\n`;
  while (batch.length > 0 && request.signal?.aborted !== true) {
    remaining -= batch.length;
    let chunk = '';
    for (const raw of batch) {
      const doc = request.shape(raw);
      if (format === 'ndjson') chunk += `${JSON.stringify(doc)}\n`;
      else if (format === 'json') chunk += `${opened ? ',' : ''}${JSON.stringify(doc)}`;
      else chunk += `${request.columns.map((c) => csvCell(valueAt(doc, c), request.delimiter)).join(request.delimiter)}\r\n`;
      opened = true;
    }
    yield chunk;
    if (batch.length < request.batchSize || remaining <= 0) break;
    // The next batch starts strictly after the last document in the sort order (keyset, as _after).
    const last = batch[batch.length - 1] as Document;
    const filter = { $and: [plan.filter, afterFilter(plan.sort, plan.sort.map(([f]) => valueAt(last, f)))] };
    batch = await executor.find(request.collection, { ...plan, filter, skip: 0, limit: Math.min(request.batchSize, remaining) });
  }
  if (format === 'json') yield ']';
}

/** RFC 4180 cell: objects as JSON, dates as ISO, quoted when needed. */
export function csvCell(value: unknown, delimiter: string): string {
  if (value === undefined || value === null) return '';
  const text = typeof value === 'string' ? value : value instanceof Date ? value.toISOString() : typeof value === 'object' && '_bsontype' in value ? String(value) : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return text.includes(delimiter) || /["\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
