/**
 * The stream's policies, in one place: what happens to a record that fails (the error policy and
 * its decisions) and to a batch that meets a transient fault (the retry policy). Every layer that
 * names a decision — the runtime, its metrics, the dashboard, the CLI — imports it from here.
 *
 *   failure {stream, code, error, origin}  --policy-->  'fail' | 'dead-letter' | 'skip'
 */
import type { ErrorCode } from '../errors.js';
import type { RecordOrigin } from './record.js';

/** What the error policy may decide for one failed record. */
export const ERROR_DECISIONS = ['fail', 'dead-letter', 'skip'] as const;
export type ErrorDecision = (typeof ERROR_DECISIONS)[number];

export interface RecordFailure {
  readonly stream: string;
  readonly code: ErrorCode;
  readonly error: Error;
  readonly origin: RecordOrigin;
}

/** A fixed decision, or a handler that returns one (it must not throw: a throwing handler counts as 'fail'). */
export type ErrorPolicy = ErrorDecision | ((failure: RecordFailure) => ErrorDecision);

export interface RetryOptions {
  /** First backoff in ms (default 100). */
  readonly initialMs?: number;
  /** Backoff cap in ms (default 30 000). */
  readonly maxMs?: number;
  /** Attempts before a transient fault becomes fatal (default: unlimited). */
  readonly maxAttempts?: number;
}

/** The decision of `policy` for one failure. */
export function decide(policy: ErrorPolicy, failure: RecordFailure): ErrorDecision {
  if (typeof policy !== 'function') return policy;
  try {
    return policy(failure);
  } catch {
    return 'fail'; // a handler that throws has not decided; failing is the only safe answer
  }
}
