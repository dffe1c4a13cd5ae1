/**
 * One run's summary from its result files, with no I/O (bench/lib/report.ts reads and writes; this
 * decides). It refuses results of different runs, resolves every measure's raw baselines (refs to
 * another benchmark of the same run included), divides by the *strongest* one — the highest rate or
 * the lowest latency: a raw loop that also compacts per key beats one that writes every record —
 * and judges every target met, missed (with the margin) or not measured.
 *
 *   combineRun(run, [{ path, result }, …])  --> { measures: [{ ratio: 0.568, strongest: raw-ingest-last … }],
 *                                                targets: [{ key: 'fastdata/ingest', verdict: 'missed', … }], … }
 *   combineRun(run, [fileOfRunA, fileOfRunB])  --> throws MixedRunError
 */
import type { Baseline, BenchSummary, Check, Measure, ResultFile, RunRecord, Target } from './result-format.js';

export class MixedRunError extends Error {
  override readonly name = 'MixedRunError';
}

export interface ResolvedBaseline {
  readonly id: string;
  readonly label: string;
  readonly value: number;
  /** The unit of the measure it was measured for. */
  readonly unit: string;
  /** The benchmark that measured it (another one's for a ref). */
  readonly benchmark: string;
}

export interface MeasureRow {
  readonly benchmark: string;
  readonly measure: Measure;
  readonly baselines: readonly ResolvedBaseline[];
  /** Refs to a benchmark or measure this run does not have. */
  readonly unresolved: readonly string[];
  readonly strongest?: ResolvedBaseline;
  /** value / strongest baseline, 3 decimals. */
  readonly ratio?: number;
}

export interface CheckResult {
  readonly holds: boolean | undefined;
  /** e.g. '0.568 × raw-ingest-last', '312 ms', 'yes'. */
  readonly measured: string;
  /** e.g. '0.568 < 0.8, short by 0.232 (29 %); needs ≥ 583 events/s', '1 850 views/s ≥ 1 700 views/s, by 150 views/s (8.8 %)'. */
  readonly verdict: string;
}

export type Verdict = 'met' | 'missed' | 'not measured';

export interface TargetRow {
  /** '<benchmark>/<target id>'. */
  readonly key: string;
  readonly label: string;
  readonly source?: string;
  readonly verdict: Verdict;
  readonly checks: readonly CheckResult[];
  /** The raw baselines of this run shown beside it: the checks' measures' strongest, then the target's context. */
  readonly baselines: readonly ResolvedBaseline[];
}

export interface RunSummary {
  readonly run: RunRecord;
  readonly files: readonly string[];
  readonly measures: readonly MeasureRow[];
  /** The headline targets first (in HEADLINE_TARGETS order, 'not measured' when absent), then every other. */
  readonly targets: readonly TargetRow[];
  /** Benchmarks of the run whose file has no summary block. */
  readonly withoutSummary: readonly string[];
  /** Benchmarks the run was asked for that wrote no result (failed, or skipped). */
  readonly missing: readonly string[];
}

/** The targets of issue #16 item 4: always in the summary, 'not measured' when the run lacks them. */
export const HEADLINE_TARGETS: ReadonlyArray<{ key: string; label: string; source: string }> = [
  { key: 'fastdata/ingest', label: 'ingest ≥ 0.8 × the raw ceiling', source: 'issue #16 item 4' },
  { key: 'fastdata/views', label: 'single views ≥ 1 700/s on the real store', source: 'issue #16 item 4' },
  { key: 'end-to-end/latency-1000', label: 'end to end at 1 000 CDC events/s offered: sustained, p99 CDC → view written ≤ 250 ms', source: 'issue #16 item 4' },
  { key: 'backlog/rss', label: "catching up on 1 000 000 waiting events: RSS < 300 MB with Node's default heap, flat", source: 'issue #16 item 4' },
];

const NEGATION = { '>=': '<', '>': '≤', '<=': '>', '<': '≥', '==': '≠' } as const;
const SYMBOL = { '>=': '≥', '>': '>', '<=': '≤', '<': '<', '==': '=' } as const;

/** 1 234 567 for whole numbers and from 1 000 up, one decimal below (262.4 MB stays 262.4 beside a 300 MB budget). */
export function formatNumber(n: number): string {
  const rounded = Math.abs(n) >= 1000 || Number.isInteger(n) ? Math.round(n) : Math.round(n * 10) / 10;
  return rounded.toLocaleString('en-US', { maximumFractionDigits: 1 }).replaceAll(',', ' ');
}
export const formatRatio = (r: number) => r.toFixed(3);
const withUnit = (n: number, unit: string) => `${formatNumber(n)}${unit ? ` ${unit}` : ''}`;
const yesNo = (b: boolean) => (b ? 'yes' : 'no');

/** The strongest of the baselines: the highest rate for a higher-is-better measure, the lowest figure otherwise. */
export function strongestBaseline(baselines: readonly ResolvedBaseline[], better: Measure['better']): ResolvedBaseline | undefined {
  return baselines.reduce<ResolvedBaseline | undefined>((best, b) => (best === undefined || (better === 'higher' ? b.value > best.value : b.value < best.value) ? b : best), undefined);
}

/** A pass-through file without a summary block (bench/pass-through.ts writes `best`, and `clients` per Kafka client). */
function legacyPassThrough(result: ResultFile): BenchSummary | undefined {
  type Pair = { raw?: { recordsPerSecond?: unknown }; tributary?: { recordsPerSecond?: unknown }; target?: unknown };
  const pairs = (result['clients'] as Record<string, Pair> | undefined) ?? (result['best'] ? { kafkajs: result['best'] as Pair } : {});
  const bytes = (result['parameters'] as { recordBytes?: unknown } | undefined)?.recordBytes;
  const measures: Measure[] = [];
  const targets: Target[] = [];
  for (const [client, pair] of Object.entries(pairs)) {
    const raw = pair.raw?.recordsPerSecond;
    const tributary = pair.tributary?.recordsPerSecond;
    if (typeof raw !== 'number' || typeof tributary !== 'number') continue;
    const id = `pass-through-${client}`;
    measures.push({ id, label: `pass-through${typeof bytes === 'number' ? `, ${bytes} B records` : ''} (${client})`, unit: 'records/s', better: 'higher', value: tributary, baselines: [{ id: `raw-${client}`, label: `bare ${client} consume → produce → commit`, value: raw }] });
    if (typeof pair.target === 'number') targets.push({ id: `ratio-${client}`, label: `pass-through ≥ ${pair.target} × raw (${client})`, source: 'bench/pass-through.ts', checks: [{ measure: id, of: 'ratio', op: '>=', threshold: pair.target }] });
  }
  return measures.length > 0 ? { measures, targets } : undefined;
}

function holds(actual: number | boolean, op: Check['op'], threshold: number | boolean): boolean {
  if (typeof actual === 'boolean' || typeof threshold === 'boolean') return op === '==' && actual === threshold;
  return op === '>=' ? actual >= threshold : op === '>' ? actual > threshold : op === '<=' ? actual <= threshold : op === '<' ? actual < threshold : actual === threshold;
}

function judge(check: Check, row: MeasureRow | undefined): CheckResult {
  const of = check.of ?? 'value';
  const actual = of === 'ratio' ? row?.ratio : row?.measure.value;
  if (row === undefined || actual === undefined) {
    return { holds: undefined, measured: '—', verdict: row === undefined ? `no measure '${check.measure}' in this run` : `no raw baseline for ${row.measure.label}` };
  }
  const unit = of === 'ratio' ? '' : row.measure.unit;
  const ok = holds(actual, check.op, check.threshold);
  const named = (text: string) => (check.label ? `${check.label}: ${text}` : text);
  if (typeof actual === 'boolean' || typeof check.threshold === 'boolean') {
    const shown = named(yesNo(actual === true));
    return { holds: ok, measured: shown, verdict: ok ? shown : `${shown}, needed ${yesNo(check.threshold === true)}` };
  }
  const show = (n: number) => (of === 'ratio' ? formatRatio(n) : withUnit(n, unit));
  const measured = of === 'ratio' ? `${withUnit(row.measure.value as number, row.measure.unit)} = ${formatRatio(actual)} × ${row.strongest?.id} (${withUnit(row.strongest?.value ?? 0, row.measure.unit)})` : show(actual);
  const gap = Math.abs(actual - check.threshold);
  const percent = check.threshold === 0 ? '' : ` (${((gap / Math.abs(check.threshold)) * 100).toFixed(1)} %)`;
  const need = of === 'ratio' && !ok && row.strongest ? `; needs ${SYMBOL[check.op]} ${withUnit(check.threshold * row.strongest.value, row.measure.unit)}` : '';
  const verdict = ok ? `${show(actual)} ${SYMBOL[check.op]} ${show(check.threshold)}, by ${show(gap)}${percent}` : `${show(actual)} ${NEGATION[check.op]} ${show(check.threshold)}, short by ${show(gap)}${percent}${need}`;
  return { holds: ok, measured: named(measured), verdict: named(verdict) };
}

function targetRow(key: string, target: Target, rows: ReadonlyMap<string, MeasureRow>, resolve: (b: Baseline) => ResolvedBaseline | string): TargetRow {
  const benchmark = key.slice(0, key.lastIndexOf('/'));
  const checks = target.checks.map((c) => judge(c, rows.get(`${benchmark}/${c.measure}`)));
  const verdict: Verdict = checks.some((c) => c.holds === false) ? 'missed' : checks.every((c) => c.holds === true) ? 'met' : 'not measured';
  const own = target.checks.map((c) => rows.get(`${benchmark}/${c.measure}`)?.strongest).filter((b): b is ResolvedBaseline => b !== undefined);
  const context = (target.context ?? []).map(resolve).filter((b): b is ResolvedBaseline => typeof b !== 'string');
  const baselines = [...new Map([...own, ...context].map((b) => [`${b.benchmark}/${b.id}`, b])).values()];
  return { key, label: target.label, ...(target.source ? { source: target.source } : {}), verdict, checks, baselines };
}

/** Combines the result files of one run; throws MixedRunError when a file belongs to another run, commit or tree state. */
export function combineRun(run: RunRecord, inputs: ReadonlyArray<{ path: string; result: ResultFile }>): RunSummary {
  const seen = new Map<string, string>();
  for (const { path, result } of inputs) {
    if (result.run !== run.id) throw new MixedRunError(`${path}: run ${result.run ?? 'null'}, not ${run.id}: results of different runs are not combined`);
    if (result.git?.commit !== run.commit || result.git.dirty !== run.dirty) {
      throw new MixedRunError(`${path}: commit ${result.git?.commit ?? '?'}${result.git?.dirty ? '+dirty' : ''}, but run ${run.id} is ${run.commit}${run.dirty ? '+dirty' : ''}`);
    }
    const other = seen.get(result.benchmark);
    if (other !== undefined) throw new MixedRunError(`run ${run.id} has two results of ${result.benchmark}: ${other} and ${path}`);
    seen.set(result.benchmark, path);
  }
  const blocks = inputs.map(({ result }) => ({ benchmark: result.benchmark, block: result.summary ?? (result.benchmark === 'pass-through' ? legacyPassThrough(result) : undefined) }));
  // First the measured baselines, so that refs can name any measure of the run.
  const measured = new Map<string, { measure: Measure; benchmark: string; baselines: ResolvedBaseline[] }>();
  for (const { benchmark, block } of blocks) {
    for (const m of block?.measures ?? []) {
      const baselines = (m.baselines ?? []).filter((b) => typeof b.value === 'number').map((b) => ({ id: b.id, label: b.label, value: b.value as number, unit: m.unit, benchmark }));
      measured.set(`${benchmark}/${m.id}`, { measure: m, benchmark, baselines });
    }
  }
  const resolve = (b: Baseline): ResolvedBaseline | string => {
    if (typeof b.value === 'number' || b.ref === undefined) return b.ref ?? b.id;
    const target = measured.get(b.ref);
    const strongest = target && strongestBaseline(target.baselines, target.measure.better);
    return strongest ? { ...strongest, label: `${b.label} — ${strongest.label}` } : b.ref;
  };
  const rows = new Map<string, MeasureRow>();
  for (const [key, { measure, benchmark, baselines }] of measured) {
    const refs = (measure.baselines ?? []).filter((b) => typeof b.value !== 'number').map(resolve);
    const all = [...baselines, ...refs.filter((b): b is ResolvedBaseline => typeof b !== 'string')];
    const strongest = strongestBaseline(all, measure.better);
    const ratio = strongest && typeof measure.value === 'number' && strongest.value > 0 ? Math.round((measure.value / strongest.value) * 1000) / 1000 : undefined;
    rows.set(key, { benchmark, measure, baselines: all, unresolved: refs.filter((b): b is string => typeof b === 'string'), ...(strongest ? { strongest } : {}), ...(ratio !== undefined ? { ratio } : {}) });
  }
  const declared = new Map<string, Target>();
  for (const { benchmark, block } of blocks) for (const t of block?.targets ?? []) declared.set(`${benchmark}/${t.id}`, t);
  const headline = HEADLINE_TARGETS.map(({ key, label, source }) => {
    const target = declared.get(key);
    return target ? targetRow(key, target, rows, resolve) : { key, label, source, verdict: 'not measured' as const, checks: [{ holds: undefined, measured: '—', verdict: 'not in this run' }], baselines: [] };
  });
  const others = [...declared].filter(([key]) => !HEADLINE_TARGETS.some((h) => h.key === key)).map(([key, t]) => targetRow(key, t, rows, resolve));
  return {
    run,
    files: inputs.map((i) => i.path),
    measures: [...rows.values()],
    targets: [...headline, ...others],
    withoutSummary: blocks.filter((b) => b.block === undefined).map((b) => b.benchmark),
    missing: run.benchmarks.filter((name) => !seen.has(name)),
  };
}
