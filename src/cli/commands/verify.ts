/**
 * `tributary verify <topology-file> <single-view>`: recomputes views from the stored projections
 * (all, or a sample), at a bounded rate, and reports every view that drifted from what its
 * definition computes; `--retrigger` sends an sv-trigger per drifted view so the running aggregate
 * stage repairs it.
 */
import pino from 'pino';
import { TributaryError } from '../../errors.js';
import type { FastDataTopology } from '../../fastdata/fast-data.js';
import { findView } from '../../fastdata/refresh/refresh-view.js';
import { retriggerDrifted, verifyViews, type VerifyReport } from '../../fastdata/refresh/verify-views.js';
import { createLogger } from '../../ops/logger.js';
import { MongoDocumentStore } from '../../store/mongo/mongo-store.js';
import { confluentRegistry } from '../../stream/serdes/registry.js';
import { kafkaTransport } from '../../stream/transport/kafka/kafka-transport.js';
import { loadConfig, type ConfigSource } from '../config.js';
import { loadTopology } from '../load-topology.js';
import { kafkaSecurityOptions } from '../security-config.js';

export const verifyHelp = `Usage: tributary verify <topology-file> <single-view> [options]

Recomputes each view from the stored projections with the file's definition (the aggregate
stage's own code) and compares it with the stored document. A view that differs is checked again
after 2 s (the live stage may have been writing it); what still differs is reported: changed (with
the fields), missing (should exist), extra (should not exist).

Options:
  --sample <f>           share of the views to check, 0 < f <= 1, default 1 (all)
  --seed <text>          picks the sample (the same seed checks the same views), default random
  --rate <n>             views recomputed per second at most, default 500 (0 = no limit)
  --batch-size <n>       base documents per batch, default 500
  --retrigger            send an sv-trigger per drifted view (the running aggregate stage rebuilds it)
  --format text|json     default text
  --kafka-brokers, --registry, --mongo, --mongo-database, --config, the security settings:
  as for "tributary run" (Kafka only with --retrigger).

Exit codes: 0 no drift, 3 drift found (also with --retrigger), 1 failed, 2 bad configuration,
130 interrupted.`;

function numberFlag(setting: string, value: string | undefined, fallback: number, check: (n: number) => boolean, accepted: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || !check(n)) throw new TributaryError('TRB_CONFIG', `invalid ${setting}=${JSON.stringify(value)}: expected ${accepted}`, { context: { setting, value } });
  return n;
}

export async function verifyCommand(file: string | undefined, viewName: string | undefined, flags: ConfigSource, env: ConfigSource, print: (line: string) => void): Promise<number> {
  if (!file || !viewName) throw new TributaryError('TRB_CONFIG', `missing ${file ? '<single-view>' : '<topology-file>'}\n\n${verifyHelp}`);
  const format = flags['format'] ?? 'text';
  if (format !== 'text' && format !== 'json') throw new TributaryError('TRB_CONFIG', `invalid --format=${JSON.stringify(format)}: expected text, json`);
  const config = loadConfig(env, flags);
  const sample = numberFlag('--sample', flags['sample'], 1, (n) => n > 0 && n <= 1, 'a number in (0, 1]');
  const rate = numberFlag('--rate', flags['rate'], 500, (n) => Number.isInteger(n) && n >= 0, 'an integer ≥ 0');
  const batchSize = numberFlag('--batch-size', flags['batch-size'], 500, (n) => Number.isInteger(n) && n >= 1, 'an integer ≥ 1');
  if (!config.mongoUrl) throw new TributaryError('TRB_CONFIG', `verify reads the views and their projections: set MONGODB_URL or --mongo\n\n${verifyHelp}`);
  const topology = await loadTopology(file);
  if (!('fastData' in topology)) throw new TributaryError('TRB_CONFIG', `${file} is not a Fast Data topology (fastData(...))`);
  const fast = topology as FastDataTopology;
  const view = findView(fast, viewName);
  const store = new MongoDocumentStore({ url: config.mongoUrl, database: config.mongoDatabase });
  const abort = new AbortController();
  const interrupt = () => abort.abort();
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    await store.connect();
    const report = await verifyViews({ topology: fast, view: view.name, store, sample, ratePerSecond: rate, batchSize, signal: abort.signal, ...(flags['seed'] ? { seed: flags['seed'] } : {}) });
    let retriggered = 0;
    if (flags['retrigger'] === 'true' && report.drifted > 0) {
      const logger = createLogger({ level: config.logLevel === 'info' ? 'warn' : config.logLevel, secrets: config.secrets, destination: pino.destination(2) }); // stdout carries the report
      const transport = kafkaTransport({ brokers: config.kafkaBrokers, clientId: `${fast.name}-verify`, logger, ...kafkaSecurityOptions(config.kafkaSecurity) });
      try {
        await transport.connect();
        const producer = await transport.producer({ idempotent: true });
        try {
          const registry = config.registryUrl ? confluentRegistry({ url: config.registryUrl, ...(config.registryAuth ? { auth: config.registryAuth } : {}) }) : undefined;
          retriggered = await retriggerDrifted(fast, view.name, report.drifts, producer, registry);
        } finally {
          await producer.disconnect();
        }
      } finally {
        await transport.disconnect().catch(() => undefined);
      }
    }
    if (format === 'json') print(JSON.stringify({ ...report, retriggered }));
    else for (const line of reportLines(report, retriggered, fast.fastData.topics.svTrigger(view))) print(line);
    if (!report.complete) return 130;
    return report.drifted > 0 ? 3 : 0;
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
    await store.close().catch(() => undefined);
  }
}

export function reportLines(r: VerifyReport, retriggered: number, triggerTopic: string): string[] {
  const unverifiable = Object.entries(r.unverifiable);
  return [
    `verified ${r.view} with definition ${r.definition} (live: ${r.liveDefinition ?? 'not recorded'}): ${r.checked} views checked${r.sample < 1 ? ` (sample ${r.sample})` : ''} in ${(r.elapsedMs / 1000).toFixed(1)} s${r.complete ? '' : ' — INTERRUPTED'}`,
    ...(r.liveDefinition && r.liveDefinition !== r.definition ? [`  warning: the live definition is ${r.liveDefinition}, not this file's: every view may differ`] : []),
    ...(unverifiable.length ? [`  could not recompute: ${unverifiable.map(([k, n]) => `${k} ${n}`).join(', ')}`] : []),
    `  drifted: ${r.drifted}`,
    ...r.drifts.map((d) => `  ${d.kind} ${JSON.stringify(d.key)}${d.fields.length ? ` fields ${d.fields.join(', ')}` : ''}`),
    ...(retriggered ? [`  re-triggered ${retriggered} views on ${triggerTopic}`] : []),
  ];
}
