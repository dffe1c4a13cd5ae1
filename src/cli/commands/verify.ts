/**
 * `tributary verify <topology-file> <single-view>`: recomputes views from the stored projections
 * (all, or a sample), at a bounded rate, and reports every view that drifted from what its
 * definition computes; `--retrigger` sends an sv-trigger per drifted view so the running aggregate
 * stage repairs it.
 */
import pino from 'pino';
import { findView } from '../../fastdata/refresh/refresh-view.js';
import { retriggerDrifted, verifyViews, type VerifyReport } from '../../fastdata/refresh/verify-views.js';
import { createLogger } from '../../ops/logger.js';
import { MongoDocumentStore } from '../../store/mongo/mongo-store.js';
import { confluentRegistry } from '../../stream/serdes/registry.js';
import { kafkaTransport } from '../../stream/transport/kafka/kafka-transport.js';
import { usageError, type CommandSpec } from '../command.js';
import { readKafka, readLogLevel, readMongo, readProducerTuning, readRegistry } from '../config/sections.js';
import { GENERAL_WARN, KAFKA_CONNECTION, MONGO, PRODUCER_TUNING, REGISTRY } from '../config/settings.js';
import type { SettingSource } from '../config/source.js';
import { bad, boolean, integer, oneOf } from '../config/values.js';
import { kafkaTransportOptions } from '../kafka-client.js';
import { loadFastDataTopology } from './fast-data-file.js';

export const verifySpec: CommandSpec = {
  name: 'verify',
  summary: 'recompute views from the projections, report drifted ones (--retrigger repairs them)',
  positionals: ['<topology-file>', '<single-view>'],
  description: `Recomputes each view from the stored projections with the file's definition (the aggregate
stage's own code) and compares it with the stored document. A view that differs is checked again
after 2 s (the live stage may have been writing it); what still differs is reported: changed (with
the fields), missing (should exist), extra (should not exist).`,
  sections: [
    { title: 'Verify', keys: ['sample', 'seed', 'rate', 'batch-size', 'retrigger', 'format'], help: { rate: 'views recomputed per second at most, ≥ 0 (0 = no limit); default 500', 'batch-size': 'base documents per batch, ≥ 1; default 500', format: 'text|json, default text' } },
    { ...KAFKA_CONNECTION, help: { 'kafka-client-id': 'client id the brokers see; default <topology>-verify' }, note: 'Kafka only with --retrigger.' },
    REGISTRY,
    { ...MONGO, note: `${MONGO.note ?? ''} MONGODB_URL is required.`.trim() },
    { ...PRODUCER_TUNING, note: 'Read only with --retrigger.' },
    GENERAL_WARN,
  ],
  footer: 'Exit codes: 0 no drift, 3 drift found (also with --retrigger), 1 failed, 2 bad configuration, 130 interrupted.',
};

export async function verifyCommand(file: string, viewName: string, source: SettingSource, print: (line: string) => void): Promise<number> {
  const format = oneOf(source.get('format'), 'text', ['text', 'json'] as const);
  const [sampleSetting, sampleText] = source.get('sample');
  const sample = sampleText === undefined ? 1 : Number(sampleText);
  if (!(sample > 0 && sample <= 1)) bad(sampleSetting, sampleText ?? '', 'a number in (0, 1]');
  const rate = integer(source.get('rate'), 500, { min: 0 });
  const batchSize = integer(source.get('batch-size'), 500, { min: 1, max: 100_000 });
  const retrigger = boolean(source.get('retrigger'), false);
  const [, seed] = source.get('seed');
  const mongo = readMongo(source);
  if (!mongo) throw usageError('verify', 'verify reads the views and their projections: set MONGODB_URL or --mongo');
  const kafka = retrigger ? readKafka(source) : undefined;
  const producerTuning = retrigger ? readProducerTuning(source) : undefined;
  const registry = readRegistry(source);
  const logLevel = readLogLevel(source, 'warn');
  // Everything above is validated before the topology loads and anything connects.
  const fast = await loadFastDataTopology(file, 'verify');
  const view = findView(fast, viewName);
  const store = new MongoDocumentStore({ url: mongo.url, database: mongo.database });
  const abort = new AbortController();
  const interrupt = () => abort.abort();
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    await store.connect();
    const report = await verifyViews({ topology: fast, view: view.name, store, sample, ratePerSecond: rate, batchSize, signal: abort.signal, ...(seed ? { seed } : {}) });
    let retriggered = 0;
    if (kafka && report.drifted > 0) {
      const logger = createLogger({ level: logLevel, redactor: source.redactor, destination: pino.destination(2) }); // stdout carries the report
      const transport = kafkaTransport(kafkaTransportOptions(kafka, { clientId: `${fast.name}-verify`, logger, ...(producerTuning ? { producer: producerTuning } : {}) }));
      try {
        await transport.connect();
        const producer = await transport.producer({ idempotent: true });
        try {
          retriggered = await retriggerDrifted(fast, view.name, report.drifts, producer, registry ? confluentRegistry({ url: registry.url, ...(registry.auth ? { auth: registry.auth } : {}) }) : undefined);
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
