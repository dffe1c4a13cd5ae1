/**
 * One error type for the whole framework. Every failure carries a stable `code` from the closed
 * list below (safe to alert on and to match in error handlers), a `retriable` flag that the retrier
 * reads (call sites never decide), the original `cause`, and a small context object.
 */
export const ERROR_CODES = {
  /** A record's bytes could not be decoded (bad JSON, wrong magic byte, bad Avro). */
  TRB_DECODE: { retriable: false, summary: 'record could not be decoded' },
  /** A schema could not be found, registered or is incompatible (unknown schema id included). */
  TRB_SCHEMA: { retriable: false, summary: 'schema missing, unknown or incompatible' },
  /** A value could not be encoded for a sink. */
  TRB_ENCODE: { retriable: false, summary: 'value could not be encoded' },
  /** A record lacks its primary key. */
  TRB_MISSING_KEY: { retriable: false, summary: 'primary key missing' },
  /** A CDC record's row lacks a field its projection declares `required` (or has it null when not nullable). */
  TRB_MISSING_FIELD: { retriable: false, summary: 'required field missing' },
  /** A CDC record has an operation the adapter does not know. */
  TRB_UNKNOWN_OPERATION: { retriable: false, summary: 'unknown CDC operation' },
  /** A user operator threw while processing a record. */
  TRB_PROCESS: { retriable: false, summary: 'processing failed' },
  /** The document store refused or failed a write. */
  TRB_STORE_WRITE: { retriable: true, summary: 'store write failed' },
  /** The document store failed a read. */
  TRB_STORE_READ: { retriable: true, summary: 'store read failed' },
  /** The broker refused or failed to acknowledge produced records. */
  TRB_PRODUCE: { retriable: true, summary: 'produce failed' },
  /** Committing consumer offsets failed. */
  TRB_COMMIT: { retriable: true, summary: 'offset commit failed' },
  /** A service could not be reached. */
  TRB_CONNECT: { retriable: true, summary: 'service unreachable' },
  /** A record is larger than the broker accepts. */
  TRB_TOO_LARGE: { retriable: false, summary: 'record over the size limit' },
  /** A configuration value is invalid. */
  TRB_CONFIG: { retriable: false, summary: 'invalid configuration' },
  /** A topology is declared wrongly (no sink, duplicate names, ...). */
  TRB_TOPOLOGY: { retriable: false, summary: 'invalid topology' },
  /** The retry budget of a transient failure ran out. */
  TRB_RETRIES_EXHAUSTED: { retriable: false, summary: 'retries exhausted' },
  /** An operation was cancelled by shutdown or revocation. */
  TRB_ABORTED: { retriable: false, summary: 'aborted' },
  /** A read request's query is invalid: unknown field or operator, too deep, too large, bad value (HTTP 400). */
  TRB_QUERY_INVALID: { retriable: false, summary: 'invalid read query' },
  /** A read request uses a feature the store or the endpoint cannot answer (HTTP 400). */
  TRB_QUERY_UNSUPPORTED: { retriable: false, summary: 'query feature not supported here' },
  /** A write was sent to the read API: its collections belong to the pipeline (HTTP 405). */
  TRB_READ_ONLY: { retriable: false, summary: 'read-only endpoint' },
  /** The requested document or route does not exist (HTTP 404). */
  TRB_NOT_FOUND: { retriable: false, summary: 'not found' },
  /** An on-demand view's filter on joined fields matches too many related documents to semi-join (HTTP 400). */
  TRB_VIEW_FILTER_TOO_BROAD: { retriable: false, summary: 'view filter on joined fields too broad' },
  /** An on-demand view cannot sort on joined fields (HTTP 400). */
  TRB_VIEW_SORT_UNSUPPORTED: { retriable: false, summary: 'view cannot sort on joined fields' },
  /** A read request names a column the caller's `acl_read_columns` header hides, in a filter, sort or state selector (HTTP 400). */
  TRB_COLUMN_HIDDEN: { retriable: false, summary: 'request names a hidden column' },
  /** A paging cursor (`_after`) was not issued by this read API for this collection and sort, or was altered (HTTP 400). */
  TRB_CURSOR_INVALID: { retriable: false, summary: 'invalid or foreign cursor' },
  /** A read query ran past its time budget (`maxTimeMS`) in the store (HTTP 503); the same query will likely time out again. */
  TRB_QUERY_TIMEOUT: { retriable: false, summary: 'read query exceeded its time budget' },
  /** No representation matches the request's Accept header (HTTP 406). */
  TRB_NOT_ACCEPTABLE: { retriable: false, summary: 'unsupported Accept' },
  /** Another definition of a single view is live, or one is being switched in: this writer waits (blue/green refresh). */
  TRB_FENCED: { retriable: true, summary: 'single-view definition not live' },
  /** A service refused our credentials (Kafka SASL, registry basic auth): retrying the same ones will not help. */
  TRB_AUTH: { retriable: false, summary: 'authentication failed' },
} as const satisfies Record<string, { retriable: boolean; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface TributaryErrorOptions {
  cause?: unknown;
  /** Overrides the code's default, e.g. a store write refused by validation is not retriable. */
  retriable?: boolean;
  context?: Readonly<Record<string, unknown>>;
}

/**
 * Marks a TributaryError whichever copy of the package created it: a topology that resolves a second
 * copy (a global CLI, a linked checkout) throws that copy's class, which `instanceof` would not know.
 */
const ERROR_BRAND = Symbol.for('tributary.error');

export class TributaryError extends Error {
  override readonly name = 'TributaryError';
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly context: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, options: TributaryErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retriable = options.retriable ?? ERROR_CODES[code].retriable;
    this.context = options.context ?? {};
  }

  get [ERROR_BRAND](): true {
    return true;
  }

  toJSON(): { code: ErrorCode; message: string; retriable: boolean; context: Readonly<Record<string, unknown>> } {
    return { code: this.code, message: this.message, retriable: this.retriable, context: this.context };
  }
}

/**
 * Whether a record's failure is not the record's fault, so it must never be dead-lettered: a
 * transient fault (retriable: the batch is tried again) or a setup error (TRB_CONFIG, e.g. Avro with
 * no registry; TRB_TOPOLOGY, e.g. an operator writing where it did not declare: the partition stops).
 */
export function failsTheBatch(error: unknown): error is TributaryError {
  return isTributaryError(error) && (error.retriable || error.code === 'TRB_CONFIG' || error.code === 'TRB_TOPOLOGY');
}

/** A TributaryError from any copy of the package (a brand check, not `instanceof`). */
export function isTributaryError(error: unknown): error is TributaryError {
  return typeof error === 'object' && error !== null && (error as { [ERROR_BRAND]?: unknown })[ERROR_BRAND] === true;
}

/**
 * Wraps anything thrown into a TributaryError. An existing TributaryError passes through
 * unchanged, so the innermost, most precise code wins.
 */
export function toTributaryError(error: unknown, code: ErrorCode, message?: string, context?: Record<string, unknown>): TributaryError {
  if (isTributaryError(error)) return error;
  const text = message ?? (error instanceof Error ? error.message : String(error));
  return new TributaryError(code, text, { cause: error, ...(context ? { context } : {}) });
}
