/**
 * Broker answers that no retry can fix (the record or the request itself is wrong), by Kafka's
 * error name: both transports judge a failure permanent only when the broker named one of these
 * (their libraries have retried what they could before they throw).
 */
export const PERMANENT_BROKER_ERRORS: ReadonlySet<string> = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'CORRUPT_MESSAGE',
  'INVALID_TOPIC_EXCEPTION',
  'TOPIC_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'UNSUPPORTED_VERSION',
  'INVALID_REQUIRED_ACKS',
]);
