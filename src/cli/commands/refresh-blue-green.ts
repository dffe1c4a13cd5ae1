/**
 * `tributary refresh <file> <view> --shadow | --promote | --abandon`: blue/green definitions of a
 * single view (src/fastdata/refresh/blue-green.ts), with a human report (or `--format json`).
 *
 *   --shadow    build the file's definition into <view>__shadow; print the diff against the live view
 *   --promote   catch up, switch (one rename), emit sv-updates, record the definition as live
 *   --abandon   drop the shadow
 */
import pino from 'pino';
import { TributaryError } from '../../errors.js';
import { abandonShadow, buildShadow, promoteShadow, type BuildReport, type PromoteReport } from '../../fastdata/refresh/blue-green.js';
import type { ViewDifference } from '../../fastdata/refresh/view-diff.js';
import type { FastDataTopology } from '../../fastdata/fast-data.js';
import type { SingleView } from '../../fastdata/singleview/single-view.js';
import { createLogger } from '../../ops/logger.js';
import { MongoDocumentStore } from '../../store/mongo/mongo-store.js';
import { confluentRegistry } from '../../stream/serdes/registry.js';
import { kafkaTransport } from '../../stream/transport/kafka/kafka-transport.js';
import type { RefreshConfig } from '../config.js';
import type { Flags, SettingSource } from '../config/source.js';
import { integer, oneOf } from '../config/values.js';
import { kafkaTransportOptions } from '../kafka-client.js';

export type BlueGreenAction = 'shadow' | 'promote' | 'abandon';

export interface BlueGreenSettings {
  readonly samples: number;
  readonly graceMs: number;
  readonly json: boolean;
}

/** The chosen action, or undefined for a plain refresh; two of them is a configuration error. */
export function blueGreenAction(flags: Flags): BlueGreenAction | undefined {
  const chosen = (['shadow', 'promote', 'abandon'] as const).filter((a) => flags[a] === 'true');
  if (chosen.length > 1) throw new TributaryError('TRB_CONFIG', `choose one of --shadow, --promote, --abandon (got ${chosen.map((a) => `--${a}`).join(' ')})`);
  return chosen[0];
}

export function blueGreenSettings(source: SettingSource): BlueGreenSettings {
  return {
    samples: integer(source.get('samples'), 3, { min: 0 }),
    graceMs: integer(source.get('grace-ms'), 5000, { min: 0 }),
    json: oneOf(source.get('format'), 'text', ['text', 'json'] as const) === 'json',
  };
}

export async function blueGreenCommand(action: BlueGreenAction, settings: BlueGreenSettings, fast: FastDataTopology, view: SingleView, config: RefreshConfig, print: (line: string) => void): Promise<number> {
  const logger = createLogger({ level: config.logLevel, redactor: config.redactor, destination: pino.destination(2) }); // stdout carries the report
  const store = new MongoDocumentStore({ url: config.mongo.url, database: config.mongo.database });
  // Kafka only for --promote, and only when the view sends sv-updates.
  const transport = action === 'promote' && fast.fastData.topics.svUpdate(view) ? kafkaTransport(kafkaTransportOptions(config.kafka, { clientId: `${fast.name}-promote`, logger, producer: config.producer })) : undefined;
  const abort = new AbortController();
  const interrupt = () => abort.abort();
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  const common = { topology: fast, view: view.name, store, batchSize: config.batchSize, ratePerSecond: config.ratePerSecond, samples: settings.samples, signal: abort.signal };
  try {
    await store.connect();
    if (action === 'abandon') {
      const { dropped } = await abandonShadow(common);
      print(settings.json ? JSON.stringify({ view: view.name, dropped }) : dropped ? `dropped ${dropped}; the live view and its definition are unchanged` : `${view.name} had no shadow; nothing to drop`);
      return 0;
    }
    if (action === 'shadow') {
      const report = await buildShadow(common);
      if (settings.json) print(JSON.stringify(report));
      else for (const line of shadowLines(report)) print(line);
      return report.complete ? 0 : 130;
    }
    if (transport) await transport.connect();
    const producer = transport ? await transport.producer({ idempotent: true }) : undefined;
    try {
      const registry = config.registry ? confluentRegistry({ url: config.registry.url, ...(config.registry.auth ? { auth: config.registry.auth } : {}) }) : undefined;
      const report = await promoteShadow({ ...common, graceMs: settings.graceMs, ...(producer ? { producer } : {}), ...(registry ? { registry } : {}) });
      if (settings.json) print(JSON.stringify(report));
      else for (const line of promoteLines(report)) print(line);
      return 0;
    } finally {
      await producer?.disconnect();
    }
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
    await transport?.disconnect().catch(() => undefined);
    await store.close().catch(() => undefined);
  }
}

export function shadowLines(r: BuildReport): string[] {
  const d = r.diff;
  return [
    `shadow of ${r.view}: definition ${r.version} built into ${r.collection} (live definition: ${r.liveVersion ?? 'not recorded yet'})${r.complete ? '' : ' — INTERRUPTED, run --shadow again'}`,
    `  views built ${r.built}, re-aggregated after live changes ${r.caughtUp}, in ${(r.elapsedMs / 1000).toFixed(1)} s`,
    `  against the live view: ${d.changed} changed, ${d.added} added, ${d.removed} removed, ${d.unchanged} unchanged (live ${d.live}, shadow ${d.shadow})`,
    `  failures: ${r.failures.total}${r.failures.total ? ` (${Object.entries(r.failures.counts).map(([k, n]) => `${k} ${n}`).join(', ')})` : ''}`,
    ...r.failures.samples.map((f) => `    ${JSON.stringify(f.key)} ${f.errorType}: ${f.message}`),
    ...(['changed', 'added', 'removed'] as const).flatMap((kind) => d.samples[kind].flatMap((s) => sampleLines(kind, s))),
    `next: --promote to switch readers and writers to it, or --abandon`,
  ];
}

function sampleLines(kind: string, s: ViewDifference): string[] {
  return [`  ${kind} ${JSON.stringify(s.key)}`, ...(s.live ? [`    live:   ${JSON.stringify(s.live)}`] : []), ...(s.shadow ? [`    shadow: ${JSON.stringify(s.shadow)}`] : [])];
}

export function promoteLines(r: PromoteReport): string[] {
  const d = r.diff;
  return [
    `promoted definition ${r.version} of ${r.view} (was ${r.previousVersion ?? 'not recorded'}) in ${(r.elapsedMs / 1000).toFixed(1)} s`,
    `  re-aggregated before the switch ${r.caughtUp}; switched ${d.changed} changed, ${d.added} added, ${d.removed} removed views; ${r.svUpdates} sv-update events sent`,
    `  processes running another definition of ${r.view} now wait (TRB_FENCED): deploy this one`,
  ];
}
