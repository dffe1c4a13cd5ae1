/**
 * The result-file format that bench/lib/report.ts combines into one run's summary. A benchmark that
 * follows it is picked up by the report without any change to the report.
 *
 * 1. The stamp. `npm run bench` (scripts/bench) opens a run (bench/lib/run.ts): one id, the commit
 *    and a clean/dirty flag taken once, before the first benchmark, plus the environment detected
 *    from the machine and the services, all in bench/results/<run>/run.json. It exports
 *    BENCH_RUN_ID, BENCH_COMMIT and BENCH_DIRTY to every benchmark. A benchmark ends with
 *
 *        await writeResult('<name>', { parameters, ..., summary })      (bench/lib/harness.ts)
 *
 *    which writes bench/results/<run>/<name>.json with the stamp `benchmark`, `date`, `run`, `git`
 *    ({ commit, dirty } of the run) in front of the body. A benchmark that writes its own file
 *    instead must put the same four fields in it (`run` = BENCH_RUN_ID, `git` = `gitDescribe()` of
 *    the harness, which returns the run's stamp); the report also reads bench/results/*.json whose
 *    `run` is the run's id. Outside `npm run bench` there is no run: writeResult writes to the
 *    system's temporary directory, never into bench/results, and the report never sees the file.
 *
 * 2. The summary block (`summary`, optional). What the report renders: the measures with their raw
 *    baselines measured in the same run, and the targets with their checks. The report computes
 *    every ratio itself, against the *strongest* baseline of the measure (the highest rate, or the
 *    lowest latency), and names that baseline beside the ratio; a benchmark does not pick one.
 *    A file without a summary block is listed in the summary as "no summary block".
 *
 * The report refuses to combine a file whose `run`, commit or dirty flag differ from the run's, and
 * two files of one benchmark in one run (docs/benchmarks.md, "How a run is recorded").
 */
import type { Environment } from './environment.js';

/** The four fields in front of every result file. */
export interface ResultStamp {
  /** The benchmark's name: bench/<name>.ts. */
  readonly benchmark: string;
  /** When the file was written (ISO 8601). */
  readonly date: string;
  /** BENCH_RUN_ID of the `npm run bench` that ran it; null outside a run (such a file is never reported). */
  readonly run: string | null;
  /** The run's commit (full hash) and whether a tracked file differed from it when the run began. */
  readonly git: { readonly commit: string; readonly dirty: boolean };
}

/** A raw counterpart of a measure, measured in the same run. */
export interface Baseline {
  /** Unique within the measure, e.g. 'raw-ingest-last'. */
  readonly id: string;
  /** What the raw loop does, e.g. 'bare kafkajs eachBatch → bulkWrite of every record'. */
  readonly label: string;
  /** Measured by this benchmark, in the measure's unit. */
  readonly value?: number;
  /**
   * Or measured by another benchmark of the same run: '<benchmark>/<measure id>' stands for that
   * measure's strongest baseline (e.g. 'fastdata/ingest', the raw ingest ceiling).
   */
  readonly ref?: string;
}

/** One figure of Tributary's, with the raw baselines it is compared with. */
export interface Measure {
  /** Unique within the benchmark; targets and refs name it. */
  readonly id: string;
  /** The row's label in the summary table. */
  readonly label: string;
  /** 'events/s', 'ms', 'MB', 'MB/min'; '' for a yes/no measure. */
  readonly unit: string;
  /** Which way is better: decides the strongest baseline and the sign of a margin. */
  readonly better: 'higher' | 'lower';
  readonly value: number | boolean;
  readonly baselines?: readonly Baseline[];
  /** Printed after the value (percentiles, how far a run got, …). */
  readonly detail?: string;
  /** Bars for the chart instead of baselines + value (percentiles, RSS over the run). */
  readonly chart?: ReadonlyArray<readonly [string, number]>;
}

/** One condition of a target: a measure's value, or its ratio to its strongest baseline, against a threshold. */
export interface Check {
  /** A measure id of the same benchmark. */
  readonly measure: string;
  /** 'ratio' = value / strongest baseline. Default 'value'. */
  readonly of?: 'value' | 'ratio';
  readonly op: '>=' | '>' | '<=' | '<' | '==';
  readonly threshold: number | boolean;
  /** A short name for the verdict when a target has several checks, e.g. 'p99'. */
  readonly label?: string;
}

/** A target: met when every check holds, missed when one fails, not measured otherwise. */
export interface Target {
  /** Unique within the benchmark; the report names it '<benchmark>/<id>'. */
  readonly id: string;
  /** e.g. 'ingest ≥ 0.8 × the raw ceiling'. */
  readonly label: string;
  /** Where the target was set, e.g. 'issue #16 item 4'. */
  readonly source?: string;
  readonly checks: readonly Check[];
  /** Raw baselines shown beside the target when its checks' measures have none (e.g. the raw ingest ceiling beside a latency target). */
  readonly context?: readonly Baseline[];
}

/** The block the report renders. */
export interface BenchSummary {
  readonly measures: readonly Measure[];
  readonly targets?: readonly Target[];
}

/** bench/results/<run>/run.json: what bench/lib/run.ts records when scripts/bench opens a run. */
export interface RunRecord {
  readonly id: string;
  /** When the run began (ISO 8601). */
  readonly startedAt: string;
  readonly commit: string;
  readonly dirty: boolean;
  /** The tracked files that differed from the commit when the run began (benchmark outputs excluded). */
  readonly dirtyPaths: readonly string[];
  /** Commit + hash of the tracked diff (bench/lib/git-stamp.ts): scripts/bench checks it is unchanged after the last benchmark. */
  readonly fingerprint: string;
  /** The benchmarks scripts/bench was asked to run, in order. */
  readonly benchmarks: readonly string[];
  /** Every benchmark in bench/ (`npm run bench` without names): only such a run rewrites docs/benchmarks.md. */
  readonly complete: boolean;
  readonly environment: Environment;
}

/** A result file as read back: the stamp, the optional summary block, and whatever else the benchmark recorded. */
export type ResultFile = ResultStamp & { readonly summary?: BenchSummary; readonly [field: string]: unknown };
