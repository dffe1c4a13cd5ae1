/**
 * `tributary refresh <topology-file> <single-view>`: rebuilds every view of a single view by sending
 * one sv-trigger per base-projection document (refreshSingleView), with a progress bar, a rate limit
 * and a checkpoint file so an interrupted refresh resumes where it stopped. The topology's aggregate
 * stage must be running (`tributary run`) to turn the triggers into views.
 */
import { resolve } from 'node:path';
import { TributaryError } from '../../errors.js';
import { fileCheckpoint } from '../../fastdata/refresh/checkpoint.js';
import { findView, refreshSingleView, type RefreshProgress } from '../../fastdata/refresh/refresh-view.js';
import type { FastDataTopology } from '../../fastdata/fast-data.js';
import { createLogger } from '../../ops/logger.js';
import { MongoDocumentStore } from '../../store/mongo/mongo-store.js';
import { confluentRegistry } from '../../stream/serdes/registry.js';
import { kafkaTransport } from '../../stream/transport/kafka/kafka-transport.js';
import type { CommandSpec } from '../command.js';
import { refreshConfig } from '../config.js';
import { GENERAL, KAFKA_CONNECTION, MONGO, PRODUCER_TUNING, REGISTRY } from '../config/settings.js';
import type { SettingSource } from '../config/source.js';
import { kafkaTransportOptions } from '../kafka-client.js';
import { loadTopology } from '../load-topology.js';
import { blueGreenAction, blueGreenCommand, blueGreenSettings } from './refresh-blue-green.js';

export const refreshSpec: CommandSpec = {
  name: 'refresh',
  summary: 'rebuild every view of a single view (batched, rate-limited, resumable)',
  positionals: ['<topology-file>', '<single-view>'],
  description: `Full refresh: sends one sv-trigger per document of the view's base projection (deleted ones too,
so views that should not exist are removed), in _id order, to <view>.sv-trigger. The topology's
aggregate stage ("tributary run", or --only aggregate) rebuilds each view as for a live change.
Progress is checkpointed after Kafka acknowledges each batch: run the same command again after an
interruption (Ctrl-C, a crash) and it continues from there.

Blue/green (a new definition of the view, without readers seeing a mix of shapes): --shadow builds
the file's definition beside the live view and reports the difference; --promote switches to it in
one step; --abandon drops it. --batch-size and --rate then count views built.`,
  sections: [
    { title: 'Refresh', keys: ['batch-size', 'rate', 'checkpoint', 'restart'] },
    { title: 'Blue/green', keys: ['shadow', 'promote', 'abandon', 'grace-ms', 'samples', 'format'], help: { format: 'report: text|json, default text' } },
    { ...KAFKA_CONNECTION, help: { 'kafka-client-id': 'client id the brokers see; default <topology>-refresh (--promote: <topology>-promote)' } },
    REGISTRY,
    { ...MONGO, note: `${MONGO.note ?? ''} MONGODB_URL is required.`.trim() },
    PRODUCER_TUNING,
    { ...GENERAL, help: { 'log-level': 'fatal|error|warn|info|debug|trace|silent, default warn (the progress is the output)' } },
  ],
  footer: 'Exit codes: 0 done, 1 failed, 2 bad configuration, 130 interrupted (checkpoint kept; a --shadow build is started over).',
};

/** One line of progress: a bar on a terminal (redrawn in place), plain lines otherwise. */
export function progressLine(p: RefreshProgress, width = 30): string {
  const fraction = p.total === 0 ? 1 : Math.min(1, p.sent / p.total);
  const filled = Math.round(fraction * width);
  const rate = p.elapsedMs > 0 ? (p.sentThisRun * 1000) / p.elapsedMs : 0;
  const remaining = rate > 0 ? Math.max(0, p.total - p.sent) / rate : undefined;
  const eta = remaining === undefined ? '' : ` ETA ${remaining < 60 ? `${Math.ceil(remaining)}s` : `${Math.floor(remaining / 60)}m${String(Math.ceil(remaining % 60)).padStart(2, '0')}s`}`;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.sent}/${p.total} ${(fraction * 100).toFixed(1)}% ${Math.round(rate)}/s${eta}`;
}

export async function refreshCommand(file: string, viewName: string, source: SettingSource, print: (line: string) => void): Promise<number> {
  const config = refreshConfig(source); // validated before anything connects
  const action = blueGreenAction(source.flags);
  const blueGreen = action ? blueGreenSettings(source) : undefined;
  const topology = await loadTopology(file);
  if (!('fastData' in topology)) throw new TributaryError('TRB_CONFIG', `${file} is not a Fast Data topology (fastData(...)): refresh rebuilds single views`);
  const fast = topology as FastDataTopology;
  const view = findView(fast, viewName);
  if (action && blueGreen) return blueGreenCommand(action, blueGreen, fast, view, config, print);
  const checkpoint = fileCheckpoint(resolve(config.checkpoint ?? `.tributary/refresh-${fast.name}-${view.name}.json`.replace(/[^A-Za-z0-9._/-]/g, '_')));
  const { batchSize, ratePerSecond: rate } = config;

  const logger = createLogger({ level: config.logLevel, redactor: config.redactor });
  const transport = kafkaTransport(kafkaTransportOptions(config.kafka, { clientId: `${fast.name}-refresh`, logger, producer: config.producer }));
  const store = new MongoDocumentStore({ url: config.mongo.url, database: config.mongo.database });
  const abort = new AbortController();
  const interrupt = () => abort.abort();
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);

  const tty = process.stdout.isTTY === true;
  let lastPrinted = 0;
  const onProgress = (p: RefreshProgress) => {
    if (p.sentThisRun === 0 && p.resumedFrom !== undefined) print(`resuming from ${checkpoint.location}: ${p.resumedFrom} of ${p.total} already sent`);
    if (tty) return void process.stdout.write(`\r${progressLine(p)}`);
    // Not a terminal (CI, a log file): a line every 2 s, not one per batch.
    if (p.elapsedMs - lastPrinted >= 2_000 || p.sent >= p.total) {
      lastPrinted = p.elapsedMs;
      print(progressLine(p));
    }
  };
  try {
    await store.connect();
    await transport.connect();
    const producer = await transport.producer({ idempotent: true });
    try {
      print(`refreshing ${view.name} of ${fast.name}: triggers to ${fast.fastData.topics.svTrigger(view)}, ${batchSize} per batch, ${rate ? `at most ${rate}/s` : 'no rate limit'}`);
      const result = await refreshSingleView({
        topology: fast,
        view: view.name,
        store,
        producer,
        batchSize,
        ratePerSecond: rate,
        checkpoint,
        restart: config.restart,
        signal: abort.signal,
        onProgress,
        ...(config.registry ? { registry: confluentRegistry({ url: config.registry.url, ...(config.registry.auth ? { auth: config.registry.auth } : {}) }) } : {}),
      });
      if (tty) process.stdout.write('\n');
      const seconds = (result.elapsedMs / 1000).toFixed(1);
      const skipped = result.skippedWithoutKey ? `; ${result.skippedWithoutKey} base documents have no complete view key and were skipped` : '';
      if (!result.completed) {
        print(`interrupted: ${result.sent} of ${result.total} sent; checkpoint kept in ${checkpoint.location} — run the same command to continue`);
        return 130;
      }
      print(`done: ${result.sentThisRun} triggers sent in ${seconds} s (${result.sent} in total for this refresh)${skipped}`);
      return 0;
    } finally {
      await producer.disconnect();
    }
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
    await transport.disconnect().catch(() => undefined);
    await store.close().catch(() => undefined);
  }
}
