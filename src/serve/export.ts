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

export function exportStream(executor: ReadExecutor, request: ExportRequest): Readable {
  return Readable.from(exportChunks(executor, request), { objectMode: false });
}

async function* exportChunks(executor: ReadExecutor, request: ExportRequest): AsyncGenerator<string> {
  const { plan, format } = request;
  let remaining = plan.limit ?? Number.POSITIVE_INFINITY;
  let skip = plan.skip ?? 0;
  let last: Document | undefined;
  let first = true;
  if (format === 'json') yield '[';
  if (format === 'csv') yield `${request.columns.map((c) => csvCell(c, request.delimiter)).join(request.delimiter)}\r\n`;
  while (remaining > 0 && request.signal?.aborted !== true) {
    const filter = last === undefined ? plan.filter : { $and: [plan.filter, afterFilter(plan.sort, plan.sort.map(([f]) => valueAt(last as Document, f)))] };
    const batch = await executor.find(request.collection, { ...plan, filter, skip, limit: Math.min(request.batchSize, remaining) });
    skip = 0;
    if (batch.length === 0) break;
    last = batch[batch.length - 1];
    remaining -= batch.length;
    let chunk = '';
    for (const raw of batch) {
      const doc = request.shape(raw);
      if (format === 'ndjson') chunk += `${JSON.stringify(doc)}\n`;
      else if (format === 'json') chunk += `${first ? '' : ','}${JSON.stringify(doc)}`;
      else chunk += `${request.columns.map((c) => csvCell(valueAt(doc, c), request.delimiter)).join(request.delimiter)}\r\n`;
      first = false;
    }
    yield chunk;
    if (batch.length < request.batchSize) break;
  }
  if (format === 'json') yield ']';
}

/** RFC 4180 cell: objects as JSON, dates as ISO, quoted when needed. */
export function csvCell(value: unknown, delimiter: string): string {
  if (value === undefined || value === null) return '';
  const text = typeof value === 'string' ? value : value instanceof Date ? value.toISOString() : typeof value === 'object' && '_bsontype' in value ? String(value) : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return text.includes(delimiter) || /["\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
