/**
 * The report of one `npm run bench`: reads the result file each benchmark wrote in this run
 * (bench/results/<date>-<name>.json, matched by BENCH_RUN_ID), writes the combined
 * bench/results/<date>.json, draws bench/results/<date>.svg (copied to docs/benchmarks.svg) and
 * rewrites the summary between the markers in docs/benchmarks.md, with the published Fast Data and
 * kafkajs figures beside ours.
 *
 *   node --import tsx bench/lib/report.ts        (scripts/bench runs it last)
 */
import { existsSync, readFileSync, readdirSync, writeFileSync, copyFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { barChart, type ChartGroup } from './chart.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const RESULTS = path.join(ROOT, 'bench', 'results');
const RUN = process.env['BENCH_RUN_ID'];
const DATE = new Date().toISOString().slice(0, 10);

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- result files are read loosely; every field read is checked for presence

/** The result file of `name` written by this run (BENCH_RUN_ID); else its newest one (a benchmark rerun alone, `npm run bench -- <name>`). */
function latest(name: string): Json | undefined {
  const files = readdirSync(RESULTS).filter((f) => f.endsWith(`-${name}.json`) && /^\d{4}-\d{2}-\d{2}-/.test(f)).sort().reverse();
  const bodies: Json[] = files.map((file) => ({ ...(JSON.parse(readFileSync(path.join(RESULTS, file), 'utf8')) as Json), file: `bench/results/${file}` }));
  return bodies.find((b) => RUN && b['run'] === RUN) ?? bodies[0];
}

const n = (x: unknown) => (typeof x === 'number' ? x.toLocaleString('en-US').replaceAll(',', ' ') : '—');

/** Published figures, for scale (different hardware and workloads; see the notes). */
const PUBLISHED = [
  ['Fast Data Real-Time Updater, 1 replica (0.6 CPU), 2 projections + strategies', '≈ 167 events/s (10k/min)', 'Mia-Platform docs, fast_data/faq/bootstrapping_fast_data'],
  ['Fast Data initial load, 4 Kafka brokers, 3-node MongoDB, 6×8-core K8s', '≈ 1 000 events/s (60k/min)', 'Mia-Platform docs, benchmark_fast_data'],
  ['Fast Data Single View Creator, 1 replica (0.7 CPU), 1:N + custom function', '≈ 17 views/s (1k/min)', 'Mia-Platform docs, bootstrapping_fast_data'],
  ['kafkajs consumer, eachBatch / eachMessage (maintainer, 2019)', '≈ 80 000 / 65 000 msg/s', 'tulios/kafkajs#242'],
] as const;

function main(): void {
  const fastdata = latest('fastdata');
  const e2e = latest('end-to-end');
  const kc = latest('key-concurrency');
  const backlog = latest('backlog');
  const serve = latest('serve');
  const passThrough = latest('pass-through');
  const patchFanout = latest('patch-fanout');
  const rawIngest: number | undefined = fastdata?.['best']?.['ingest']?.['raw'];
  const fixed = ((e2e?.['results'] ?? []) as Json[]).filter((r) => r['mode'] === 'fixed');
  const max = ((e2e?.['results'] ?? []) as Json[]).find((r) => r['mode'] === 'max');
  const ratio = (x: number | undefined, y: number | undefined) => (x && y ? +(x / y).toFixed(2) : undefined);

  const summary = {
    date: DATE,
    run: RUN ?? null,
    files: [fastdata, e2e, kc, backlog, serve, passThrough, patchFanout].filter(Boolean).map((x) => x?.['file']),
    rawIngestCeiling: rawIngest,
    ingest: { tributary: fastdata?.['best']?.['ingest']?.['tributary'], ratio: fastdata?.['ratios']?.['ingest'] },
    views: fastdata?.['best']?.['views'],
    endToEnd: { fixed, max, maxRatioToRawIngest: ratio(max?.['eventsPerSecond'], rawIngest) },
    keyConcurrency: kc ? { results: kc['results'], ratios: kc['ratios'] } : undefined,
    backlog: ((backlog?.['results'] ?? (backlog?.['result'] ? [backlog['result']] : [])) as Json[]).map((b) => ({ ...b, samples: undefined })),
    serve: serve?.['best'] ? { ratio: serve['ratio'] } : undefined,
    passThrough: passThrough?.['best'],
    patchFanout: patchFanout ? { results: patchFanout['results'], ratios: patchFanout['ratios'] } : undefined,
  };
  writeFileSync(path.join(RESULTS, `${DATE}.json`), `${JSON.stringify(summary, null, 2)}\n`);

  const groups: ChartGroup[] = [];
  if (fastdata) groups.push({ title: 'ingest, events/s (Kafka → FerretDB)', unit: '/s', bars: [['raw kafkajs → bulkWrite', rawIngest ?? 0], ['Tributary ingest', summary.ingest.tributary ?? 0], ...(max ? [['Tributary end to end', max['eventsPerSecond']] as [string, number]] : [])] });
  if (fastdata) groups.push({ title: 'views/s (FerretDB)', unit: '/s', bars: [['raw lookups → bulkWrite', summary.views?.['raw'] ?? 0], ['Tributary aggregate', summary.views?.['tributary'] ?? 0]] });
  if (kc) groups.push({ title: 'records/s with 2 ms I/O per record', unit: '/s', bars: (kc['results'] as Json[]).map((r) => [String(r['phase']), Number(r['perSecond'])] as [string, number]) });
  for (const f of fixed) groups.push({ title: `CDC → view latency at ${f['offeredPerSecond']} events/s offered${f['sustained'] ? '' : ' (not sustained)'}`, unit: ' ms', bars: [['p50', f['latencyMs']['p50']], ['p95', f['latencyMs']['p95']], ['p99', f['latencyMs']['p99']]] });
  for (const b of (backlog?.['results'] ?? (backlog?.['result'] ? [backlog['result']] : [])) as Json[]) {
    groups.push({ title: `worker RSS catching up on a ${n(b['backlog'])}-event backlog (heap: ${b['heap'] ?? 'Node default'})`, unit: ' MiB', bars: Object.entries(b['rssAt'] as Record<string, number>).map(([k, v]) => [`at ${k} of the run`, v] as [string, number]) });
  }
  const svg = barChart(`Tributary benchmarks, ${DATE}`, groups);
  const svgFile = path.join(RESULTS, `${DATE}.svg`);
  writeFileSync(svgFile, svg);
  copyFileSync(svgFile, path.join(ROOT, 'docs', 'benchmarks.svg'));

  const lines = [
    `Last \`npm run bench\`: ${DATE}${RUN ? ` (run ${RUN})` : ''}; results \`bench/results/${DATE}.json\`, chart below. 2 vCPU; Kafka 4.3.1 and FerretDB 1.24.2 on PostgreSQL 15 on the same machine (scripts/infra).`,
    '',
    '| measure | raw baseline (measured by the same benchmark) | Tributary | ratio |',
    '|---|---|---|---|',
    `| ingest: CDC → projections + pr-update (bench/fastdata.ts) | ${n(rawIngest)} events/s | ${n(summary.ingest.tributary)} events/s | ${summary.ingest.ratio ?? '—'} |`,
    `| views: sv-trigger → single views | ${n(summary.views?.['raw'])} views/s | ${n(summary.views?.['tributary'])} views/s | ${ratio(summary.views?.['tributary'], summary.views?.['raw']) ?? '—'} |`,
    ...(max ? [`| end to end, max throughput (bench/end-to-end.ts) | ${n(rawIngest)} events/s (raw ingest of bench/fastdata.ts) | ${n(max['eventsPerSecond'])} events/s, ${n(max['viewsPerSecond'])} view writes/s, peak RSS ${max['peakRssMiB']} MiB | ${summary.endToEnd.maxRatioToRawIngest ?? '—'} |`] : []),
    ...fixed.map((f) => `| end to end at ${n(f['offeredPerSecond'])} events/s offered, CDC → view | — | p50 ${n(f['latencyMs']['p50'])} ms, p95 ${n(f['latencyMs']['p95'])} ms, p99 ${n(f['latencyMs']['p99'])} ms; ${f['sustained'] ? 'sustained' : `**not sustained** (drained ${f['drainSeconds']} s after the load)`}; ${n(f['eventsPerSecond'])} events/s through | — |`),
    ...(kc ? (() => {
      const [raw, off, on] = kc['results'] as Json[];
      return [`| 2 ms I/O per record, key concurrency off / on (${kc['parameters']?.['keyConcurrency']}) (bench/key-concurrency.ts) | ${n(raw?.['perSecond'])} records/s | ${n(off?.['perSecond'])} / ${n(on?.['perSecond'])} records/s | ${kc['ratios']?.['offVsRaw']} / ${kc['ratios']?.['onVsRaw']} |`];
    })() : []),
    ...((backlog?.['results'] ?? (backlog?.['result'] ? [backlog['result']] : [])) as Json[]).map((b) => `| memory catching up on ${n(b['backlog'])} waiting events, heap ${b['heap'] ?? 'Node default'} (bench/backlog.ts) | — | peak RSS ${b['peakRssMiB']} MiB (target < 300), trend ${b['slopeSecondHalfMiBPerMinute']} MiB/min over the second half; ${n(b['processed'])} events in ${b['seconds']} s | — |`),
    ...(serve?.['ratio'] !== undefined ? [`| read API: GET ?_l=200 vs find().limit(200) (bench/serve.ts) | — | — | ${serve['ratio']} |`] : []),
    ...(patchFanout ? (() => {
      const [store, patch, reaggregate] = patchFanout['results'] as Json[];
      return [`| one product renamed, held by ${n(patch?.['views'])} views: until all show it (bench/patch-fanout.ts) | re-aggregation: ${n(reaggregate?.['allUpdatedMs'])} ms (store work alone ${n(store?.['reaggregateMs'])} ms) | patch: ${n(patch?.['allUpdatedMs'])} ms (store work alone ${n(store?.['patchMs'])} ms) | ${patchFanout['ratios']?.['endToEndReaggregateVsPatch']}× faster |`];
    })() : []),
    ...(passThrough?.['best'] ? [`| pass-through, 1 KiB records (bench/pass-through.ts) | ${n(passThrough['best']['raw']?.['recordsPerSecond'])} records/s | ${n(passThrough['best']['tributary']?.['recordsPerSecond'])} records/s | ${passThrough['best']['ratio']} |`] : []),
    '',
    'Published figures, for scale (other hardware and workloads):',
    '',
    '| system | figure | source |',
    '|---|---|---|',
    ...PUBLISHED.map(([what, figure, source]) => `| ${what} | ${figure} | ${source} |`),
    '',
    '![throughput and latency](benchmarks.svg)',
  ];
  const doc = path.join(ROOT, 'docs', 'benchmarks.md');
  const text = readFileSync(doc, 'utf8');
  const start = '<!-- bench:summary:start -->';
  const end = '<!-- bench:summary:end -->';
  const block = `${start}\n${lines.join('\n')}\n${end}`;
  writeFileSync(doc, text.includes(start) ? text.replace(new RegExp(`${start}[\\s\\S]*?${end}`), block) : text.replace(/\n## /, `\n## Summary\n\n${block}\n\n## `));
  console.log(`report: bench/results/${DATE}.json, bench/results/${DATE}.svg, docs/benchmarks.svg, docs/benchmarks.md summary`);
  if (!existsSync(svgFile)) process.exitCode = 1;
}

main();
