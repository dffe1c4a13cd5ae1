/**
 * The operations layer: the ops HTTP server (metrics, health, control routes), Prometheus metrics
 * and pino logs. It sits at the bottom of the dependency graph and imports nothing from the rest of
 * Tributary except errors. Published with the dashboard as `tributary/ops` (src/operations.ts).
 */
// What a dashboard or alert needs: every metric's name, type, help and labels (docs/operations.md).
export { METRIC_DEFINITIONS, METRIC_NAMES, SERVE_METRIC_DEFINITIONS } from './metric-names.js';
export type { MetricDefinition, MetricName, MetricType } from './metric-names.js';
export { DEFAULT_OPS_HOST, DEFAULT_OPS_PORT, startOpsServer } from './http-server.js';
export type { HealthReport, OpsRoute, OpsRouteRequest, OpsRouteResponse, OpsServer, OpsServerOptions, ScrapeSource } from './http-server.js';
export { createMetrics } from './metrics.js';
export type { Metrics, MetricsOptions } from './metrics.js';
export { createLogger } from './logger.js';
export type { Logger, LoggerOptions } from './logger.js';
