/**
 * `tributary/ops`: what an operator embeds to watch a running topology — the ops HTTP server
 * (metrics, health, control routes), Prometheus metrics, pino logs, and the live dashboard (which
 * draws topologies, so it sits above the ops layer and is published beside it here).
 */
export * from './ops/index.js';
export { createDashboard } from './dashboard/index.js';
export type { Dashboard, DashboardOptions, DashboardSnapshot } from './dashboard/index.js';
