/**
 * `tributary/ops`: what an operator embeds to watch a running topology — the ops HTTP server
 * (metrics, health, control routes), Prometheus metrics, pino logs, and the live dashboard.
 * The layer itself sits at the bottom of the dependency graph: it imports nothing from the rest of
 * Tributary except errors (the dashboard, which draws topologies, is the exception being moved out).
 */
export { startOpsServer } from './http-server.js';
export type { HealthReport, OpsRoute, OpsRouteRequest, OpsRouteResponse, OpsServer, OpsServerOptions } from './http-server.js';
export { createMetrics } from './metrics.js';
export type { Metrics, MetricsOptions } from './metrics.js';
export { createLogger } from './logger.js';
export type { Logger, LoggerOptions } from './logger.js';
export { createDashboard } from './dashboard/index.js';
export type { Dashboard, DashboardOptions, DashboardSnapshot } from './dashboard/index.js';
