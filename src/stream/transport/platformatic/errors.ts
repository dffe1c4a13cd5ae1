/**
 * @platformatic/kafka errors → TributaryError, with the same rule as the kafkajs transport: the
 * library has retried what it could, so a failure is transient unless the broker named a permanent
 * cause. Broker error names (`apiId`, e.g. MESSAGE_TOO_LARGE) are found through MultipleErrors'
 * `errors` and `cause` chains and kept in the context as `kafkaError`.
 */
import { TributaryError } from '../../../errors.js';
import { PERMANENT_BROKER_ERRORS as PERMANENT } from '../broker-errors.js';


/**
 * The broker's error name somewhere in a (possibly aggregated) library error. A retried operation
 * aggregates one error per attempt: the last attempt's is the one that counts, so it is looked at first.
 */
export function protocolErrorOf(error: unknown, depth = 0): string | undefined {
  if (!error || typeof error !== 'object' || depth > 6) return undefined;
  const apiId = (error as { apiId?: unknown }).apiId;
  if (typeof apiId === 'string') return apiId;
  for (const inner of (error as { errors?: unknown }).errors instanceof Array ? [...(error as { errors: unknown[] }).errors].reverse() : []) {
    const found = protocolErrorOf(inner, depth + 1);
    if (found) return found;
  }
  return protocolErrorOf((error as { cause?: unknown }).cause, depth + 1);
}

function isAuthentication(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== 'object' || depth > 6) return false;
  const { code, name } = error as { code?: unknown; name?: unknown };
  if (code === 'PLT_KFK_AUTHENTICATION' || name === 'AuthenticationError') return true;
  if (protocolErrorOf(error) === 'SASL_AUTHENTICATION_FAILED') return true;
  for (const inner of (error as { errors?: unknown }).errors instanceof Array ? ((error as { errors: unknown[] }).errors) : []) if (isAuthentication(inner, depth + 1)) return true;
  return isAuthentication((error as { cause?: unknown }).cause, depth + 1);
}

export function fromPlatformaticError(error: unknown, message: string, fallback: 'TRB_PRODUCE' | 'TRB_CONNECT' | 'TRB_COMMIT' = 'TRB_PRODUCE'): TributaryError {
  const text = `${message}: ${(error as Error)?.message ?? String(error)}`;
  if (isAuthentication(error)) return new TributaryError('TRB_AUTH', text, { cause: error, context: { kafkaError: 'SASL_AUTHENTICATION_FAILED' } });
  const type = protocolErrorOf(error);
  const code = type === 'MESSAGE_TOO_LARGE' || type === 'RECORD_LIST_TOO_LARGE' ? 'TRB_TOO_LARGE' : fallback;
  return new TributaryError(code, text, { cause: error, retriable: !(type && PERMANENT.has(type)), context: type ? { kafkaError: type } : {} });
}

/** The broker lost this idempotent producer's state: only a new producer gets through (as the kafkajs transport). */
const PRODUCER_STATE_LOST = new Set(['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH', 'INVALID_PRODUCER_ID_MAPPING']);
/** For a transactional producer: state lost (re-initialise) versus fenced by a newer owner of the id (never re-initialise: it would fence that owner). */
const TRANSACTION_STATE_LOST = new Set(['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_ID_MAPPING']);
const FENCED = new Set(['PRODUCER_FENCED', 'INVALID_PRODUCER_EPOCH']);

const isIn = (set: ReadonlySet<string>) => (error: unknown) => {
  const type = protocolErrorOf(error);
  return type !== undefined && set.has(type);
};
export const producerStateLost = isIn(PRODUCER_STATE_LOST);
export const transactionStateLost = isIn(TRANSACTION_STATE_LOST);
export const fencedProducer = isIn(FENCED);
