/**
 * `tributary`: authoring. Everything a topology file needs — topologies, operators, serdes, and the
 * Fast Data declarations (projections, single views, CDC adapters, casts, the config importer).
 * Running them in your own process: `tributary/runtime`; what an operator embeds: `tributary/ops`
 * (ops server, metrics, logs, dashboard) and `tributary/serve` (the read API); tests:
 * `tributary/testing`. Anything not exported by one of these entries is internal and may change;
 * test/unit/package-surface.test.ts pins the list.
 */
export { ERROR_CODES, TributaryError, isTributaryError } from './errors.js';
export type { ErrorCode, TributaryErrorOptions } from './errors.js';
export * from './stream/index.js';
export * from './fastdata/index.js';
