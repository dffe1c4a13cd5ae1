/**
 * The benchmark report (bench/lib/summary.ts, bench/lib/summary-markdown.ts) on fixture result files
 * (test/fixtures/bench): it refuses results of different runs, divides each measure by its
 * strongest raw baseline of the same run and names it, and renders every target met, missed (with
 * the margin) or not measured. No service, no benchmark run.
 */
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ResultFile, RunRecord } from '../../bench/lib/result-format.js';
import { combineRun, MixedRunError, strongestBaseline, type RunSummary } from '../../bench/lib/summary.js';
import { chartGroups, summaryMarkdown } from '../../bench/lib/summary-markdown.js';

const fixture = <T>(name: string): T => JSON.parse(readFileSync(new URL(`../fixtures/bench/${name}`, import.meta.url), 'utf8')) as T;
const run = fixture<RunRecord>('run.json');
const file = (name: string) => ({ path: `bench/results/${run.id}/${name}`, result: fixture<ResultFile>(name) });
const wholeRun = () => ['fastdata.json', 'end-to-end.json', 'backlog.json', 'pass-through.json', 'recovery.json'].map(file);
const target = (summary: RunSummary, key: string) => summary.targets.find((t) => t.key === key) ?? assert.fail(`no target ${key}`);
const measure = (summary: RunSummary, key: string) => summary.measures.find((m) => `${m.benchmark}/${m.measure.id}` === key) ?? assert.fail(`no measure ${key}`);

describe('bench report: one run only', () => {
  it('refuses a result of another run, naming the file and both runs', () => {
    assert.throws(
      () => combineRun(run, [file('fastdata-other-run.json'), file('end-to-end.json')]),
      (e: unknown) => e instanceof MixedRunError && e.message.includes('fastdata-other-run.json') && e.message.includes('20261204T100000') && e.message.includes(run.id),
    );
  });

  it('refuses a result stamped with the run id but another commit or tree state', () => {
    const otherCommit = { ...fixture<ResultFile>('fastdata.json'), git: { commit: 'fedcba9876543210fedcba9876543210fedcba98', dirty: false } };
    assert.throws(() => combineRun(run, [{ path: 'a.json', result: otherCommit }]), (e: unknown) => e instanceof MixedRunError && e.message.includes('fedcba9'));
    const dirty = { ...fixture<ResultFile>('fastdata.json'), git: { commit: run.commit, dirty: true } };
    assert.throws(() => combineRun(run, [{ path: 'b.json', result: dirty }]), (e: unknown) => e instanceof MixedRunError && e.message.includes('+dirty'));
  });

  it('refuses two results of one benchmark in a run', () => {
    assert.throws(() => combineRun(run, [file('fastdata.json'), { path: 'bench/results/2026-12-05-fastdata.json', result: fixture<ResultFile>('fastdata.json') }]), (e: unknown) => e instanceof MixedRunError && e.message.includes('two results of fastdata'));
  });

  it('lists the benchmarks of the run that wrote no result, and the results without a summary block', () => {
    const summary = combineRun(run, wholeRun());
    assert.deepEqual(summary.missing, ['key-concurrency', 'serve']);
    assert.deepEqual(summary.withoutSummary, ['recovery']);
    assert.equal(summary.files.length, 5);
  });
});

describe('bench report: the strongest baseline', () => {
  it('divides ingest by the raw loop that also compacts per key when it is the faster one, and names it', () => {
    const ingest = measure(combineRun(run, wholeRun()), 'fastdata/ingest');
    assert.equal(ingest.strongest?.id, 'raw-ingest-last');
    assert.equal(ingest.strongest?.value, 729);
    assert.equal(ingest.ratio, 0.568); // 414 / 729, not 414 / 576 = 0.719
    assert.equal(ingest.baselines.length, 2);
  });

  it('takes the lowest figure when lower is better', () => {
    const b = (id: string, value: number) => ({ id, label: id, value, unit: 'ms', benchmark: 'x' });
    assert.equal(strongestBaseline([b('slow', 40), b('fast', 12), b('mid', 20)], 'lower')?.id, 'fast');
    assert.equal(strongestBaseline([b('slow', 40), b('fast', 12)], 'higher')?.id, 'slow');
    assert.equal(strongestBaseline([], 'higher'), undefined);
  });

  it("resolves a ref to another benchmark's strongest baseline of the same run, and reports it unresolved when that benchmark is absent", () => {
    const max = measure(combineRun(run, wholeRun()), 'end-to-end/max');
    assert.equal(max.strongest?.id, 'raw-ingest-last');
    assert.equal(max.strongest?.benchmark, 'fastdata');
    assert.equal(max.ratio, 0.8); // 583 / 729
    const alone = measure(combineRun(run, [file('end-to-end.json')]), 'end-to-end/max');
    assert.equal(alone.ratio, undefined);
    assert.deepEqual(alone.unresolved, ['fastdata/ingest']);
  });
});

describe('bench report: verdicts', () => {
  const summary = combineRun(run, wholeRun());

  it('puts the four targets of issue #16 item 4 first, in order', () => {
    assert.deepEqual(summary.targets.slice(0, 4).map((t) => t.key), ['fastdata/ingest', 'fastdata/views', 'end-to-end/latency-1000', 'backlog/rss']);
  });

  it('ingest: missed, with the margin and the rate that would meet it', () => {
    const ingest = target(summary, 'fastdata/ingest');
    assert.equal(ingest.verdict, 'missed');
    assert.equal(ingest.checks[0]?.verdict, '0.568 < 0.800, short by 0.232 (29.0 %); needs ≥ 583.2 events/s');
    assert.equal(ingest.checks[0]?.measured, '414 events/s = 0.568 × raw-ingest-last (729 events/s)');
    assert.deepEqual(ingest.baselines.map((b) => b.id), ['raw-ingest-last']);
  });

  it('views: met, by how much', () => {
    const views = target(summary, 'fastdata/views');
    assert.equal(views.verdict, 'met');
    assert.equal(views.checks[0]?.verdict, '1 850 views/s ≥ 1 700 views/s, by 150 views/s (8.8 %)');
  });

  it('end to end: missed when one of its checks fails, each check judged, with the raw ingest ceiling beside it', () => {
    const e2e = target(summary, 'end-to-end/latency-1000');
    assert.equal(e2e.verdict, 'missed');
    assert.deepEqual(e2e.checks.map((c) => c.holds), [true, false]);
    assert.equal(e2e.checks[1]?.verdict, 'p99: 312 ms > 250 ms, short by 62 ms (24.8 %)');
    assert.deepEqual(e2e.baselines.map((b) => `${b.benchmark}/${b.id}=${b.value}`), ['fastdata/raw-ingest-last=729']);
  });

  it('backlog: met when every check holds', () => {
    const backlog = target(summary, 'backlog/rss');
    assert.equal(backlog.verdict, 'met');
    assert.equal(backlog.checks[0]?.verdict, 'peak RSS: 262.4 MB < 300 MB, by 37.6 MB (12.5 %)');
  });

  it('a headline target absent from the run is "not measured", never left out', () => {
    const partial = combineRun(run, [file('fastdata.json')]);
    assert.deepEqual(partial.targets.map((t) => `${t.key}:${t.verdict}`), ['fastdata/ingest:missed', 'fastdata/views:met', 'end-to-end/latency-1000:not measured', 'backlog/rss:not measured']);
  });

  it('reads the pass-through result without a summary block (best, and clients when present)', () => {
    assert.equal(target(summary, 'pass-through/ratio-kafkajs').verdict, 'missed');
    assert.equal(target(summary, 'pass-through/ratio-platformatic').verdict, 'met');
    assert.equal(measure(summary, 'pass-through/pass-through-platformatic').ratio, 0.95);
  });
});

describe('bench report: the Markdown summary and the chart', () => {
  const markdown = summaryMarkdown(combineRun(run, wholeRun()));

  it('names the run, its commit and tree state, and the detected environment', () => {
    assert.match(markdown, /Run `20261205T190000` \(2026-12-05 19:00 UTC\), commit `0123456` \(clean\)/);
    assert.match(markdown, /bench\/results\/20261205T190000\//);
    assert.match(markdown, /2 × Example CPU 9000; 23.5 GiB memory; Debian GNU\/Linux 12 \(bookworm\), Linux 6.1.0 x64; Node v20.20.2; Kafka 4.3.1, 1 broker; store: DocumentDB 0.106-0 \(gateway reports MongoDB 7.0.0\) on PostgreSQL 15.20 \(Debian 15.20-0\+deb12u1\)/);
  });

  it('renders each verdict and each ratio with its baseline', () => {
    assert.match(markdown, /\| ingest ≥ 0.8 × the raw ceiling \| issue #16 item 4 \| raw-ingest-last \(the same, writing each key's last record per batch\): 729 events\/s \| 414 events\/s = 0.568 × raw-ingest-last \(729 events\/s\) \| \*\*missed\*\*: 0.568 < 0.800/);
    assert.match(markdown, /\*\*met\*\*: 1 850 views\/s ≥ 1 700 views\/s/);
    assert.match(markdown, /\*\*missed\*\*: sustained: yes; p99: 312 ms > 250 ms/);
    assert.match(markdown, /\| fastdata \| ingest: CDC → projections \+ pr-update \(Kafka → store\) \| raw-ingest \(bare kafkajs eachBatch → bulkWrite of every record\): 576 events\/s; \*\*raw-ingest-last [^|]*: 729 events\/s\*\* \| 414 events\/s \| 0.568 × raw-ingest-last \|/);
  });

  it('says which benchmarks wrote nothing and which have no summary block', () => {
    assert.match(markdown, /No result from this run \(failed or not run\): `key-concurrency`, `serve`\./);
    assert.match(markdown, /without a summary block[^\n]*`recovery`/);
  });

  it('a dirty run names the files that differed', () => {
    const dirtyRun: RunRecord = { ...run, dirty: true, dirtyPaths: ['src/fastdata/ingest.ts'] };
    const results = [file('fastdata.json')].map(({ path, result }) => ({ path, result: { ...result, git: { commit: run.commit, dirty: true } } }));
    assert.match(summaryMarkdown(combineRun(dirtyRun, results)), /\(\*\*dirty\*\*: `src\/fastdata\/ingest.ts` differed from it\)/);
  });

  it('draws baselines and Tributary side by side, and a measure\'s own bars', () => {
    const groups = chartGroups(combineRun(run, wholeRun()));
    const ingest = groups.find((g) => g.title.startsWith('fastdata: ingest'));
    assert.deepEqual(ingest?.bars, [['raw-ingest', 576], ['raw-ingest-last', 729], ['Tributary', 414]]);
    assert.deepEqual(groups.find((g) => g.title.includes('p99'))?.bars, [['p50', 120], ['p95', 250], ['p99', 312]]);
  });
});
