import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { TributaryError } from '../errors.js';
import type { ErrorCode } from '../errors.js';
import {
  ASSIGNED_PARTITIONS,
  BATCH_DURATION_SECONDS,
  BATCH_SIZE,
  COMMIT_DURATION_SECONDS,
  PRODUCE_DURATION_SECONDS,
  CONSUMER_LAG,
  DEAD_LETTERS_TOTAL,
  ERRORS_TOTAL,
  METRIC_DEFINITIONS,
  METRIC_NAMES,
  PAUSED_PARTITIONS,
  RECORDS_IN_TOTAL,
  RECORDS_OUT_TOTAL,
  RETRIES_TOTAL,
  STORE_WRITE_DURATION_SECONDS,
} from './metric-names.js';
import type { MetricDefinition, MetricLabelName, MetricName } from './metric-names.js';

export interface MetricsOptions {
  /** Also collect Node's default process metrics (CPU, memory, event loop, GC). Default `true`. */
  defaultMetrics?: boolean;
  /**
   * Registry to register into. Default: a fresh one per `Metrics`, so several runtimes in one
   * process (tests, side-by-side streams) never collide in prom-client's global registry.
   */
  registry?: Registry;
}

type Collector = Counter<string> | Gauge<string> | Histogram<string>;

type NameOfType<T extends MetricDefinition['type']> = { [K in MetricName]: (typeof METRIC_DEFINITIONS)[K]['type'] extends T ? K : never }[MetricName];
export type CounterName = NameOfType<'counter'>;
export type HistogramName = NameOfType<'histogram'>;
/** The labels a metric carries, all of them. */
export type MetricLabels<N extends MetricName> = Record<MetricLabelName<N>, string | number>;

/** One sample of the registry: a metric (or a histogram's `_bucket`/`_sum`/`_count`) with its labels. */
export interface MetricSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string | number>>;
  readonly value: number;
}

/** What an operator may count: the declared counters and histograms, nothing else. */
export interface MetricsSink {
  count<N extends CounterName>(name: N, labels: MetricLabels<N>, n?: number): void;
  observe<N extends HistogramName>(name: N, labels: MetricLabels<N>, value: number): void;
}

/** What a reader of the numbers (the dashboard) needs: the registry's samples. */
export interface MetricsSource {
  series(): Promise<MetricSample[]>;
}

/** A metric that Node's default collector always registers; its presence means "already collected". */
const DEFAULT_METRICS_MARKER = 'process_cpu_user_seconds_total';

/**
 * Typed facade over Tributary's prom-client collectors. Call sites say what happened
 * (`metrics.commit(stream, seconds)`) instead of assembling label objects, so label names and
 * metric names cannot drift apart from `metric-names.ts`.
 */
export class Metrics implements MetricsSink, MetricsSource {
  readonly registry: Registry;
  readonly #collectors = new Map<MetricName, Collector>();

  constructor(options: MetricsOptions = {}) {
    this.registry = options.registry ?? new Registry();
    for (const name of METRIC_NAMES) this.#collectors.set(name, this.#register(name, METRIC_DEFINITIONS[name]));
    if ((options.defaultMetrics ?? true) && this.registry.getSingleMetric(DEFAULT_METRICS_MARKER) === undefined) {
      collectDefaultMetrics({ register: this.registry });
    }
  }

  /** Content type of {@link text}, for the `Content-Type` header of a scrape response. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Counts records consumed from `topic`. */
  recordsIn(stream: string, topic: string, n = 1): void {
    this.#counter(RECORDS_IN_TOTAL).inc({ stream, topic }, n);
  }

  /** Counts records produced to `topic`. */
  recordsOut(stream: string, topic: string, n = 1): void {
    this.#counter(RECORDS_OUT_TOTAL).inc({ stream, topic }, n);
  }

  /** Records one processed batch: its size in records and its duration in seconds. */
  batch(stream: string, size: number, seconds: number): void {
    this.#histogram(BATCH_SIZE).observe({ stream }, size);
    this.#histogram(BATCH_DURATION_SECONDS).observe({ stream }, seconds);
  }

  /** Records the duration of one offset commit. */
  commit(stream: string, seconds: number): void {
    this.#histogram(COMMIT_DURATION_SECONDS).observe({ stream }, seconds);
  }

  /** Records the duration of producing one batch's outputs (acknowledged by the broker). */
  produce(stream: string, seconds: number): void {
    this.#histogram(PRODUCE_DURATION_SECONDS).observe({ stream }, seconds);
  }

  /** Records the duration of one bulk write to a store collection. */
  storeWrite(stream: string, collection: string, seconds: number): void {
    this.#histogram(STORE_WRITE_DURATION_SECONDS).observe({ stream, collection }, seconds);
  }

  /** Sets the current lag, in records, of one assigned partition. */
  lag(stream: string, topic: string, partition: number, records: number): void {
    this.#gauge(CONSUMER_LAG).set({ stream, topic, partition }, records);
  }

  /**
   * Drops the lag series of a partition this instance no longer owns. Without this, a revoked
   * partition would keep reporting its last lag forever and page someone for a stale number.
   */
  clearLag(stream: string, topic: string, partition: number): void {
    this.#gauge(CONSUMER_LAG).remove({ stream, topic, partition });
  }

  /** Counts one failure and what the error policy decided to do with it (a decision of src/stream/policy.ts). */
  error(stream: string, code: ErrorCode, decision: string): void {
    this.#counter(ERRORS_TOTAL).inc({ stream, code, decision });
  }

  /** Counts one record sent to the dead-letter topic `topic`. */
  deadLetter(stream: string, topic: string, code: ErrorCode): void {
    this.#counter(DEAD_LETTERS_TOTAL).inc({ stream, topic, code });
  }

  /** Counts one retry attempt. */
  retry(stream: string, code: ErrorCode): void {
    this.#counter(RETRIES_TOTAL).inc({ stream, code });
  }

  /** Sets how many partitions are paused right now. */
  pausedPartitions(stream: string, n: number): void {
    this.#gauge(PAUSED_PARTITIONS).set({ stream }, n);
  }

  /** Sets how many partitions are assigned right now. */
  assignedPartitions(stream: string, n: number): void {
    this.#gauge(ASSIGNED_PARTITIONS).set({ stream }, n);
  }

  /**
   * Adds to a counter declared in metric-names.ts. For the layers with metrics of their own (Fast
   * Data: skipped CDC records, stale events, single views), which get this through {@link MetricsSink}.
   */
  count<N extends CounterName>(name: N, labels: MetricLabels<N>, n = 1): void {
    if (n !== 0) this.#counter(name).inc(labels, n);
  }

  /** Observes a value in a histogram declared in metric-names.ts. */
  observe<N extends HistogramName>(name: N, labels: MetricLabels<N>, value: number): void {
    this.#histogram(name).observe(labels, value);
  }

  /** Every series of the registry, flattened (histograms as their `_bucket`, `_sum` and `_count` samples). */
  async series(): Promise<MetricSample[]> {
    const out: MetricSample[] = [];
    for (const metric of await this.registry.getMetricsAsJSON()) {
      for (const v of metric.values as Array<{ value: number; labels: Record<string, string | number>; metricName?: string }>) out.push({ name: v.metricName ?? metric.name, labels: v.labels, value: v.value });
    }
    return out;
  }

  /** Everything in the registry in Prometheus text exposition format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /**
   * Current value of a metric, summed over every series whose labels match `labels` (omitted
   * labels match anything). For a histogram it is the number of observations. Meant for tests and
   * diagnostics; production reads go through the scrape endpoint.
   */
  async value<N extends MetricName>(name: N, labels: Partial<Record<MetricLabelName<N>, string | number>> = {}): Promise<number> {
    const collector = this.#collector(name);
    const wanted = Object.entries(labels) as Array<[string, string | number | undefined]>;
    const series = (await collector.get()).values as Array<{ value: number; labels: Record<string, string | number | undefined>; metricName?: string }>;
    const sampleName = collector instanceof Histogram ? `${name}_count` : undefined;
    let total = 0;
    for (const sample of series) {
      if (sampleName !== undefined && sample.metricName !== sampleName) continue;
      if (wanted.every(([key, value]) => value === undefined || String(sample.labels[key]) === String(value))) total += sample.value;
    }
    return total;
  }

  /** Zeroes every metric in the registry (default metrics included); for tests. */
  reset(): void {
    this.registry.resetMetrics();
  }

  #register(name: MetricName, definition: MetricDefinition): Collector {
    // Reuse a collector someone already registered under this name (a shared registry with two
    // runtimes in it): the `stream` label keeps their series apart.
    const existing = this.registry.getSingleMetric(name);
    const expected = definition.type === 'counter' ? Counter : definition.type === 'gauge' ? Gauge : Histogram;
    if (existing !== undefined) {
      if (existing instanceof expected) return existing;
      throw new TributaryError('TRB_CONFIG', `metric ${name} is already registered with a different type`, { context: { name } });
    }
    const config = { name, help: definition.help, labelNames: definition.labels, registers: [this.registry] };
    if (definition.type === 'counter') return new Counter(config);
    if (definition.type === 'gauge') return new Gauge(config);
    return new Histogram({ ...config, buckets: [...(definition.buckets ?? [])] });
  }

  #collector(name: MetricName): Collector {
    const collector = this.#collectors.get(name);
    if (collector === undefined) throw new TributaryError('TRB_CONFIG', `unknown metric ${name}`, { context: { name } });
    return collector;
  }

  #counter(name: MetricName): Counter<string> {
    return this.#collector(name) as Counter<string>;
  }

  #gauge(name: MetricName): Gauge<string> {
    return this.#collector(name) as Gauge<string>;
  }

  #histogram(name: MetricName): Histogram<string> {
    return this.#collector(name) as Histogram<string>;
  }
}

/** Creates a {@link Metrics} with its own registry (unless one is handed in). */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  return new Metrics(options);
}
