/**
 * The one place where every metric Tributary exports is named and described. Dashboards, alerts
 * and tests depend on these exact strings, so renaming one is a breaking change: grep for the
 * constant, never for the literal. Every name carries the `tributary_` prefix; Node's default
 * process metrics keep their stock names (no prefix) so off-the-shelf Node dashboards still work.
 *
 * Label values are always bounded: `stream` and `collection` come from the topology, `topic` and
 * `partition` from the assignment, `code` from the closed `ERROR_CODES` list and `decision` from
 * the error policy's decisions (`ERROR_DECISIONS` in src/stream/policy.ts). Never put record keys
 * or free text into a label.
 */

/** Counter {stream, topic}: records consumed from a source topic and handed to the pipeline. */
export const RECORDS_IN_TOTAL = 'tributary_records_in_total';

/** Counter {stream, topic}: records produced to a sink topic (dead-letter topics included). */
export const RECORDS_OUT_TOTAL = 'tributary_records_out_total';

/** Histogram {stream}: number of records per processed batch. */
export const BATCH_SIZE = 'tributary_batch_size';

/** Histogram {stream}: wall time to process one batch end to end, in seconds (1ms to 30s buckets). */
export const BATCH_DURATION_SECONDS = 'tributary_batch_duration_seconds';

/** Histogram {stream}: wall time of one consumer offset commit, in seconds. */
export const COMMIT_DURATION_SECONDS = 'tributary_commit_duration_seconds';

/**
 * Histogram {stream}: wall time of producing one batch's outputs until the broker acknowledged
 * them (for an exactly-once stream: the transaction's produce and commit), in seconds.
 */
export const PRODUCE_DURATION_SECONDS = 'tributary_produce_duration_seconds';

/** Histogram {stream, collection}: wall time of one bulk write to the document store, in seconds. */
export const STORE_WRITE_DURATION_SECONDS = 'tributary_store_write_duration_seconds';

/**
 * Gauge {stream, topic, partition}: records between the partition's high watermark and the
 * consumer's committed position. The primary "are we keeping up" signal.
 */
export const CONSUMER_LAG = 'tributary_consumer_lag';

/**
 * Counter {stream, code, decision}: failures seen by the error policy, by error code and by what
 * the policy decided to do about them (`fail`, `dead-letter` or `skip`; `fail` also counts
 * transient faults whose retries ran out).
 */
export const ERRORS_TOTAL = 'tributary_errors_total';

/** Counter {stream, topic, code}: records sent to a dead-letter topic, by that topic and error code. */
export const DEAD_LETTERS_TOTAL = 'tributary_dead_letters_total';

/** Counter {stream, code}: retry attempts of transient failures, by error code. */
export const RETRIES_TOTAL = 'tributary_retries_total';

/** Gauge {stream}: partitions currently paused (back-pressure or operator request). */
export const PAUSED_PARTITIONS = 'tributary_paused_partitions';

/** Gauge {stream}: partitions currently assigned to this instance by the consumer group. */
export const ASSIGNED_PARTITIONS = 'tributary_assigned_partitions';

/** Counter {stream, reason}: CDC records that carry no row change (tombstone, truncate, message, heartbeat). */
export const CDC_SKIPPED_TOTAL = 'tributary_cdc_skipped_total';

/** Counter {projection}: CDC events older than the stored state, not applied (replay guard); their pr-update is still emitted. */
export const STALE_EVENTS_TOTAL = 'tributary_stale_events_total';

/** Counter {view, operation}: single views written (INSERT, UPDATE) or deleted (DELETE). */
export const SINGLE_VIEWS_TOTAL = 'tributary_single_views_total';

/**
 * Histogram {view}: seconds from the CDC record's Kafka timestamp (carried through pr-update and
 * sv-trigger, which inherit their input's timestamp) to the acknowledged single-view write.
 */
export const END_TO_END_LATENCY_SECONDS = 'tributary_end_to_end_latency_seconds';

/** Bucket bounds for record counts per batch. */
export const BATCH_SIZE_BUCKETS: readonly number[] = [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

/**
 * Bucket bounds (seconds) for latencies, 1ms to 30s: a healthy commit or bulk write sits in the
 * low milliseconds, a batch stuck behind retries lands in the seconds range, and anything past
 * 30s is an outage that the `+Inf` bucket still counts.
 */
export const DURATION_BUCKETS_SECONDS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface MetricDefinition {
  readonly type: MetricType;
  readonly help: string;
  readonly labels: readonly string[];
  readonly buckets?: readonly number[];
}

/**
 * Type, help text, label names and buckets of every metric, keyed by name. `Metrics` builds its
 * collectors from this table, so a metric cannot exist without being declared here.
 */
export const METRIC_DEFINITIONS = {
  [RECORDS_IN_TOTAL]: { type: 'counter', help: 'Records consumed from source topics.', labels: ['stream', 'topic'] },
  [RECORDS_OUT_TOTAL]: { type: 'counter', help: 'Records produced to sink topics.', labels: ['stream', 'topic'] },
  [BATCH_SIZE]: { type: 'histogram', help: 'Records per processed batch.', labels: ['stream'], buckets: BATCH_SIZE_BUCKETS },
  [BATCH_DURATION_SECONDS]: {
    type: 'histogram',
    help: 'Time to process one batch, in seconds.',
    labels: ['stream'],
    buckets: DURATION_BUCKETS_SECONDS,
  },
  [COMMIT_DURATION_SECONDS]: {
    type: 'histogram',
    help: 'Time of one consumer offset commit, in seconds.',
    labels: ['stream'],
    buckets: DURATION_BUCKETS_SECONDS,
  },
  [PRODUCE_DURATION_SECONDS]: {
    type: 'histogram',
    help: "Time to produce one batch's outputs until the broker acknowledged them, in seconds.",
    labels: ['stream'],
    buckets: DURATION_BUCKETS_SECONDS,
  },
  [STORE_WRITE_DURATION_SECONDS]: {
    type: 'histogram',
    help: 'Time of one bulk write to the document store, in seconds.',
    labels: ['stream', 'collection'],
    buckets: DURATION_BUCKETS_SECONDS,
  },
  [CONSUMER_LAG]: { type: 'gauge', help: 'Consumer lag in records per partition.', labels: ['stream', 'topic', 'partition'] },
  [ERRORS_TOTAL]: {
    type: 'counter',
    help: 'Failures seen by the error policy, by code and decision.',
    labels: ['stream', 'code', 'decision'],
  },
  [DEAD_LETTERS_TOTAL]: { type: 'counter', help: 'Records sent to a dead-letter topic.', labels: ['stream', 'topic', 'code'] },
  [RETRIES_TOTAL]: { type: 'counter', help: 'Retry attempts of transient failures.', labels: ['stream', 'code'] },
  [PAUSED_PARTITIONS]: { type: 'gauge', help: 'Partitions currently paused.', labels: ['stream'] },
  [ASSIGNED_PARTITIONS]: { type: 'gauge', help: 'Partitions currently assigned to this instance.', labels: ['stream'] },
  [CDC_SKIPPED_TOTAL]: { type: 'counter', help: 'CDC records without a row change (tombstones, truncates, messages, heartbeats).', labels: ['stream', 'reason'] },
  [STALE_EVENTS_TOTAL]: { type: 'counter', help: 'CDC events older than the stored state, not applied.', labels: ['projection'] },
  [SINGLE_VIEWS_TOTAL]: { type: 'counter', help: 'Single views written or deleted.', labels: ['view', 'operation'] },
  [END_TO_END_LATENCY_SECONDS]: {
    type: 'histogram',
    help: 'Seconds from the CDC record timestamp to the single-view write.',
    labels: ['view'],
    buckets: DURATION_BUCKETS_SECONDS,
  },
} as const satisfies Record<string, MetricDefinition>;

/** Every Tributary metric name. */
export type MetricName = keyof typeof METRIC_DEFINITIONS;

/** The label names a given metric carries. */
export type MetricLabelName<N extends MetricName> = (typeof METRIC_DEFINITIONS)[N]['labels'][number];

export const METRIC_NAMES = Object.keys(METRIC_DEFINITIONS) as readonly MetricName[];

/** Counter {collection, route, code}: requests answered by the read API (`tributary serve`). */
export const SERVE_REQUESTS_TOTAL = 'tributary_serve_requests_total';

/** Histogram {collection, route}: time to answer one read-API request (streamed bodies: until the last byte), in seconds. */
export const SERVE_REQUEST_DURATION_SECONDS = 'tributary_serve_request_duration_seconds';

/**
 * The read API's metrics. Kept apart from {@link METRIC_DEFINITIONS} so a pipeline process does
 * not export empty read-API series (the read API runs in its own process, with its own registry).
 */
export const SERVE_METRIC_DEFINITIONS = {
  [SERVE_REQUESTS_TOTAL]: { type: 'counter', help: 'Requests answered by the read API.', labels: ['collection', 'route', 'code'] },
  [SERVE_REQUEST_DURATION_SECONDS]: {
    type: 'histogram',
    help: 'Time to answer one read-API request, in seconds.',
    labels: ['collection', 'route'],
    buckets: DURATION_BUCKETS_SECONDS,
  },
} as const satisfies Record<string, MetricDefinition>;
