/** describe(): a topology as JSON (for tools), text (for people) and Mermaid (for docs). */
import { TributaryError } from '../errors.js';
import { isTopicName } from './declaration-checks.js';
import type { OperatorInfo } from './operators/define.js';
import type { ErrorPolicy } from './topology.js';

export interface SubTopologyDescription {
  readonly id: number;
  readonly name: string;
  readonly groupId: string;
  readonly sources: ReadonlyArray<{ topic: string; key: string; value: string }>;
  readonly operators: readonly OperatorInfo[];
  readonly sinks: ReadonlyArray<{ kind: 'topic' | 'collection'; name: string }>;
  readonly errors: string;
  readonly deadLetterTopics: readonly string[];
  readonly keyConcurrency: number;
  readonly exactlyOnce: boolean;
}

export interface TopologyDescription {
  readonly name: string;
  readonly subTopologies: readonly SubTopologyDescription[];
  toJSON(): { name: string; subTopologies: readonly SubTopologyDescription[] };
  toText(): string;
  toMermaid(): string;
}

interface DescribableStream {
  name: string;
  groupId: string;
  topics: readonly string[];
  key: { name: string };
  value: { name: string };
  errors: ErrorPolicy;
  deadLetterTopic: (source: string) => string;
  keyConcurrency: number;
  exactlyOnce: boolean;
  operatorInfo: OperatorInfo[];
}

/**
 * Declaration check that needs the piped operators: a sink's topic must be a legal Kafka topic name
 * (else every record would fail at produce time and go to the error policy).
 */
function checkSinks(stream: string, operators: readonly OperatorInfo[]): void {
  for (const o of operators) {
    if (o.kind === 'sink' && o.targetKind !== 'collection' && o.target !== undefined && !isTopicName(o.target)) {
      throw new TributaryError('TRB_CONFIG', `stream '${stream}': ${o.name} target ${JSON.stringify(o.target)} is not a topic name: expected 1 to 249 letters, digits, '.', '_' or '-' (Kafka's rule)`, {
        context: { stream, operator: o.name },
      });
    }
  }
}

export function describeTopology(name: string, streams: DescribableStream[]): TopologyDescription {
  for (const s of streams) checkSinks(s.name, s.operatorInfo);
  const subTopologies: SubTopologyDescription[] = streams.map((s, id) => ({
    id,
    name: s.name,
    groupId: s.groupId,
    sources: s.topics.map((topic) => ({ topic, key: s.key.name, value: s.value.name })),
    operators: s.operatorInfo,
    sinks: s.operatorInfo.filter((o) => o.kind === 'sink' && o.target).map((o) => ({ kind: o.targetKind ?? 'topic', name: o.target as string })),
    errors: typeof s.errors === 'function' ? 'handler' : s.errors,
    deadLetterTopics: s.errors === 'fail' || s.errors === 'skip' ? [] : s.topics.map(s.deadLetterTopic),
    keyConcurrency: s.keyConcurrency,
    exactlyOnce: s.exactlyOnce,
  }));
  return {
    name,
    subTopologies,
    toJSON: () => ({ name, subTopologies }),
    toText: () => toText(name, subTopologies),
    toMermaid: () => toMermaid(subTopologies),
  };
}

function toText(name: string, subs: readonly SubTopologyDescription[]): string {
  const lines = [`Topology: ${name}`];
  for (const s of subs) {
    lines.push(`  Sub-topology ${s.id}: ${s.name}  (group ${s.groupId}${s.exactlyOnce ? ', exactly-once' : ''}${s.keyConcurrency > 1 ? `, key concurrency ${s.keyConcurrency}` : ''})`);
    for (const src of s.sources) lines.push(`    Source: ${src.topic}  [key ${src.key}, value ${src.value}]`);
    lines.push(`    --> ${['decode', ...s.operators.map((o) => o.name + (o.target ? `(${o.target})` : ''))].join(' --> ')}`);
    for (const sink of s.sinks) lines.push(`    Sink: ${sink.kind} ${sink.name}`);
    lines.push(`    Errors: ${s.errors}${s.deadLetterTopics.length ? ` --> ${s.deadLetterTopics.join(', ')}` : ''}`);
  }
  return lines.join('\n');
}

const id = (prefix: string, text: string) => `${prefix}_${text.replace(/[^A-Za-z0-9_]/g, '_')}`;

function toMermaid(subs: readonly SubTopologyDescription[]): string {
  const lines = ['flowchart LR'];
  const declared = new Set<string>();
  const node = (nodeId: string, shape: string) => {
    if (!declared.has(nodeId)) {
      declared.add(nodeId);
      lines.push(`  ${nodeId}${shape}`);
    }
    return nodeId;
  };
  for (const s of subs) {
    lines.push(`  subgraph ${id('sub', `${s.id}_${s.name}`)}["${s.name}"]`);
    const opIds = s.operators.map((o, i) => {
      const nodeId = id('op', `${s.id}_${i}_${o.name}`);
      lines.push(`    ${nodeId}["${o.name}"]`);
      return nodeId;
    });
    const decode = id('op', `${s.id}_decode`);
    lines.push(`    ${decode}["decode"]`);
    lines.push('  end');
    for (const src of s.sources) lines.push(`  ${node(id('topic', src.topic), `[["${src.topic}"]]`)} --> ${decode}`);
    [decode, ...opIds].reduce((prev, cur) => {
      lines.push(`  ${prev} --> ${cur}`);
      return cur;
    });
    s.operators.forEach((o, i) => {
      if (o.kind !== 'sink' || !o.target) return;
      const target = o.targetKind === 'collection' ? node(id('coll', o.target), `[("${o.target}")]`) : node(id('topic', o.target), `[["${o.target}"]]`);
      lines.push(`  ${opIds[i]} --> ${target}`);
    });
    for (const dlq of s.deadLetterTopics) lines.push(`  ${decode} -. errors .-> ${node(id('topic', dlq), `[["${dlq}"]]`)}`);
  }
  return lines.join('\n');
}
