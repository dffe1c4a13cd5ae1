/**
 * Tributary's public API. Everything a user needs is exported from here (and the test driver from
 * `tributary/testing`); anything not exported is internal and may change.
 */
export { ERROR_CODES, TributaryError, isTributaryError, toTributaryError } from './errors.js';
export type { ErrorCode, TributaryErrorOptions } from './errors.js';
export * from './stream/index.js';
export * from './store/index.js';
export { createLogger, createMetrics, Metrics, startOpsServer } from './ops/index.js';
export { createDashboard, graphSvg, topologyGraph } from './dashboard/index.js';
export type { Dashboard, DashboardOptions, DashboardSnapshot, TopologyGraph } from './dashboard/index.js';
export type { HealthReport, Logger, OpsServer, OpsServerOptions } from './ops/index.js';
export * from './fastdata/index.js';
export { importFastDataConfig, loadFastDataProject } from './fastdata/config-import/index.js';
export type { CustomMappingFunction, IdentifierFunction, ImportedFastData, ImportedSingleViewConfig, ImportedViewOptions, ImportFastDataConfigOptions, LoadFastDataProjectOptions, ProjectionImportOptions } from './fastdata/config-import/index.js';
export * from './serve/index.js';
