/**
 * Authoring API: a topology is a set of streams; each stream reads topics through serdes and
 * pipes its records through operators into sinks. Types flow from the serdes through every
 * operator: a wrong field name is a compile error.
 *
 *   const t = topology('orders-enricher');
 *   t.stream('shop.orders', { key: string(), value: json<Order>() })
 *     .pipe(filter((r) => r.value.total > 0), toTopic('shop.big-orders', { value: json<Order>() }));
 */
import type { OperatorFunction } from 'rxjs';
import { TributaryError, type ErrorCode } from '../errors.js';
import { describeTopology, type TopologyDescription } from './describe.js';
import { isOperator, type OperatorInfo } from './operators/define.js';
import type { RecordOrigin, StreamRecord } from './record.js';
import type { Serde } from './serdes/types.js';
import type { DocumentStore } from '../store/types.js';

/** What the error handler decides for one failed record. */
export type ErrorDecision = 'fail' | 'dead-letter' | 'skip';

export interface RecordFailure {
  readonly stream: string;
  readonly code: ErrorCode;
  readonly error: Error;
  readonly origin: RecordOrigin;
}

/** A fixed decision, or a handler that returns one (it must not throw). */
export type ErrorPolicy = ErrorDecision | ((failure: RecordFailure) => ErrorDecision);

export interface RetryOptions {
  /** First backoff in ms (default 100). */
  readonly initialMs?: number;
  /** Backoff cap in ms (default 30 000). */
  readonly maxMs?: number;
  /** Attempts before a transient fault becomes fatal (default: unlimited). */
  readonly maxAttempts?: number;
}

export interface StreamOptions<K, V> {
  readonly key: Serde<K>;
  readonly value: Serde<V>;
  /** Name used in metrics, logs and the default group id (default: the topics joined by '+'). */
  readonly name?: string;
  /** Consumer group (default `<topology>.<stream name>`). */
  readonly groupId?: string;
  /** What to do with a record that cannot be decoded or processed (default 'dead-letter'). */
  readonly errors?: ErrorPolicy;
  /** Where dead letters go (default `<source topic>.dlq`). */
  readonly deadLetterTopic?: string;
  /** Different keys processed at once by async operators inside one partition (default 1). */
  readonly keyConcurrency?: number;
  /** Produce outputs and commit offsets in one Kafka transaction per batch (default false). */
  readonly exactlyOnce?: boolean;
  /** Read from the earliest offset when the group has no commit (default true). */
  readonly fromBeginning?: boolean;
  readonly retry?: RetryOptions;
  /**
   * Source records whose key + value exceed this many bytes are refused before decoding
   * (`TRB_TOO_LARGE`, to the error policy): one oversized record must not blow a worker's memory
   * or produce outputs the broker refuses. Default: no limit.
   */
  readonly maxRecordBytes?: number;
}

export interface StreamDefinition {
  readonly name: string;
  readonly topics: readonly string[];
  readonly groupId: string;
  readonly key: Serde<unknown>;
  readonly value: Serde<unknown>;
  readonly errors: ErrorPolicy;
  readonly deadLetterTopic: (sourceTopic: string) => string;
  readonly keyConcurrency: number;
  readonly exactlyOnce: boolean;
  readonly fromBeginning: boolean;
  readonly retry: Required<RetryOptions>;
  readonly maxRecordBytes: number;
  readonly operators: Array<OperatorFunction<unknown, unknown>>;
}

type Op<A, B> = OperatorFunction<A, B>;

export class Stream<R> {
  #piped = false;
  constructor(private readonly definition: StreamDefinition) {}

  pipe(): Stream<R>;
  pipe<A>(op1: Op<R, A>): Stream<A>;
  pipe<A, B>(op1: Op<R, A>, op2: Op<A, B>): Stream<B>;
  pipe<A, B, C>(op1: Op<R, A>, op2: Op<A, B>, op3: Op<B, C>): Stream<C>;
  pipe<A, B, C, D>(op1: Op<R, A>, op2: Op<A, B>, op3: Op<B, C>, op4: Op<C, D>): Stream<D>;
  pipe<A, B, C, D, E>(op1: Op<R, A>, op2: Op<A, B>, op3: Op<B, C>, op4: Op<C, D>, op5: Op<D, E>): Stream<E>;
  pipe<A, B, C, D, E, F>(op1: Op<R, A>, op2: Op<A, B>, op3: Op<B, C>, op4: Op<C, D>, op5: Op<D, E>, op6: Op<E, F>): Stream<F>;
  pipe<A, B, C, D, E, F, G>(op1: Op<R, A>, op2: Op<A, B>, op3: Op<B, C>, op4: Op<C, D>, op5: Op<D, E>, op6: Op<E, F>, op7: Op<F, G>): Stream<G>;
  pipe<A, B, C, D, E, F, G, H>(op1: Op<R, A>, op2: Op<A, B>, op3: Op<B, C>, op4: Op<C, D>, op5: Op<D, E>, op6: Op<E, F>, op7: Op<F, G>, op8: Op<G, H>): Stream<H>;
  // No untyped catch-all overload: it would accept any mismatch. Chain .pipe() for more than 8.
  pipe(...operators: Array<Op<never, unknown>>): Stream<unknown> {
    if (this.#piped) {
      throw new TributaryError('TRB_TOPOLOGY', `stream '${this.definition.name}' is already piped: chain .pipe() calls instead of branching one stream`);
    }
    this.#piped = true;
    this.definition.operators.push(...(operators as Array<OperatorFunction<unknown, unknown>>));
    return new Stream(this.definition);
  }
}

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
    const name = options.name ?? list.join('+');
    if (this.#streams.some((s) => s.name === name)) throw new TributaryError('TRB_TOPOLOGY', `two streams are named '${name}'; give one a name`);
    const dlq = options.deadLetterTopic;
    const definition: StreamDefinition = {
      name,
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
      operators: [],
    };
    this.#streams.push(definition);
    return new Stream<StreamRecord<K, V>>(definition);
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
    return describeTopology(this.name, this.#streams.map((s) => ({ ...s, operatorInfo: s.operators.map(infoOf) })));
  }
}

function infoOf(fn: OperatorFunction<unknown, unknown>): OperatorInfo {
  return isOperator(fn) ? fn.info : { name: fn.name || 'rxjs', kind: 'transform' };
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
