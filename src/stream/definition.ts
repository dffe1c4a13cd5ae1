/**
 * What a topology is made of, as data: each stream (one consumer group) with its options and its
 * operator graph. `topology.ts` and `stream.ts` build it, `describe.ts` prints it, the runtime runs
 * it. A stream's operators form segments: the first reads the decoded source records; `split()`
 * routes a segment's output into branch segments, `merge()` joins segments into one.
 *
 *   source --> [seg 0: filter, map] --split--> [seg 1 'big': toTopic]  --merge--> [seg 3: toCollection]
 *                                         \--> [seg 2 'rest': mapValues] --/
 */
import type { OperatorFunction } from 'rxjs';
import type { ErrorPolicy, RetryOptions } from './policy.js';
import type { Serde } from './serdes/types.js';

export interface StreamOptions<K, V> {
  readonly key: Serde<K>;
  readonly value: Serde<V>;
  /** Name used in metrics, logs and the default group id (default: the topics joined by '+'). */
  readonly name?: string;
  /** The stage the stream belongs to (e.g. Fast Data's 'ingest'): `only`, pause and resume can name it (default: none). */
  readonly stage?: string;
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

/** Where a segment's records come from. */
export type SegmentInput =
  | { readonly kind: 'source' }
  | { readonly kind: 'branch'; readonly of: number; readonly branch: string }
  | { readonly kind: 'merge'; readonly of: readonly number[] };

/** A record goes to the first branch whose predicate accepts it; `predicate: null` is the 'rest' branch. */
export interface SplitBranch {
  readonly name: string;
  readonly segment: number;
  readonly predicate: ((record: never) => boolean) | null;
}

export interface PipelineSegment {
  readonly id: number;
  readonly input: SegmentInput;
  readonly operators: Array<OperatorFunction<unknown, unknown>>;
  /** Set once the segment is split: its output goes to these branches only. */
  split?: readonly SplitBranch[];
  /** Set once the segment is merged: its output goes to that segment only. */
  mergedInto?: number;
}

export interface StreamDefinition {
  readonly name: string;
  readonly stage: string;
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
  /** The operator graph; `segments[0]` reads the decoded source records. */
  readonly segments: PipelineSegment[];
}

/** Every operator of a stream, segment by segment. */
export function operatorsOf(definition: StreamDefinition): Array<OperatorFunction<unknown, unknown>> {
  return definition.segments.flatMap((s) => s.operators);
}
