/**
 * The single-view error kinds of Fast Data's Single View Creator (§4.8), which Tributary writes
 * with the same names into `<view>-errors` so existing dashboards keep working, and whether each is
 * worth retrying through the sv-trigger topic:
 *
 *   UNKNOWN_ERROR                      map or validate threw / rejected          retried
 *   SINGLE_VIEW_AGGREGATION_MAX_TIME   map + validate outlived maxAggregationMs  retried
 *   NO_SV_GENERATED                    map produced no object                    not retried (dead-lettered at once)
 *   VALIDATION_ERROR                   validate returned false                   the view is deleted, nothing to retry
 *
 *   errorRecord('sv_customers', 'crm', {customer_id: 'c1'}, 'NO_SV_GENERATED', '…', now)
 *     --> replace of {errorId, portfolioOrigin, type, identifier, errorType, errorMessage, resolutionMethod: 'AGGREGATION', …}
 */
import { randomUUID } from 'node:crypto';
import type { WriteOperation } from '../../store/types.js';
import type { Row } from '../cdc/change-event.js';
import { STATE } from '../projection/metadata.js';

export type AggregationErrorType = 'UNKNOWN_ERROR' | 'SINGLE_VIEW_AGGREGATION_MAX_TIME' | 'NO_SV_GENERATED';

export const RETRYABLE: Readonly<Record<AggregationErrorType, boolean>> = {
  UNKNOWN_ERROR: true,
  SINGLE_VIEW_AGGREGATION_MAX_TIME: true,
  NO_SV_GENERATED: false,
};

/** An aggregation of one key that failed, with the Fast Data kind it is recorded as. */
export class AggregationError extends Error {
  constructor(
    readonly errorType: AggregationErrorType,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AggregationError';
  }
}

/** The error kind of anything `map` or `validate` threw (an AggregationError keeps its own). */
export function aggregationErrorOf(error: unknown): AggregationError {
  if (error instanceof AggregationError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new AggregationError('UNKNOWN_ERROR', message, { cause: error });
}

export function errorRecord(type: string, origin: string, identifier: Row, errorType: string, errorMessage: string, at: Date, resolutionMethod: 'AGGREGATION' | 'PATCH' = 'AGGREGATION'): WriteOperation {
  const id = randomUUID();
  return {
    kind: 'replace',
    filter: { errorId: id },
    document: {
      errorId: id,
      portfolioOrigin: origin,
      type,
      identifier,
      errorType,
      errorMessage,
      resolutionMethod,
      createdAt: at,
      updatedAt: at,
      creatorId: 'tributary',
      updaterId: 'tributary',
      [STATE]: 'PUBLIC',
    },
  };
}
