/**
 * describe(): a topology as JSON (for tools), text (for people) and Mermaid (for docs). Everything
 * the runtime touches is listed: every source topic, every topic and collection an operator writes
 * (operators declare them, and may write nowhere else), the collections they read, and the
 * dead-letter topics of the error policy.
 *
 *   topology 'shop' with stream orders: shop.orders --> filter --> toTopic(shop.big)
 *     --describe().toText()-->  Sub-topology 0: orders (group shop.orders) / Source: shop.orders / --> decode --> filter --> toTopic(shop.big) / Sink: topic shop.big
 */
import { TributaryError } from '../errors.js';
import { isTopicName } from './declaration-checks.js';
import type { SegmentInput, StreamDefinition } from './definition.js';
import { operatorInfo, type OperatorInfo, type OperatorOutput } from './operators/define.js';

export interface SegmentDescription {
  readonly id: number;
  /** The decoded source, a branch of a split segment, or a merge of segments. */
  readonly input: SegmentInput;
  readonly operators: readonly OperatorInfo[];
  /** When the segment is split: its branches, in routing order ('rest' last). */
  readonly split?: readonly string[];
}

export interface SubTopologyDescription {
  readonly id: number;
  readonly name: string;
  /** The stage the stream belongs to ('' for none). */
  readonly stage: string;
  readonly groupId: string;
  readonly sources: ReadonlyArray<{ topic: string; key: string; value: string }>;
  /** Every operator, segment after segment. */
  readonly operators: readonly OperatorInfo[];
  /** The operator graph (one segment unless the stream is split). */
  readonly segments: readonly SegmentDescription[];
  /** Every topic and collection the stream's operators write, once each. */
  readonly sinks: readonly OperatorOutput[];
  /** Every collection the stream's operators read, once each. */
  readonly reads: readonly string[];
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

/**
 * Declaration check that needs the piped operators: a topic an operator writes must be a legal Kafka
 * topic name (else every record would fail at produce time and go to the error policy).
 */
function checkSinks(stream: string, operators: readonly OperatorInfo[]): void {
  for (const o of operators) {
    for (const w of o.writes ?? []) {
      if (w.kind === 'topic' && !isTopicName(w.name)) {
        throw new TributaryError('TRB_CONFIG', `stream '${stream}': ${o.name} target ${JSON.stringify(w.name)} is not a topic name: expected 1 to 249 letters, digits, '.', '_' or '-' (Kafka's rule)`, {
          context: { stream, operator: o.name },
        });
      }
    }
  }
}

export function describeTopology(name: string, streams: readonly StreamDefinition[]): TopologyDescription {
  const subTopologies = streams.map((s, id): SubTopologyDescription => {
    const segments = s.segments.map((seg): SegmentDescription => ({
      id: seg.id,
      input: seg.input,
      operators: seg.operators.map(operatorInfo),
      ...(seg.split ? { split: seg.split.map((b) => b.name) } : {}),
    }));
    const operators = segments.flatMap((seg) => seg.operators);
    checkSinks(s.name, operators);
    const sinks = new Map<string, OperatorOutput>();
    for (const o of operators) for (const w of o.writes ?? []) sinks.set(`${w.kind}:${w.name}`, { kind: w.kind, name: w.name });
    return {
      id,
      name: s.name,
      stage: s.stage,
      groupId: s.groupId,
      sources: s.topics.map((topic) => ({ topic, key: s.key.name, value: s.value.name })),
      operators,
      segments,
      sinks: [...sinks.values()],
      reads: [...new Set(operators.flatMap((o) => o.reads ?? []))],
      errors: typeof s.errors === 'function' ? 'handler' : s.errors,
      deadLetterTopics: s.errors === 'fail' || s.errors === 'skip' ? [] : [...new Set(s.topics.map(s.deadLetterTopic))],
      keyConcurrency: s.keyConcurrency,
      exactlyOnce: s.exactlyOnce,
    };
  });
  return {
    name,
    subTopologies,
    toJSON: () => ({ name, subTopologies }),
    toText: () => toText(name, subTopologies),
    toMermaid: () => toMermaid(subTopologies),
  };
}

const opLabel = (o: OperatorInfo) => o.name + (o.writes?.length ? `(${o.writes.map((w) => w.name).join(', ')})` : '');

/** How a segment is named in text: 'big' for a branch, 'big + rest' for a merge. */
function segmentLabel(segments: readonly SegmentDescription[], seg: SegmentDescription): string {
  if (seg.input.kind === 'branch') return seg.input.branch;
  if (seg.input.kind === 'merge') return seg.input.of.map((i) => segmentLabel(segments, segments[i] as SegmentDescription)).join(' + ');
  return 'source';
}

function toText(name: string, subs: readonly SubTopologyDescription[]): string {
  const lines = [`Topology: ${name}`];
  for (const s of subs) {
    const extras = [s.stage ? `stage ${s.stage}` : '', s.exactlyOnce ? 'exactly-once' : '', s.keyConcurrency > 1 ? `key concurrency ${s.keyConcurrency}` : ''].filter(Boolean);
    lines.push(`  Sub-topology ${s.id}: ${s.name}  (group ${s.groupId}${extras.map((e) => `, ${e}`).join('')})`);
    for (const src of s.sources) lines.push(`    Source: ${src.topic}  [key ${src.key}, value ${src.value}]`);
    for (const seg of s.segments) {
      const steps = [...seg.operators.map(opLabel), ...(seg.split ? [`split(${seg.split.join(' | ')})`] : [])];
      if (seg.input.kind === 'source') lines.push(`    --> ${['decode', ...steps].join(' --> ')}`);
      else lines.push(`    [${segmentLabel(s.segments, seg)}] --> ${steps.join(' --> ') || '(nothing)'}`);
    }
    for (const sink of s.sinks) lines.push(`    Sink: ${sink.kind} ${sink.name}`);
    if (s.reads.length > 0) lines.push(`    Reads: ${s.reads.join(', ')}`);
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
    const decode = id('op', `${s.id}_decode`);
    lines.push(`    ${decode}["decode"]`);
    const opIds = s.segments.map((seg) =>
      seg.operators.map((o, i) => {
        const nodeId = id('op', seg.id === 0 ? `${s.id}_${i}_${o.name}` : `${s.id}_s${seg.id}_${i}_${o.name}`);
        lines.push(`    ${nodeId}["${o.name}"]`);
        return nodeId;
      }),
    );
    lines.push('  end');
    for (const src of s.sources) lines.push(`  ${node(id('topic', src.topic), `[["${src.topic}"]]`)} --> ${decode}`);
    // Where a segment's records come from: the node before it, with the branch name on split edges.
    const incoming = (segId: number): Array<{ from: string; label?: string }> => {
      const seg = s.segments[segId] as SegmentDescription;
      if (seg.input.kind === 'source') return [{ from: decode }];
      if (seg.input.kind === 'branch') {
        const branch = seg.input.branch;
        return outgoing(seg.input.of).map((e) => ({ from: e.from, label: e.label ? `${e.label} / ${branch}` : branch }));
      }
      return seg.input.of.flatMap(outgoing);
    };
    const outgoing = (segId: number): Array<{ from: string; label?: string }> => {
      const ops = opIds[segId] as string[];
      return ops.length > 0 ? [{ from: ops[ops.length - 1] as string }] : incoming(segId);
    };
    s.segments.forEach((seg) => {
      const ops = opIds[seg.id] as string[];
      if (ops.length === 0) return;
      for (const e of incoming(seg.id)) lines.push(e.label ? `  ${e.from} -- ${e.label} --> ${ops[0]}` : `  ${e.from} --> ${ops[0]}`);
      ops.reduce((prev, cur) => {
        lines.push(`  ${prev} --> ${cur}`);
        return cur;
      });
      seg.operators.forEach((o, i) => {
        for (const w of o.writes ?? []) {
          const target = w.kind === 'collection' ? node(id('coll', w.name), `[("${w.name}")]`) : node(id('topic', w.name), `[["${w.name}"]]`);
          lines.push(`  ${ops[i]} --> ${target}`);
        }
      });
    });
    for (const dlq of s.deadLetterTopics) lines.push(`  ${decode} -. errors .-> ${node(id('topic', dlq), `[["${dlq}"]]`)}`);
  }
  return lines.join('\n');
}
