/**
 * `tributary refresh <topology-file> <single-view>`: rebuilds every view of a single view by sending
 * one sv-trigger per base-projection document (refreshSingleView), with a progress bar, a rate limit
 * and a checkpoint file so an interrupted refresh resumes where it stopped. The topology's aggregate
 * stage must be running (`tributary run`) to turn the triggers into views.
 */
import { resolve } from 'node:path';
import pino from 'pino';
import { TributaryError } from '../../errors.js';
import { fileCheckpoint } from '../../fastdata/refresh/checkpoint.js';
import { findView, refreshSingleView, type RefreshProgress } from '../../fastdata/refresh/refresh-view.js';
import type { FastDataTopology } from '../../fastdata/fast-data.js';
import type { SingleView } from '../../fastdata/singleview/single-view.js';
import { createLogger } from '../../ops/logger.js';
import { MongoDocumentStore } from '../../store/mongo/mongo-store.js';
import { confluentRegistry } from '../../stream/serdes/registry.js';
import { kafkaTransport } from '../../stream/transport/kafka/kafka-transport.js';
import { loadConfig, type ConfigSource } from '../config.js';
import { loadTopology } from '../load-topology.js';
import { kafkaSecurityOptions } from '../security-config.js';
import { blueGreenAction, runBlueGreen, type BlueGreenAction } from './refresh-blue-green.js';

export const refreshHelp = `Usage: tributary refresh <topology-file> <single-view> [options]
       tributary refresh <topology-file> <single-view> --shadow | --promote | --abandon [options]

Full refresh: sends one sv-trigger per document of the view's base projection (deleted ones too,
so views that should not exist are removed), in _id order, to <view>.sv-trigger. The topology's
aggregate stage ("tributary run", or --only aggregate) rebuilds each view as for a live change.
Progress is checkpointed after Kafka acknowledges each batch: run the same command again after an
interruption (Ctrl-C, a crash) and it continues from there.

Blue/green (a new definition of the view, without readers seeing a mix of shapes):
  --shadow               build the file's definition into <view>__shadow from the projections while
                         the live view keeps serving and updating; print the diff against it
                         (changed, added, removed, samples) and the validation failures
  --promote              catch up, fence every writer of the view, switch the shadow in (one rename),
                         send an sv-update per changed view, record the definition as live; processes
                         running another definition then wait (TRB_FENCED) until replaced
  --abandon              drop the shadow
  --grace-ms <n>         --promote: wait after fencing for writes already under way, default 5000
  --samples <n>          sample documents per kind of difference, default 3
  --format text|json     report format, default text

Options:
  --batch-size <n>       documents read and triggered per batch, default 500
  --rate <n>             triggers per second at most, default 1000 (0 = no limit); live triggers
                         share the topic, so an unbounded refresh delays them
  --checkpoint <file>    default .tributary/refresh-<topology>-<view>.json
  --restart              ignore an existing checkpoint and start from the first document
  --kafka-brokers, --registry, --mongo, --mongo-database, --config, the security settings and
  their environment variables: as for "tributary run" (see "tributary run --help").

Exit codes: 0 done, 1 failed, 2 bad configuration, 130 interrupted (checkpoint kept).`;

function positiveInteger(setting: string, value: string | undefined, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1)) {
    throw new TributaryError('TRB_CONFIG', `invalid ${setting}=${JSON.stringify(value)}: expected an integer ${allowZero ? '≥ 0' : '≥ 1'}`, { context: { setting, value } });
  }
  return n;
}

/** One line of progress: a bar on a terminal (redrawn in place), plain lines otherwise. */
export function progressLine(p: RefreshProgress, width = 30): string {
  const fraction = p.total === 0 ? 1 : Math.min(1, p.sent / p.total);
  const filled = Math.round(fraction * width);
  const rate = p.elapsedMs > 0 ? (p.sentThisRun * 1000) / p.elapsedMs : 0;
  const remaining = rate > 0 ? Math.max(0, p.total - p.sent) / rate : undefined;
  const eta = remaining === undefined ? '' : ` ETA ${remaining < 60 ? `${Math.ceil(remaining)}s` : `${Math.floor(remaining / 60)}m${String(Math.ceil(remaining % 60)).padStart(2, '0')}s`}`;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.sent}/${p.total} ${(fraction * 100).toFixed(1)}% ${Math.round(rate)}/s${eta}`;
}

export async function refreshCommand(file: string | undefined, viewName: string | undefined, flags: ConfigSource, env: ConfigSource, print: (line: string) => void): Promise<number> {
  if (!file || !viewName) throw new TributaryError('TRB_CONFIG', `missing ${file ? '<single-view>' : '<topology-file>'}\n\n${refreshHelp}`);
  const config = loadConfig(env, flags); // validated before anything connects
  const batchSize = positiveInteger('--batch-size', flags['batch-size'], 500);
  const rate = positiveInteger('--rate', flags['rate'], 1000, true);
  if (!config.mongoUrl) throw new TributaryError('TRB_CONFIG', `refresh reads the base projection: set MONGODB_URL or --mongo\n\n${refreshHelp}`);
  const topology = await loadTopology(file);
  if (!('fastData' in topology)) throw new TributaryError('TRB_CONFIG', `${file} is not a Fast Data topology (fastData(...)): refresh rebuilds single views`);
  const fast = topology as FastDataTopology;
  const view = findView(fast, viewName);
  const action = blueGreenAction(flags);
  if (action) return blueGreenCommand(action, fast, view, config, flags, print);
  const checkpoint = fileCheckpoint(resolve(flags['checkpoint'] ?? `.tributary/refresh-${fast.name}-${view.name}.json`.replace(/[^A-Za-z0-9._/-]/g, '_')));

  const logger = createLogger({ level: config.logLevel === 'info' ? 'warn' : config.logLevel, secrets: config.secrets });
  const transport = kafkaTransport({ brokers: config.kafkaBrokers, clientId: `${fast.name}-refresh`, logger, ...kafkaSecurityOptions(config.kafkaSecurity) });
  const store = new MongoDocumentStore({ url: config.mongoUrl, database: config.mongoDatabase });
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
        restart: flags['restart'] === 'true',
        signal: abort.signal,
        onProgress,
        ...(config.registryUrl ? { registry: confluentRegistry({ url: config.registryUrl, ...(config.registryAuth ? { auth: config.registryAuth } : {}) }) } : {}),
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

async function blueGreenCommand(action: BlueGreenAction, fast: FastDataTopology, view: SingleView, config: ReturnType<typeof loadConfig>, flags: ConfigSource, print: (line: string) => void): Promise<number> {
  const format = flags['format'] ?? 'text';
  if (format !== 'text' && format !== 'json') throw new TributaryError('TRB_CONFIG', `invalid --format=${JSON.stringify(format)}: expected text, json`);
  const settings = {
    batchSize: positiveInteger('--batch-size', flags['batch-size'], 500),
    rate: positiveInteger('--rate', flags['rate'], 1000, true),
    samples: positiveInteger('--samples', flags['samples'], 3, true),
    graceMs: positiveInteger('--grace-ms', flags['grace-ms'], 5000, true),
  };
  const logger = createLogger({ level: config.logLevel === 'info' ? 'warn' : config.logLevel, secrets: config.secrets, destination: pino.destination(2) }); // stdout carries the report
  const store = new MongoDocumentStore({ url: config.mongoUrl as string, database: config.mongoDatabase });
  // Kafka only for --promote, and only when the view sends sv-updates.
  const transport = action === 'promote' && fast.fastData.topics.svUpdate(view)
    ? kafkaTransport({ brokers: config.kafkaBrokers, clientId: `${fast.name}-promote`, logger, ...kafkaSecurityOptions(config.kafkaSecurity) })
    : undefined;
  const abort = new AbortController();
  const interrupt = () => abort.abort();
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    await store.connect();
    if (transport) await transport.connect();
    return await runBlueGreen({
      action,
      topology: fast,
      view: view.name,
      store,
      ...settings,
      json: format === 'json',
      signal: abort.signal,
      print,
      ...(transport ? { producer: () => transport.producer({ idempotent: true }) } : {}),
      ...(config.registryUrl ? { registry: confluentRegistry({ url: config.registryUrl, ...(config.registryAuth ? { auth: config.registryAuth } : {}) }) } : {}),
    });
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
    await transport?.disconnect().catch(() => undefined);
    await store.close().catch(() => undefined);
  }
}
