/**
 * A run's summary as the Markdown block between the markers of docs/benchmarks.md, and as the bar
 * groups of its chart; no I/O (bench/lib/report.ts writes both).
 *
 *   summaryMarkdown(combineRun(run, files))  --> 'Run `20261205T190000`, commit `abc1234` (clean) … | target | …'
 *   chartGroups(summary)                     --> [{ title: 'fastdata: ingest … (events/s)', bars: [['raw-ingest', 576], …] }]
 */
import type { ChartGroup } from './chart.js';
import { describeEnvironment } from './environment.js';
import { formatNumber, formatRatio, type MeasureRow, type ResolvedBaseline, type RunSummary } from './summary.js';

/** Published figures, for scale (different hardware and workloads). */
export const PUBLISHED = [
  ['Fast Data Real-Time Updater, 1 replica (0.6 CPU), 2 projections + strategies', '≈ 167 events/s (10k/min)', 'Mia-Platform docs, fast_data/faq/bootstrapping_fast_data'],
  ['Fast Data initial load, 4 Kafka brokers, 3-node MongoDB, 6×8-core K8s', '≈ 1 000 events/s (60k/min)', 'Mia-Platform docs, benchmark_fast_data'],
  ['Fast Data Single View Creator, 1 replica (0.7 CPU), 1:N + custom function', '≈ 17 views/s (1k/min)', 'Mia-Platform docs, bootstrapping_fast_data'],
  ['kafkajs consumer, eachBatch / eachMessage (maintainer, 2019)', '≈ 80 000 / 65 000 msg/s', 'tulios/kafkajs#242'],
] as const;

const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');
const withUnit = (n: number, unit: string) => `${formatNumber(n)}${unit ? ` ${unit}` : ''}`;
const baseline = (b: ResolvedBaseline) => `${b.id} (${b.label}): ${withUnit(b.value, b.unit)}`;

function valueText(row: MeasureRow): string {
  const { value, unit, detail } = row.measure;
  const shown = typeof value === 'boolean' ? (value ? 'yes' : 'no') : withUnit(value, unit);
  return detail ? `${shown}; ${detail}` : shown;
}

function baselinesText(row: MeasureRow): string {
  const parts = row.baselines.map((b) => (b === row.strongest && row.baselines.length > 1 ? `**${baseline(b)}**` : baseline(b)));
  for (const ref of row.unresolved) parts.push(`${ref}: not in this run`);
  return parts.join('; ') || '—';
}

export function summaryMarkdown(summary: RunSummary): string {
  const { run } = summary;
  const tree = run.dirty ? `**dirty**: ${run.dirtyPaths.map((p) => `\`${p}\``).join(', ')} differed from it` : 'clean';
  const lines = [
    `Run \`${run.id}\` (${run.startedAt.slice(0, 16).replace('T', ' ')} UTC), commit \`${run.commit.slice(0, 7)}\` (${tree}); every result of it in \`bench/results/${run.id}/\` (\`summary.json\`, one file per benchmark), chart below.${run.complete ? '' : ' **Partial run**: not every benchmark.'}`,
    '',
    `Environment, detected: ${cell(describeEnvironment(run.environment))}.`,
    '',
    '### Targets',
    '',
    '| target | set by | raw baseline, this run | measured | verdict |',
    '|---|---|---|---|---|',
    ...summary.targets.map((t) => {
      const baselines = t.baselines.map(baseline).join('; ') || 'none: an absolute target';
      const measured = t.checks.map((c) => c.measured).join('; ');
      const verdict = `**${t.verdict}**: ${t.checks.map((c) => c.verdict).join('; ')}`;
      return `| ${cell(t.label)} | ${cell(t.source ?? t.key)} | ${cell(baselines)} | ${cell(measured)} | ${cell(verdict)} |`;
    }),
    '',
    '### Measures',
    '',
    'Each ratio is Tributary ÷ the strongest raw baseline of the same run (in bold where there are several), named beside it.',
    '',
    '| benchmark | measure | raw baselines, this run | Tributary | ratio |',
    '|---|---|---|---|---|',
    ...summary.measures.map((row) => `| ${row.benchmark} | ${cell(row.measure.label)} | ${cell(baselinesText(row))} | ${cell(valueText(row))} | ${row.ratio !== undefined ? `${formatRatio(row.ratio)} × ${row.strongest?.id}` : '—'} |`),
    '',
  ];
  if (summary.missing.length > 0) lines.push(`No result from this run (failed or not run): ${summary.missing.map((b) => `\`${b}\``).join(', ')}.`, '');
  if (summary.withoutSummary.length > 0) lines.push(`Results without a summary block (bench/lib/result-format.ts), in the run's directory only: ${summary.withoutSummary.map((b) => `\`${b}\``).join(', ')}.`, '');
  lines.push(
    'Published figures, for scale (other hardware and workloads):',
    '',
    '| system | figure | source |',
    '|---|---|---|',
    ...PUBLISHED.map(([what, figure, source]) => `| ${what} | ${figure} | ${source} |`),
    '',
    '![throughput and latency](benchmarks.svg)',
  );
  return lines.join('\n');
}

/** One bar group per numeric measure that has baselines or bars of its own. */
export function chartGroups(summary: RunSummary): ChartGroup[] {
  const groups: ChartGroup[] = [];
  for (const row of summary.measures) {
    const { measure } = row;
    if (typeof measure.value !== 'number') continue;
    const bars = measure.chart ?? (row.baselines.length > 0 ? [...row.baselines.map((b) => [b.id, b.value] as const), ['Tributary', measure.value] as const] : undefined);
    if (bars) groups.push({ title: `${row.benchmark}: ${measure.label}`, unit: measure.unit ? ` ${measure.unit}` : '', bars });
  }
  return groups;
}
