/**
 * How the mongo store judges a driver failure: retriable or not (the one place that decides it; the
 * retrier only reads the flag), and whether the client itself must be replaced.
 */
import {
  MongoBulkWriteError,
  MongoClientClosedError,
  MongoError,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoOperationTimeoutError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from 'mongodb';
import { TributaryError, type ErrorCode } from '../../errors.js';

/** A driver call that outlived `operationTimeoutMs`: its client is not trusted again. */
export class OperationDeadlineError extends Error {
  override readonly name = 'OperationDeadlineError';
}

/** Refusals of the request itself (bad values, keys with '$' or '.', oversized documents): a retry repeats them. */
const PERMANENT_CODES = new Set([
  2, // BadValue
  9, // FailedToParse
  13, // Unauthorized
  14, // TypeMismatch
  16, // InvalidLength
  18, // AuthenticationFailed
  20, // IllegalOperation
  22, // InvalidBSON
  28, // PathNotViable
  30, // InvalidPath
  40, // ConflictingUpdateOperators
  52, // DollarPrefixedFieldName
  53, // InvalidIdField
  55, // InvalidDBRef
  56, // EmptyFieldName
  57, // DottedFieldName
  66, // ImmutableField
  67, // CannotCreateIndex
  72, // InvalidOptions
  73, // InvalidNamespace
  79, // UnknownReplWriteConcern
  85, // IndexOptionsConflict
  86, // IndexKeySpecsConflict
  100, // UnsatisfiableWriteConcern
  115, // CommandNotSupported
  121, // DocumentValidationFailure
  238, // NotImplemented
  10334, // BSONObjectTooLarge
  17419, // document grew over the size limit
  17420, // document grew over the size limit (replace)
  31254, // projection mixes inclusion and exclusion
]);

/**
 * Node's socket and DNS failures. The driver wraps most of them in MongoNetworkError, but not all:
 * a reset while a pooled connection is being written to can surface as the socket's own
 * `write ECONNRESET` (seen under load on the DocumentDB gateway, when it dropped connections above
 * PostgreSQL's max_connections), and an unwrapped error was judged permanent and stopped the
 * partition. A reset connection says nothing about the request: retry it.
 */
const NETWORK_ERROR_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EAI_AGAIN', 'ENOTCONN']);

/** Whether `error`, or an error in its `cause` chain, is a socket or DNS failure. */
function isNetworkFailure(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_ERROR_CODES.has(code)) return true;
  }
  return false;
}

const RETRYABLE_LABELS = ['RetryableWriteError', 'TransientTransactionError', 'ResetPool', 'RetryableError', 'SystemOverloadedError'];

/** A unique index refused the write (`isDuplicateKey` in store/types.ts reads the mark). */
const DUPLICATE_KEY = 11000;

function serverCodes(error: MongoServerError): number[] {
  const codes = [error.code];
  if (error instanceof MongoBulkWriteError) codes.push(...[error.writeErrors].flat().map((writeError) => writeError.code));
  return codes.filter((code): code is number => typeof code === 'number');
}

/**
 * Whether retrying the same request can succeed; the one place the mongo store decides it (the
 * retrier only reads the flag). Retriable: network errors, server selection and operation timeouts,
 * "not primary"/shutdown/interrupted codes, server error labels that say so, and duplicate keys
 * (11000: two writers upserting the same new key race under a unique index; the loser's retry finds
 * the document and updates it). Permanent: PERMANENT_CODES, and errors raised in the client before
 * anything is sent (invalid arguments, closed client, BSON that cannot be serialised or is too
 * large). Any other server code is retriable, the default of TRB_STORE_WRITE/READ: a wrong
 * "retriable" costs a bounded retry budget, a wrong "permanent" loses a write. Socket failures the
 * driver did not wrap (`isNetworkFailure`) are retriable too.
 */
export function classifyMongoError(error: unknown): { retriable: boolean } {
  if (error instanceof OperationDeadlineError) return { retriable: true };
  if (error instanceof MongoNetworkError || error instanceof MongoServerSelectionError || error instanceof MongoOperationTimeoutError) return { retriable: true };
  if (isNetworkFailure(error)) return { retriable: true };
  if (error instanceof MongoError && error.name === 'MongoWaitQueueTimeoutError') return { retriable: true };
  if (error instanceof MongoError && RETRYABLE_LABELS.some((label) => error.hasErrorLabel(label))) return { retriable: true };
  if (error instanceof MongoServerError) return { retriable: !serverCodes(error).some((code) => PERMANENT_CODES.has(code)) };
  return { retriable: false };
}

export function storeError(code: ErrorCode, message: string, error: unknown, context: Record<string, unknown>): TributaryError {
  const detail = error instanceof Error ? error.message : String(error);
  const duplicateKey = error instanceof MongoServerError && serverCodes(error).includes(DUPLICATE_KEY);
  return new TributaryError(code, `${message}: ${detail}`, { cause: error, retriable: classifyMongoError(error).retriable, context: duplicateKey ? { ...context, duplicateKey } : context });
}

/**
 * Errors after which this client will not recover by itself, so the store replaces it:
 * - "Topology is closed" / "client was closed" / "Client must be connected": the driver closes a
 *   client whose first (implicit) connect failed, and every later call on it fails so; an operation
 *   still in flight on a client the store replaced (and closed) ends so too, or its next command
 *   (a bulk write of several commands) is refused so.
 * - server selection timed out (serverSelectionTimeoutMS, 30 s by default, of the monitor not
 *   reaching the server): normally the server is still down, and a fresh client costs one new
 *   monitor. But the driver's monitor (mongodb 7.9) can also wedge for good: when the server
 *   closes the monitor's socket just before a heartbeat is written, the write goes to an ended
 *   socket and waits for a 'drain' that never comes; the check never ends and the server stays
 *   Unknown although it is back. Seen in 2 of 5 runs of test/faults' database restart: no
 *   connection attempt for minutes (strace) while a new process connected at once; the inspector
 *   showed the monitor 'monitoring' since the restart, its socket destroyed with one 'drain'
 *   listener. A fresh client has a fresh monitor.
 * - a call past `operationTimeoutMs`: the same driver flaw could hold a pooled connection's command
 *   for good (its socket timeout does not fire on a destroyed socket); not seen, a guard.
 */
export function clientIsUnusable(error: unknown): boolean {
  return (
    error instanceof OperationDeadlineError ||
    error instanceof MongoTopologyClosedError ||
    error instanceof MongoClientClosedError ||
    error instanceof MongoNotConnectedError ||
    error instanceof MongoServerSelectionError
  );
}

export function isNamespaceNotFound(error: unknown): boolean {
  return error instanceof MongoServerError && (error.code === 26 || /ns not found/i.test(error.message));
}

export function withDeadline<T>(call: Promise<T>, ms: number): Promise<T> {
  if (ms <= 0) return call;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new OperationDeadlineError(`no answer from the driver in ${ms} ms (operationTimeoutMs)`)), ms);
    timer.unref();
  });
  // the abandoned call may still settle later: nobody waits for it, and its rejection is not unhandled
  call.catch(() => undefined);
  return Promise.race([call, expired]).finally(() => clearTimeout(timer));
}
