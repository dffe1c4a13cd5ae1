/**
 * The topics a topology reads and writes, taken from its description (`describe()`: sources, sink
 * topics, dead-letter topics) — the one account of what the runtime touches, so the list cannot
 * disagree with what runs. Each topic gets a role:
 *
 *   source       read, written by no stream of the topology (CDC topics: Debezium or you create them)
 *   internal     written by one stream and read by another (pr-update, sv-trigger)
 *   output       written only (sv-update, sinks for other systems)
 *   dead-letter  where a stream's failed records go
 *   control      the shared pause/resume state (`<topology>.control`; `run` creates it when missing):
 *                one partition, compacted
 *
 *   topicPlan(customer360.describe().toJSON())
 *     --> [{ topic: 'crm.public.customers', role: 'source', readBy: ['ingest:pr_customers'], writtenBy: [] }, …]
 */
import { targets } from '../stream/runtime/runner.js';
import type { SubTopologyDescription } from '../stream/describe.js';

export type TopicRole = 'source' | 'internal' | 'output' | 'dead-letter' | 'control';

export interface PlannedTopic {
  readonly topic: string;
  readonly role: TopicRole;
  /** Streams that consume it. */
  readonly readBy: readonly string[];
  /** Streams that produce to it (dead letters included). */
  readonly writtenBy: readonly string[];
  /** Partitions it must have, when the role fixes them (the control topic: 1). */
  readonly partitions?: number;
  /** Its cleanup policy when not CLEANUP_POLICY (the control topic: compact). */
  readonly cleanupPolicy?: string;
}

/** The cleanup policy every topic is created with: each is a log of events (changes, triggers, failures), not a table of latest values. */
export const CLEANUP_POLICY = 'delete';

/**
 * Every topic of `description`, sources first, then internal, output and dead-letter topics, each
 * group in order of first appearance. With `only` (stream names or stages, as `run --only`), only
 * the topics those streams read or write; roles still come from the whole topology.
 */
export function topicPlan(description: { readonly subTopologies: readonly SubTopologyDescription[] }, only?: readonly string[]): PlannedTopic[] {
  const topics = new Map<string, { readBy: string[]; writtenBy: string[]; deadLetter: boolean }>();
  const entry = (topic: string) => {
    let found = topics.get(topic);
    if (!found) topics.set(topic, (found = { readBy: [], writtenBy: [], deadLetter: false }));
    return found;
  };
  for (const s of description.subTopologies) {
    for (const source of s.sources) entry(source.topic).readBy.push(s.name);
    for (const sink of s.sinks) if (sink.kind === 'topic') entry(sink.name).writtenBy.push(s.name);
    for (const dlq of s.deadLetterTopics) {
      const e = entry(dlq);
      e.writtenBy.push(s.name);
      e.deadLetter = true;
    }
  }
  const stages = new Map(description.subTopologies.map((s) => [s.name, s.stage]));
  const selected = (streams: readonly string[]) => !only || streams.some((name) => only.some((target) => targets(target, { name, stage: stages.get(name) ?? '' })));
  const order: TopicRole[] = ['source', 'internal', 'output', 'dead-letter'];
  return [...topics.entries()]
    .map(([topic, e]): PlannedTopic => ({
      topic,
      role: e.deadLetter && e.readBy.length === 0 ? 'dead-letter' : e.writtenBy.length === 0 ? 'source' : e.readBy.length === 0 ? 'output' : 'internal',
      readBy: [...new Set(e.readBy)],
      writtenBy: [...new Set(e.writtenBy)],
    }))
    .filter((t) => selected([...t.readBy, ...t.writtenBy]))
    .sort((a, b) => order.indexOf(a.role) - order.indexOf(b.role));
}

/** The control topic's row: every instance reads it and writes the pauses set through it (src/stream/control/control-topic.ts). */
export function controlTopicRow(topic: string): PlannedTopic {
  return { topic, role: 'control', readBy: ['every instance (pause state)'], writtenBy: ['pause / resume'], partitions: 1, cleanupPolicy: 'compact' };
}

/**
 * Topics `only`'s streams read (all streams without `only`): those a consumer subscribes to.
 * `stages` gives each stream's stage (describe()'s subTopologies), so `only` may name a stage.
 */
export function topicsRead(plan: readonly PlannedTopic[], stages: ReadonlyMap<string, string>, only?: readonly string[]): PlannedTopic[] {
  return plan.filter((t) => t.readBy.some((name) => !only || only.some((target) => targets(target, { name, stage: stages.get(name) ?? '' }))));
}
