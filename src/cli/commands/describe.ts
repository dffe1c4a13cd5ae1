import { TributaryError } from '../../errors.js';
import { graphDot, topologyGraph } from '../../dashboard/index.js';
import { loadTopology } from '../load-topology.js';

export const describeHelp = `Usage: tributary describe <topology-file> [--format text|mermaid|json]

Prints the topology: its sub-topologies (one consumer group each), sources with their serdes,
operators, sinks and dead-letter topics.

Options:
  --format text|mermaid|json|dot   output format (default text); dot is Graphviz (dot -Tsvg)`;

export async function describeCommand(file: string | undefined, format = 'text'): Promise<string> {
  if (!file) throw new TributaryError('TRB_CONFIG', `missing <topology-file>\n\n${describeHelp}`);
  const formats = ['text', 'mermaid', 'json', 'dot'];
  if (!formats.includes(format)) throw new TributaryError('TRB_CONFIG', `invalid --format=${JSON.stringify(format)}: expected ${formats.join(', ')}`);
  const description = (await loadTopology(file)).describe();
  if (format === 'mermaid') return description.toMermaid();
  if (format === 'json') return JSON.stringify(description.toJSON(), null, 2);
  if (format === 'dot') return graphDot(topologyGraph(description.toJSON()));
  return description.toText();
}
