/**
 * Tributary's public API. Everything a user needs is exported from here (and the test driver from
 * `tributary/testing`); anything not exported is internal and may change.
 */
export { ERROR_CODES, TributaryError, isTributaryError, toTributaryError } from './errors.js';
export type { ErrorCode, TributaryErrorOptions } from './errors.js';
