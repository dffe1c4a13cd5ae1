/**
 * Authoring API: a topology is a set of streams; each stream reads topics through serdes and
 * pipes its records through operators into sinks. Types flow from the serdes through every
 * operator: a wrong field name is a compile error.
 *
 *   const t = topology('orders-enricher');
 *   t.stream('shop.orders', { key: string(), value: json<Order>() })
 *     .pipe(filter((r) => r.value.total > 0), toTopic('shop.big-orders', { value: json<Order>() }));
 */
import { TributaryError } from '../errors.js';
import { checkGroupId, checkStreamDeclaration } from './declaration-checks.js';
import type { StreamDefinition, StreamOptions } from './definition.js';
import { describeTopology, type TopologyDescription } from './describe.js';
import type { StreamRecord } from './record.js';
import type { Serde } from './serdes/types.js';
import { Stream } from './stream.js';
import type { DocumentStore } from '../store/types.js';

export type { ErrorDecision, ErrorPolicy, RecordFailure, RetryOptions } from './policy.js';
export type { PipelineSegment, SegmentInput, SplitBranch, StreamDefinition, StreamOptions } from './definition.js';
export { Stream } from './stream.js';
export type { Branches } from './stream.js';

/** Runs once when a runtime starts, after the store connected and before any record is consumed. */
export type StartHook = (context: { readonly store?: DocumentStore }) => Promise<void>;

/** Marks a Topology whichever copy of the package built it (see `isTopology`). */
const TOPOLOGY_BRAND = Symbol.for('tributary.topology');

export class Topology {
  get [TOPOLOGY_BRAND](): true {
    return true;
  }

  readonly #streams: StreamDefinition[] = [];
  readonly #startHooks: StartHook[] = [];
  constructor(readonly name: string) {
    if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new TributaryError('TRB_TOPOLOGY', `topology name '${name}' may only use letters, digits, '.', '_' and '-'`);
  }

  stream<K, V>(topics: string | readonly string[], options: StreamOptions<K, V>): Stream<StreamRecord<K, V>> {
    const list = typeof topics === 'string' ? [topics] : [...topics];
    if (list.length === 0) throw new TributaryError('TRB_TOPOLOGY', 'a stream needs at least one topic');
    checkStreamDeclaration(list, options);
    const name = options.name ?? list.join('+');
    if (this.#streams.some((s) => s.name === name)) throw new TributaryError('TRB_TOPOLOGY', `two streams are named '${name}'; give one a name`);
    const dlq = options.deadLetterTopic;
    checkGroupId(name, options.groupId ?? `${this.name}.${name}`, new Map(this.#streams.map((s) => [s.groupId, s.name])));
    const definition: StreamDefinition = {
      name,
      stage: options.stage ?? '',
      topics: list,
      groupId: options.groupId ?? `${this.name}.${name}`,
      key: options.key as Serde<unknown>,
      value: options.value as Serde<unknown>,
      errors: options.errors ?? 'dead-letter',
      deadLetterTopic: (source) => dlq ?? `${source}.dlq`,
      keyConcurrency: Math.max(1, Math.floor(options.keyConcurrency ?? 1)),
      exactlyOnce: options.exactlyOnce ?? false,
      fromBeginning: options.fromBeginning ?? true,
      retry: { initialMs: 100, maxMs: 30_000, maxAttempts: Number.POSITIVE_INFINITY, ...options.retry },
      maxRecordBytes: options.maxRecordBytes ?? Number.POSITIVE_INFINITY,
      segments: [{ id: 0, input: { kind: 'source' }, operators: [] }],
    };
    this.#streams.push(definition);
    return new Stream<StreamRecord<K, V>>(definition, definition.segments[0] as StreamDefinition['segments'][number]);
  }

  streams(): readonly StreamDefinition[] {
    return this.#streams;
  }

  /** Work to do before consuming (e.g. create indexes). Hooks must be idempotent: every instance runs them. */
  onStart(hook: StartHook): this {
    this.#startHooks.push(hook);
    return this;
  }

  startHooks(): readonly StartHook[] {
    return this.#startHooks;
  }

  describe(): TopologyDescription {
    return describeTopology(this.name, this.#streams);
  }
}

/**
 * A Topology from any copy of the package: a topology file that resolves a second copy (a global
 * CLI running a project's topology, a linked checkout) builds that copy's class, which `instanceof`
 * would refuse.
 */
export function isTopology(value: unknown): value is Topology {
  return typeof value === 'object' && value !== null && (value as { [TOPOLOGY_BRAND]?: unknown })[TOPOLOGY_BRAND] === true;
}

export function topology(name: string): Topology {
  return new Topology(name);
}
