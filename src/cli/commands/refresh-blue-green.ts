/**
 * `tributary refresh <file> <view> --shadow | --promote | --abandon`: blue/green definitions of a
 * single view (src/fastdata/refresh/blue-green.ts), with a human report (or `--format json`).
 *
 *   --shadow    build the file's definition into <view>__shadow; print the diff against the live view
 *   --promote   catch up, switch (one rename), emit sv-updates, record the definition as live
 *   --abandon   drop the shadow
 */
import { TributaryError } from '../../errors.js';
import { abandonShadow, buildShadow, promoteShadow, type BuildReport, type PromoteReport } from '../../fastdata/refresh/blue-green.js';
import type { ViewDifference } from '../../fastdata/refresh/view-diff.js';
import type { FastDataTopology } from '../../fastdata/fast-data.js';
import type { DocumentStore } from '../../store/types.js';
import type { SchemaRegistryClient } from '../../stream/serdes/registry.js';
import type { TransportProducer } from '../../stream/transport/types.js';

export type BlueGreenAction = 'shadow' | 'promote' | 'abandon';

export interface BlueGreenRun {
  readonly action: BlueGreenAction;
  readonly topology: FastDataTopology;
  readonly view: string;
  readonly store: DocumentStore;
  readonly batchSize: number;
  readonly rate: number;
  readonly samples: number;
  readonly graceMs: number;
  readonly json: boolean;
  readonly signal: AbortSignal;
  /** Opened only by --promote, for the sv-updates of what the switch changed. */
  readonly producer?: () => Promise<TransportProducer>;
  readonly registry?: SchemaRegistryClient;
  readonly print: (line: string) => void;
}

/** The chosen action, or undefined for a plain refresh; two of them is a configuration error. */
export function blueGreenAction(flags: Readonly<Record<string, string | undefined>>): BlueGreenAction | undefined {
  const chosen = (['shadow', 'promote', 'abandon'] as const).filter((a) => flags[a] === 'true');
  if (chosen.length > 1) throw new TributaryError('TRB_CONFIG', `choose one of --shadow, --promote, --abandon (got ${chosen.map((a) => `--${a}`).join(' ')})`);
  return chosen[0];
}

export async function runBlueGreen(run: BlueGreenRun): Promise<number> {
  const common = { topology: run.topology, view: run.view, store: run.store, batchSize: run.batchSize, ratePerSecond: run.rate, samples: run.samples, signal: run.signal };
  if (run.action === 'abandon') {
    const { dropped } = await abandonShadow(common);
    run.print(run.json ? JSON.stringify({ view: run.view, dropped }) : dropped ? `dropped ${dropped}; the live view and its definition are unchanged` : `${run.view} had no shadow; nothing to drop`);
    return 0;
  }
  if (run.action === 'shadow') {
    const report = await buildShadow(common);
    if (run.json) run.print(JSON.stringify(report));
    else for (const line of shadowLines(report)) run.print(line);
    return report.complete ? 0 : 130;
  }
  const producer = run.producer ? await run.producer() : undefined;
  try {
    const report = await promoteShadow({ ...common, graceMs: run.graceMs, ...(producer ? { producer } : {}), ...(run.registry ? { registry: run.registry } : {}) });
    if (run.json) run.print(JSON.stringify(report));
    else for (const line of promoteLines(report)) run.print(line);
    return 0;
  } finally {
    await producer?.disconnect();
  }
}

export function shadowLines(r: BuildReport): string[] {
  const d = r.diff;
  const lines = [
    `shadow of ${r.view}: definition ${r.version} built into ${r.collection} (live definition: ${r.liveVersion ?? 'not recorded yet'})${r.complete ? '' : ' — INTERRUPTED, run --shadow again'}`,
    `  views built ${r.built}, re-aggregated after live changes ${r.caughtUp}, in ${(r.elapsedMs / 1000).toFixed(1)} s`,
    `  against the live view: ${d.changed} changed, ${d.added} added, ${d.removed} removed, ${d.unchanged} unchanged (live ${d.live}, shadow ${d.shadow})`,
    `  failures: ${r.failures.total}${r.failures.total ? ` (${Object.entries(r.failures.counts).map(([k, n]) => `${k} ${n}`).join(', ')})` : ''}`,
    ...r.failures.samples.map((f) => `    ${JSON.stringify(f.key)} ${f.errorType}: ${f.message}`),
    ...(['changed', 'added', 'removed'] as const).flatMap((kind) => d.samples[kind].flatMap((s) => sampleLines(kind, s))),
    `next: --promote to switch readers and writers to it, or --abandon`,
  ];
  return lines;
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
