export { createDashboard } from './routes.js';
export type { Dashboard, DashboardOptions, DashboardTopology } from './routes.js';
export { topologyGraph } from './graph.js';
export type { EdgeKind, GraphEdge, GraphNode, NodeKind, TopologyGraph } from './graph.js';
export type { CollectionSnapshot, DashboardEngine, DashboardSnapshot, LagRow, NodeState, StreamSnapshot } from './sampler.js';
export { graphSvg } from './svg.js';
export { graphDot } from './dot.js';
