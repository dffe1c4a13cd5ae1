/**
 * Operations layer: metrics, the ops HTTP server and logging. The bottom of the dependency graph;
 * it imports nothing from the rest of Tributary except errors, so every other layer may use it.
 */
export * from './metric-names.js';
export { Metrics, createMetrics } from './metrics.js';
export type { CounterName, HistogramName, MetricLabels, MetricSample, MetricsOptions, MetricsSink, MetricsSource } from './metrics.js';
export { DEFAULT_OPS_HOST, DEFAULT_OPS_PORT, startOpsServer } from './http-server.js';
export type { HealthReport, OpsRoute, OpsRouteRequest, OpsRouteResponse, OpsServer, OpsServerOptions } from './http-server.js';
export { DEFAULT_REDACT_PATHS, createLogger, kafkajsLogCreator, kafkajsLogLevel } from './logger.js';
export type { Logger, LoggerOptions } from './logger.js';
