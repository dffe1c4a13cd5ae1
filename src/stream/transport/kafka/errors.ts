import { isTributaryError, TributaryError } from '../../../errors.js';
import { PERMANENT_BROKER_ERRORS as PERMANENT } from '../broker-errors.js';


/**
 * kafkajs errors → TributaryError. kafkajs has already retried what it could when it throws, so a
 * failure is treated as transient (the lane backs off and tries again) unless the broker named a
 * permanent cause. The kafkajs type (e.g. MESSAGE_TOO_LARGE) is kept in the context.
 */
export function fromKafkaError(error: unknown, message: string, fallback: 'TRB_PRODUCE' | 'TRB_CONNECT' | 'TRB_COMMIT' = 'TRB_PRODUCE'): TributaryError {
  if (isAuthenticationError(error)) {
    return new TributaryError('TRB_AUTH', `${message}: ${(error as Error).message}`, { cause: error, context: { kafkaError: 'SASL_AUTHENTICATION_FAILED' } });
  }
  const type = findType(error);
  const permanent = type !== undefined && PERMANENT.has(type);
  const code = type === 'MESSAGE_TOO_LARGE' || type === 'RECORD_LIST_TOO_LARGE' ? 'TRB_TOO_LARGE' : fallback;
  return new TributaryError(code, `${message}: ${(error as Error).message}`, {
    cause: error,
    retriable: !permanent,
    context: type ? { kafkaError: type } : {},
  });
}

/**
 * The broker no longer agrees with this idempotent producer's sequence numbers (after a broker
 * restart, e.g. the producer state or the log tail was lost). kafkajs retries the same sequence
 * again and again, so every later send fails the same way; only a new producer (a new producer
 * id, sequences from 0) gets through (kafkajs#598). Seen in the fault suite's broker restart: the stream kept
 * retrying "The broker received an out of order sequence number" until the deadline.
 */
const PRODUCER_STATE_LOST = new Set(['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH', 'INVALID_PRODUCER_ID_MAPPING']);

export function producerStateLost(error: unknown): boolean {
  const type = findType(error);
  return type !== undefined && PRODUCER_STATE_LOST.has(type);
}

/**
 * For a transactional producer the same answers split in two. The broker lost its state
 * (UNKNOWN_PRODUCER_ID, OUT_OF_ORDER_SEQUENCE_NUMBER, INVALID_PRODUCER_ID_MAPPING, e.g. after a
 * restart): a new producer with the same transactional id re-initialises and goes on. Fenced
 * (PRODUCER_FENCED, INVALID_PRODUCER_EPOCH): a newer producer with the same id exists — another
 * worker owns the partition now — and re-initialising would fence that owner in turn, so this
 * producer stays as it is and keeps failing until its partition is revoked.
 */
const TRANSACTION_STATE_LOST = new Set(['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_ID_MAPPING']);
const FENCED = new Set(['PRODUCER_FENCED', 'INVALID_PRODUCER_EPOCH']);

export function transactionStateLost(error: unknown): boolean {
  const type = findType(error);
  return type !== undefined && TRANSACTION_STATE_LOST.has(type);
}

export function fencedProducer(error: unknown): boolean {
  const type = findType(error);
  return type !== undefined && FENCED.has(type);
}

/** `error`, then what it wraps (kafkajs' `originalError`, else `cause`), at most five deep. */
function* causeChain(error: unknown): Generator<object> {
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    yield e;
    e = (e as { originalError?: unknown }).originalError ?? (e as { cause?: unknown }).cause;
  }
}

function findType(error: unknown): string | undefined {
  for (const e of causeChain(error)) {
    const type = (e as { type?: unknown }).type;
    if (typeof type === 'string') return type;
  }
  return undefined;
}

/** kafkajs reports refused credentials as KafkaJSSASLAuthenticationError, or as the broker's SASL_AUTHENTICATION_FAILED. */
function isAuthenticationError(error: unknown): boolean {
  for (const e of causeChain(error)) {
    if ((e as { name?: unknown }).name === 'KafkaJSSASLAuthenticationError' || (e as { type?: unknown }).type === 'SASL_AUTHENTICATION_FAILED') return true;
  }
  return false;
}

/**
 * A crash kafkajs does not restart from that a new start of the member fixes once the broker is
 * back: a kafkajs error (KafkaJSGroupCoordinatorNotFound is non-retriable in kafkajs) whose cause
 * is not a permanent broker answer or refused credentials. A handler's own error (a TributaryError)
 * is never restarted here: kafkajs already restarted the retriable ones.
 */
export function restartableCrash(error: unknown): boolean {
  for (const e of causeChain(error)) if (isTributaryError(e)) return false;
  const name = (error as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' && name.startsWith('KafkaJS') && fromKafkaError(error, '').retriable && !isAuthenticationError(error);
}
