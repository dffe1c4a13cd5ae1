/**
 * The dashboard's picture of a topology: nodes (topics, streams, collections, dead-letter topics)
 * and edges, laid out left to right by longest path from the sources, drawn from `describe()` —
 * the same description `tributary describe` prints, so the page and the CLI cannot disagree.
 *
 *   describe().toJSON()  --topologyGraph-->  { nodes: [{ id: 'topic:crm.customers', kind: 'topic', x, y }, …], edges: [{ from, to, kind }] }
 */
import type { SubTopologyDescription } from '../stream/describe.js';

export type NodeKind = 'topic' | 'stream' | 'collection' | 'dlq';
export type EdgeKind = 'consume' | 'produce' | 'write' | 'dead-letter';

export interface GraphNode {
  readonly id: string;
  readonly kind: NodeKind;
  /** Topic, stream or collection name. */
  readonly name: string;
  /** For streams: the stage (`ingest`, `trigger`, `aggregate`) or '' for plain streams. */
  readonly stage: string;
  readonly x: number;
  readonly y: number;
}

export interface GraphEdge {
  readonly id: string;
  readonly from: string;
  readonly to: string;
  readonly kind: EdgeKind;
  /** The stream the edge belongs to (its rate comes from that stream's counters). */
  readonly stream: string;
  /** The topic or collection at the other end. */
  readonly target: string;
}

export interface TopologyGraph {
  readonly name: string;
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
  readonly width: number;
  readonly height: number;
}

export const NODE_WIDTH = 190;
export const NODE_HEIGHT = 44;
const COLUMN_GAP = 90;
const ROW_GAP = 22;

export function topologyGraph(description: { name: string; subTopologies: readonly SubTopologyDescription[] }): TopologyGraph {
  const nodes = new Map<string, { id: string; kind: NodeKind; name: string; stage: string }>();
  const edges: GraphEdge[] = [];
  const add = (kind: NodeKind, name: string, stage = '') => {
    const id = `${kind}:${name}`;
    if (!nodes.has(id)) nodes.set(id, { id, kind, name, stage });
    return id;
  };
  for (const s of description.subTopologies) {
    const stream = add('stream', s.name, s.stage);
    for (const src of s.sources) {
      const topic = add('topic', src.topic);
      edges.push({ id: `${topic}->${stream}`, from: topic, to: stream, kind: 'consume', stream: s.name, target: src.topic });
    }
    for (const sink of s.sinks) {
      const target = add(sink.kind === 'collection' ? 'collection' : 'topic', sink.name);
      edges.push({ id: `${stream}->${target}`, from: stream, to: target, kind: sink.kind === 'collection' ? 'write' : 'produce', stream: s.name, target: sink.name });
    }
    for (const dlq of s.deadLetterTopics) {
      const target = add('dlq', dlq);
      edges.push({ id: `${stream}->${target}`, from: stream, to: target, kind: 'dead-letter', stream: s.name, target: dlq });
    }
  }
  // Longest path from the sources gives each node its column; a cycle (a stream feeding its own
  // source) is cut by the iteration bound instead of looping.
  const column = new Map<string, number>([...nodes.keys()].map((id) => [id, 0]));
  for (let pass = 0; pass < nodes.size; pass++) {
    let changed = false;
    for (const e of edges) {
      const next = (column.get(e.from) ?? 0) + 1;
      if (next > (column.get(e.to) ?? 0) && next <= nodes.size) {
        column.set(e.to, next);
        changed = true;
      }
    }
    if (!changed) break;
  }
  const rows = new Map<number, number>();
  const placed: GraphNode[] = [...nodes.values()]
    .sort((a, b) => (column.get(a.id) ?? 0) - (column.get(b.id) ?? 0) || a.name.localeCompare(b.name))
    .map((n) => {
      const c = column.get(n.id) ?? 0;
      const r = rows.get(c) ?? 0;
      rows.set(c, r + 1);
      return { ...n, x: 20 + c * (NODE_WIDTH + COLUMN_GAP), y: 20 + r * (NODE_HEIGHT + ROW_GAP) };
    });
  const columns = Math.max(1, ...[...column.values()].map((c) => c + 1));
  const height = 40 + Math.max(1, ...rows.values()) * (NODE_HEIGHT + ROW_GAP);
  return { name: description.name, nodes: placed, edges, width: 40 + columns * (NODE_WIDTH + COLUMN_GAP), height };
}
