/** `tributary describe <topology-file>`: the topology as text, Mermaid, JSON or Graphviz DOT. */
import { graphDot, topologyGraph } from '../../dashboard/index.js';
import type { CommandSpec } from '../command.js';
import { describeConfig, DESCRIBE_FORMATS } from '../config.js';
import type { SettingSource } from '../config/source.js';
import { loadTopology } from '../load-topology.js';

export const describeSpec: CommandSpec = {
  name: 'describe',
  summary: 'print a topology as text, Mermaid, JSON or Graphviz DOT',
  positionals: ['<topology-file>'],
  description: `Prints the topology: its sub-topologies (one consumer group each), sources with their serdes,
operators, sinks and dead-letter topics. Connects to nothing.`,
  sections: [{ title: 'Options', keys: ['format', 'config'], help: { format: `${DESCRIBE_FORMATS.join('|')}, default text; dot is Graphviz (dot -Tsvg)`, config: 'JSON config file (its "format" key)' } }],
};

export async function describeCommand(file: string, source: SettingSource): Promise<string> {
  const { format } = describeConfig(source);
  const description = (await loadTopology(file)).describe();
  if (format === 'mermaid') return description.toMermaid();
  if (format === 'json') return JSON.stringify(description.toJSON(), null, 2);
  if (format === 'dot') return graphDot(topologyGraph(description.toJSON()));
  return description.toText();
}
