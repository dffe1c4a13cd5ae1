/**
 * The report of one benchmark run: reads bench/results/<run>/run.json and the result files of that
 * run (bench/results/<run>/*.json, and bench/results/*.json whose `run` is its id — the format is in
 * bench/lib/result-format.ts), combines them (bench/lib/summary.ts: refuses another run's results,
 * ratios against the strongest raw baseline, target verdicts), writes bench/results/<run>/summary.json
 * and summary.svg and, for a run of every benchmark, copies the chart to docs/benchmarks.svg and
 * rewrites the summary between the markers in docs/benchmarks.md.
 *
 *   node --import tsx bench/lib/report.ts [<run id>]   (scripts/bench runs it last, with BENCH_RUN_ID)
 *
 * The run is the argument, else BENCH_RUN_ID, else the newest run in bench/results. A partial run
 * (`npm run bench -- fastdata`) leaves docs/ alone unless BENCH_UPDATE_DOCS=1.
 */
import { copyFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { barChart } from './chart.js';
import type { ResultFile, RunRecord } from './result-format.js';
import { combineRun, MixedRunError } from './summary.js';
import { chartGroups, summaryMarkdown } from './summary-markdown.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const RESULTS = path.join(ROOT, 'bench', 'results');
const relative = (file: string) => path.relative(ROOT, file);

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}

function newestRun(): string | undefined {
  const runs = readdirSync(RESULTS, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(RESULTS, d.name, 'run.json')))
    .map((d) => readJson(path.join(RESULTS, d.name, 'run.json')) as RunRecord | undefined)
    .filter((r): r is RunRecord => r !== undefined);
  return runs.sort((a, b) => a.startedAt.localeCompare(b.startedAt)).at(-1)?.id;
}

/** The run's own directory, and any file at the top of bench/results that names the run (a benchmark writing its own file). */
function resultsOf(id: string): Array<{ path: string; result: ResultFile }> {
  const dir = path.join(RESULTS, id);
  const own = readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'run.json' && f !== 'summary.json').map((f) => path.join(dir, f));
  const top = readdirSync(RESULTS).filter((f) => f.endsWith('.json')).map((f) => path.join(RESULTS, f));
  const inputs: Array<{ path: string; result: ResultFile }> = [];
  for (const file of own) inputs.push({ path: relative(file), result: readJson(file) as ResultFile });
  for (const file of top) {
    const result = readJson(file) as Partial<ResultFile> | undefined;
    if (result?.run === id) inputs.push({ path: relative(file), result: result as ResultFile });
  }
  return inputs;
}

function replaceSummary(markdown: string): void {
  const doc = path.join(ROOT, 'docs', 'benchmarks.md');
  const text = readFileSync(doc, 'utf8');
  const start = '<!-- bench:summary:start -->';
  const end = '<!-- bench:summary:end -->';
  if (!text.includes(start) || !text.includes(end)) throw new Error(`docs/benchmarks.md has no ${start} … ${end} markers`);
  const at = text.indexOf(start);
  const until = text.indexOf(end, at) + end.length;
  writeFileSync(doc, `${text.slice(0, at)}${start}\n${markdown}\n${end}${text.slice(until)}`);
}

function main(): void {
  const id = process.argv[2] ?? (process.env['BENCH_RUN_ID'] || newestRun());
  if (id === undefined) throw new Error('no run in bench/results (run `npm run bench`)');
  const dir = path.join(RESULTS, id);
  const run = readJson(path.join(dir, 'run.json')) as RunRecord | undefined;
  if (run === undefined) throw new Error(`bench/results/${id}/run.json is missing or not JSON`);
  const summary = combineRun(run, resultsOf(id));
  writeFileSync(path.join(dir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  const svg = barChart(`Tributary benchmarks, run ${run.id} (commit ${run.commit.slice(0, 7)}${run.dirty ? ', dirty' : ''})`, chartGroups(summary));
  writeFileSync(path.join(dir, 'summary.svg'), svg);
  for (const t of summary.targets) console.log(`  ${t.verdict.padEnd(12)} ${t.label}: ${t.checks.map((c) => c.verdict).join('; ')}`);
  const written = [`bench/results/${id}/summary.json`, `bench/results/${id}/summary.svg`];
  if (run.complete || process.env['BENCH_UPDATE_DOCS'] === '1') {
    copyFileSync(path.join(dir, 'summary.svg'), path.join(ROOT, 'docs', 'benchmarks.svg'));
    replaceSummary(summaryMarkdown(summary));
    written.push('docs/benchmarks.svg', 'docs/benchmarks.md (summary)');
  } else console.log('  a partial run: docs/benchmarks.md left alone (BENCH_UPDATE_DOCS=1 writes it anyway)');
  console.log(`report of run ${id}: ${written.join(', ')}`);
}

try {
  main();
} catch (error) {
  console.error(`[report] ${error instanceof MixedRunError ? 'refused: ' : ''}${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
