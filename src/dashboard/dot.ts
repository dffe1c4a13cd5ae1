/**
 * The topology graph in Graphviz DOT (`tributary describe --format dot`, `/dashboard/graph.dot`),
 * from the same graph the dashboard draws.
 *
 *   graphDot(topologyGraph(describe().toJSON()))  --> 'digraph "customer-360" { rankdir=LR; "topic:…" [shape=cds …]; … }'
 */
import type { TopologyGraph } from './graph.js';

const SHAPES = { topic: 'cds', stream: 'box', collection: 'cylinder', dlq: 'cds' } as const;
const quote = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

export function graphDot(graph: TopologyGraph): string {
  const lines = [`digraph ${quote(graph.name)} {`, '  rankdir=LR;', '  node [fontname="sans-serif", fontsize=11];'];
  for (const n of graph.nodes) {
    const style = n.kind === 'dlq' ? ', color="#e15759"' : n.kind === 'stream' ? ', style=bold' : '';
    lines.push(`  ${quote(n.id)} [label=${quote(n.name)}, shape=${SHAPES[n.kind]}${style}];`);
  }
  for (const e of graph.edges) lines.push(`  ${quote(e.from)} -> ${quote(e.to)}${e.kind === 'dead-letter' ? ' [style=dashed, color="#e15759", label="errors"]' : ''};`);
  lines.push('}');
  return lines.join('\n');
}
