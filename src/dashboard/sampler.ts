/**
 * Once a second, reads the same counters `/metrics` exports (the prom-client registry), the
 * streams' status and the broker-side lag, keeps 15 minutes of them in a ring buffer, and turns
 * them into the dashboard's snapshot: rates per edge, state per node, freshness per collection,
 * lag per partition with a sparkline and a trend. No second counting path: a number on the page is
 * a difference of two scrapes of the registry.
 *
 *   tick(t-5 s) + tick(t)  --snapshot-->  { streams: [{ name, state, recordsInPerSec, … }], edges: { id: perSec }, lag: [...] }
 */
import type { MetricsSource } from '../ops/metrics.js';
import type { PartitionLag, StreamStatus } from '../stream/runtime/controls.js';
import { BATCH_DURATION_SECONDS, DEAD_LETTERS_TOTAL, END_TO_END_LATENCY_SECONDS, ERRORS_TOTAL, RECORDS_IN_TOTAL, RECORDS_OUT_TOTAL, STORE_WRITE_DURATION_SECONDS } from '../ops/metric-names.js';
import type { GraphEdge, TopologyGraph } from './graph.js';

export type NodeState = 'running' | 'paused' | 'rebalancing' | 'failing' | 'stopped';

interface Tick {
  readonly at: number;
  readonly series: ReadonlyMap<string, number>;
  readonly lag: readonly PartitionLag[];
  readonly status: readonly StreamStatus[];
}

export interface StreamSnapshot {
  readonly name: string;
  readonly state: NodeState;
  readonly pausedByOperator: boolean;
  readonly partitions: number;
  readonly recordsInPerSec: number;
  readonly batchMeanMs: number | null;
  readonly errorsByCode: Readonly<Record<string, number>>;
  readonly deadLetters: number;
  readonly lastError: StreamStatus['lastError'] | null;
}

export interface LagRow extends PartitionLag {
  /** Seconds since this partition was last caught up (0 when it is). */
  readonly behindSeconds: number;
  readonly trend: 'up' | 'down' | 'flat';
  /** Lag every 10 s over the last 15 minutes, oldest first. */
  readonly spark: readonly number[];
}

export interface CollectionSnapshot {
  readonly name: string;
  readonly writesPerSec: number;
  /** Age of the last write in ms; null before the first one. */
  readonly lastWriteAgeMs: number | null;
  /** p99 of CDC → view over the last minute (upper bound of its histogram bucket), single views only. */
  readonly endToEndP99Ms: number | null;
}

export interface DashboardSnapshot {
  readonly at: string;
  readonly streams: readonly StreamSnapshot[];
  readonly edges: Readonly<Record<string, number>>;
  readonly collections: readonly CollectionSnapshot[];
  readonly lag: readonly LagRow[];
  readonly totalLag: number;
}

/** What the sampler reads each tick from the running engine. */
export interface DashboardEngine {
  readonly metrics: MetricsSource;
  status(): StreamStatus[];
  lag(): Promise<PartitionLag[]>;
}

export interface SamplerOptions {
  /** Ticks kept (default 900: 15 minutes at one a second). */
  readonly capacity?: number;
  /** Ticks the rates are computed over (default 5). */
  readonly rateWindow?: number;
}

const key = (metric: string, labels: Readonly<Record<string, string | number>>) => `${metric}|${Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join(',')}`;

export class DashboardSampler {
  readonly #ticks: Tick[] = [];
  readonly #capacity: number;
  readonly #window: number;
  readonly #caughtUpAt = new Map<string, number>();
  readonly #lastWrite = new Map<string, number>();

  constructor(
    readonly graph: TopologyGraph,
    private readonly running: () => DashboardEngine | undefined,
    options: SamplerOptions = {},
  ) {
    this.#capacity = options.capacity ?? 900;
    this.#window = options.rateWindow ?? 5;
  }

  /** One scrape into the ring buffer, then the snapshot from it (undefined while the engine starts). */
  async tick(now = Date.now()): Promise<DashboardSnapshot | undefined> {
    return (await this.record(now)) ? this.snapshot() : undefined;
  }

  /**
   * One scrape into the ring buffer, without working out a snapshot: what the dashboard does while
   * no page is open (the snapshot's rates and sparklines cost ~2 % of a busy worker's CPU each
   * second; bench/end-to-end.ts profile). False while the engine starts.
   */
  async record(now = Date.now()): Promise<boolean> {
    const running = this.running();
    if (!running) return false;
    const series = new Map<string, number>();
    for (const sample of await running.metrics.series()) series.set(key(sample.name, sample.labels), sample.value);
    const lag = await running.lag().catch(() => this.#ticks.at(-1)?.lag ?? []);
    const previous = this.#ticks.at(-1);
    for (const [k, v] of series) {
      if (!k.startsWith(`${STORE_WRITE_DURATION_SECONDS}_count|`)) continue;
      const collection = /collection=([^,]*)/.exec(k)?.[1] ?? '';
      if (v > (previous?.series.get(k) ?? 0)) this.#lastWrite.set(collection, now);
    }
    for (const l of lag) {
      const id = `${l.stream}|${l.topic}|${l.partition}`;
      if (l.lag === 0 || !this.#caughtUpAt.has(id)) this.#caughtUpAt.set(id, now);
    }
    this.#ticks.push({ at: now, series, lag, status: running.status() });
    if (this.#ticks.length > this.#capacity) this.#ticks.shift();
    return true;
  }

  /** The latest snapshot, from the ring buffer. */
  snapshot(): DashboardSnapshot | undefined {
    const last = this.#ticks.at(-1);
    if (!last) return undefined;
    const first = this.#ticks[Math.max(0, this.#ticks.length - 1 - this.#window)] as Tick;
    const seconds = Math.max(1e-3, (last.at - first.at) / 1000);
    const sum = (t: Tick, metric: string, match: Record<string, string>) => {
      let total = 0;
      for (const [k, v] of t.series) {
        if (!k.startsWith(`${metric}|`)) continue;
        if (Object.entries(match).every(([name, value]) => k.includes(`${name}=${value}`) && new RegExp(`(\\||,)${name}=${escape(value)}(,|$)`).test(k))) total += v;
      }
      return total;
    };
    const rate = (metric: string, match: Record<string, string>) => (first === last ? 0 : round((sum(last, metric, match) - sum(first, metric, match)) / seconds));
    const byCode = (metric: string, stream: string) => {
      const out: Record<string, number> = {};
      for (const [k, v] of last.series) {
        if (!k.startsWith(`${metric}|`) || !new RegExp(`(\\||,)stream=${escape(stream)}(,|$)`).test(k) || v === 0) continue;
        const code = /code=([^,]*)/.exec(k)?.[1] ?? '?';
        out[code] = (out[code] ?? 0) + v;
      }
      return out;
    };

    const streams = last.status.map((s): StreamSnapshot => {
      const batches = sum(last, `${BATCH_DURATION_SECONDS}_count`, { stream: s.name }) - sum(first, `${BATCH_DURATION_SECONDS}_count`, { stream: s.name });
      const time = sum(last, `${BATCH_DURATION_SECONDS}_sum`, { stream: s.name }) - sum(first, `${BATCH_DURATION_SECONDS}_sum`, { stream: s.name });
      return {
        name: s.name,
        state: stateOf(s),
        pausedByOperator: s.pausedByOperator,
        partitions: s.assigned.reduce((n, a) => n + a.partitions.length, 0),
        recordsInPerSec: rate(RECORDS_IN_TOTAL, { stream: s.name }),
        batchMeanMs: batches > 0 ? round((time / batches) * 1000) : null,
        errorsByCode: byCode(ERRORS_TOTAL, s.name),
        deadLetters: Object.values(byCode(DEAD_LETTERS_TOTAL, s.name)).reduce((a, b) => a + b, 0),
        lastError: s.lastError ?? null,
      };
    });

    const edges: Record<string, number> = {};
    for (const e of this.graph.edges) edges[e.id] = edgeRate(e, rate);

    const collections = this.graph.nodes
      .filter((n) => n.kind === 'collection')
      .map((n): CollectionSnapshot => {
        const written = this.#lastWrite.get(n.name);
        return {
          name: n.name,
          writesPerSec: rate(`${STORE_WRITE_DURATION_SECONDS}_count`, { collection: n.name }),
          lastWriteAgeMs: written === undefined ? null : last.at - written,
          endToEndP99Ms: this.#p99(n.name),
        };
      });

    const lag = last.lag
      .map((l): LagRow => {
        const id = `${l.stream}|${l.topic}|${l.partition}`;
        const past = this.#lagAt(l, last.at - 30_000);
        return {
          ...l,
          behindSeconds: l.lag === 0 ? 0 : round((last.at - (this.#caughtUpAt.get(id) ?? last.at)) / 1000),
          trend: past === undefined || past === l.lag ? 'flat' : l.lag > past ? 'up' : 'down',
          spark: this.#spark(l),
        };
      })
      .sort((a, b) => b.lag - a.lag || b.behindSeconds - a.behindSeconds);
    return { at: new Date(last.at).toISOString(), streams, edges, collections, lag, totalLag: lag.reduce((n, l) => n + l.lag, 0) };
  }

  #lagAt(l: PartitionLag, at: number): number | undefined {
    const tick = [...this.#ticks].reverse().find((t) => t.at <= at);
    return tick?.lag.find((x) => x.stream === l.stream && x.topic === l.topic && x.partition === l.partition)?.lag;
  }

  #spark(l: PartitionLag): number[] {
    const out: number[] = [];
    const start = this.#ticks[0]?.at ?? 0;
    for (let i = 0; i < this.#ticks.length; i++) {
      const t = this.#ticks[i] as Tick;
      if (i !== this.#ticks.length - 1 && Math.floor((t.at - start) / 10_000) === Math.floor(((this.#ticks[i + 1] as Tick).at - start) / 10_000)) continue;
      out.push(t.lag.find((x) => x.stream === l.stream && x.topic === l.topic && x.partition === l.partition)?.lag ?? 0);
    }
    return out.slice(-90);
  }

  /** p99 of the end-to-end histogram of `view` over the last minute, from bucket differences. */
  #p99(view: string): number | null {
    const last = this.#ticks.at(-1);
    const first = [...this.#ticks].reverse().find((t) => last && t.at <= last.at - 60_000) ?? this.#ticks[0];
    if (!last || !first) return null;
    const buckets: Array<[number, number]> = [];
    for (const [k, v] of last.series) {
      if (!k.startsWith(`${END_TO_END_LATENCY_SECONDS}_bucket|`) || !k.includes(`view=${view}`)) continue;
      const le = /le=([^,]*)/.exec(k)?.[1];
      if (le === undefined) continue;
      buckets.push([le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le), v - (first === last ? 0 : (first.series.get(k) ?? 0))]);
    }
    buckets.sort((a, b) => a[0] - b[0]);
    const total = buckets.at(-1)?.[1] ?? 0;
    if (total <= 0) return null;
    const bound = buckets.find(([, count]) => count >= total * 0.99)?.[0];
    return bound === undefined || !Number.isFinite(bound) ? null : round(bound * 1000);
  }
}

function edgeRate(e: GraphEdge, rate: (metric: string, match: Record<string, string>) => number): number {
  if (e.kind === 'consume') return rate(RECORDS_IN_TOTAL, { stream: e.stream, topic: e.target });
  if (e.kind === 'produce') return rate(RECORDS_OUT_TOTAL, { stream: e.stream, topic: e.target });
  if (e.kind === 'dead-letter') return rate(DEAD_LETTERS_TOTAL, { stream: e.stream, topic: e.target });
  return rate(`${STORE_WRITE_DURATION_SECONDS}_count`, { stream: e.stream, collection: e.target });
}

function stateOf(s: StreamStatus): NodeState {
  if (s.state === 'stopped') return 'stopped';
  if (s.state === 'failed' || s.state === 'retrying') return 'failing';
  if (s.pausedByOperator) return 'paused';
  if (s.state === 'starting' || s.state === 'rejoining') return 'rebalancing';
  return 'running';
}

const round = (n: number) => Math.round(n * 10) / 10;
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
