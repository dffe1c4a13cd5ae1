/**
 * The topology graph as a standalone SVG (the page's "export SVG", and `/dashboard/graph.svg`),
 * with the latest rates and states when a snapshot is given. The page draws the same layout.
 *
 *   graphSvg(topologyGraph(describe().toJSON()), snapshot)  --> '<svg …><rect …/><path …/>…</svg>'
 */
import { NODE_HEIGHT, NODE_WIDTH, type GraphNode, type TopologyGraph } from './graph.js';
import type { DashboardSnapshot } from './sampler.js';

export const STATE_COLOURS: Record<string, string> = { running: '#59a14f', paused: '#edc948', rebalancing: '#76b7b2', failing: '#e15759', stopped: '#9c9c9c' };
const FILL: Record<GraphNode['kind'], string> = { topic: '#eef3fb', stream: '#ffffff', collection: '#f3eefb', dlq: '#fbeeee' };
const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function graphSvg(graph: TopologyGraph, snapshot?: DashboardSnapshot): string {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const parts: string[] = [];
  for (const e of graph.edges) {
    const a = byId.get(e.from);
    const b = byId.get(e.to);
    if (!a || !b) continue;
    const [x1, y1, x2, y2] = [a.x + NODE_WIDTH, a.y + NODE_HEIGHT / 2, b.x, b.y + NODE_HEIGHT / 2];
    const mid = (x1 + x2) / 2;
    const rate = snapshot?.edges[e.id];
    parts.push(`<path data-edge="${escape(e.id)}" d="M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}" fill="none" stroke="${e.kind === 'dead-letter' ? '#e15759' : '#888'}" ${e.kind === 'dead-letter' ? 'stroke-dasharray="4 3"' : ''} marker-end="url(#arrow)"/>`);
    // Always drawn: the live page updates the text of `data-rate-for` on every tick.
    parts.push(`<text data-rate-for="${escape(e.id)}" x="${mid}" y="${(y1 + y2) / 2 - 4}" font-size="11" text-anchor="middle" fill="#444">${rate ?? 0}/s</text>`);
  }
  for (const n of graph.nodes) {
    const stream = n.kind === 'stream' ? snapshot?.streams.find((s) => s.name === n.name) : undefined;
    const border = stream ? (STATE_COLOURS[stream.state] ?? '#888') : '#888';
    const label = n.name.length > 28 ? `…${n.name.slice(-27)}` : n.name;
    const sub = n.kind === 'stream' ? (stream?.state ?? 'stream') : n.kind;
    parts.push(
      `<g data-node="${escape(n.id)}" data-kind="${n.kind}" style="cursor:pointer"><title>${escape(n.name)}</title><rect data-border-for="${escape(n.id)}" x="${n.x}" y="${n.y}" width="${NODE_WIDTH}" height="${NODE_HEIGHT}" rx="${n.kind === 'collection' ? 14 : 4}" fill="${FILL[n.kind]}" stroke="${border}" stroke-width="${n.kind === 'stream' ? 2.5 : 1}"/>`,
      `<text x="${n.x + 8}" y="${n.y + 18}" font-size="12">${escape(label)}</text>`,
      `<text data-sub-for="${escape(n.id)}" x="${n.x + 8}" y="${n.y + 34}" font-size="10" fill="#666">${escape(sub)}</text></g>`,
    );
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${graph.width}" height="${graph.height}" viewBox="0 0 ${graph.width} ${graph.height}" font-family="sans-serif">
<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#888"/></marker></defs>
<rect width="100%" height="100%" fill="white"/>
${parts.join('\n')}
</svg>
`;
}
