/**
 * `tributary/serve`: the read API an operator embeds — a read-only HTTP API (CRUD Service
 * compatible) over a topology's projections and single views, and on-demand views joined at query
 * time (docs/serve.md). Query parsing, planning and the OpenAPI document are internal.
 */
export { createReadApi } from './read-api.js';
export type { ReadApi, ReadApiOptions } from './read-api.js';
export type { ReadDeclarations } from './model.js';
export type { QueryLimits } from './query/filter-q.js';
export { createServeMetrics } from './metrics.js';
export type { ServeMetrics } from './metrics.js';
export { view } from './views/view.js';
export type { View, ViewOptions, ViewRow } from './views/view.js';
export type { ViewMode } from './views/modes.js';
