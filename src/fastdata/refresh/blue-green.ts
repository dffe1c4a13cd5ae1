/**
 * Blue/green single-view definitions: build a new definition beside the live view, compare, then
 * switch in one step — readers never see a mix of old and new shapes, and a bad definition is found
 * before it has overwritten anything.
 *
 *   buildShadow    drop + build <view>__shadow from the projections with the file's definition (paced),
 *                  re-aggregate what the live stage wrote meanwhile, diff against the live view
 *   promoteShadow  catch up; fence every writer of the view (switching); wait `graceMs` for writes
 *                  already past the fence; catch up again (and re-check views only the shadow has);
 *                  diff into <view>__promote_diff; rename the shadow over the live collection (one
 *                  step); emit an sv-update for every view that changed; mark the definition live
 *   abandonShadow  drop the shadow (and any half-done switch that has not renamed yet)
 *
 * Why nothing is lost across the switch: a fenced writer neither writes nor commits, so every
 * trigger the old definition committed was written before the fence (plus `graceMs`), hence is in
 * the live collection with an `updatedAt` the last catch-up covers; every trigger it did not commit
 * is redelivered to the new definition once it is live.
 */
import { TributaryError } from '../../errors.js';
import type { SchemaRegistryClient } from '../../stream/serdes/registry.js';
import type { OutgoingMessage, TransportProducer } from '../../stream/transport/types.js';
import type { DocumentStore, WriteOperation } from '../../store/types.js';
import type { Row } from '../cdc/change-event.js';
import { eventSerde } from '../events/event-serde.js';
import type { FastDataTopology } from '../fast-data.js';
import { keyString } from '../projection/metadata.js';
import { storedByKey } from '../stored-by-key.js';
import { svUpdateOf, type OperationType } from '../singleview/events.js';
import type { SingleView } from '../singleview/single-view.js';
import { readDefinitions, saveDefinitions, type ViewDefinitions } from '../singleview/definitions.js';
import { pacer } from './pacer.js';
import { findView } from './refresh-view.js';
import { backfill, buildViews, BuildFailures, changedSince, chunks, shadowOnlyKeys } from './view-builder.js';
import { diffViews, type DiffSummary, type ViewDifference } from './view-diff.js';

export interface BlueGreenOptions {
  /** The topology file's topology: its definition of the view is the one built / promoted. */
  readonly topology: FastDataTopology;
  readonly view: string;
  readonly store: DocumentStore;
  /** Base documents (or keys) per batch (default 500). */
  readonly batchSize?: number;
  /** Views built per second at most (default 1 000; 0 = no limit): the build shares the store with the live stages. */
  readonly ratePerSecond?: number;
  /** Sample documents per kind of difference in the report (default 3). */
  readonly samples?: number;
  /** How far before the last catch-up a catch-up looks, for clocks of other processes (default 60 000 ms). */
  readonly clockMarginMs?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: { readonly phase: string; readonly done: number; readonly total: number }) => void;
  readonly now?: () => Date;
}

export interface BuildReport {
  readonly view: string;
  readonly version: string;
  /** The definition recorded as live (null before the first promote: whatever the running stage runs). */
  readonly liveVersion: string | null;
  readonly collection: string;
  readonly built: number;
  readonly caughtUp: number;
  readonly diff: DiffSummary;
  readonly failures: { readonly total: number; readonly counts: Record<string, number>; readonly samples: BuildFailures['samples'] };
  readonly complete: boolean;
  readonly elapsedMs: number;
}

export interface PromoteOptions extends BlueGreenOptions {
  /** Sends the sv-update events of the views the switch changed (none when absent or the view emits none). */
  readonly producer?: TransportProducer;
  readonly registry?: SchemaRegistryClient;
  /** Wait after fencing, for writes that passed the fence just before it (default 5 000 ms). */
  readonly graceMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface PromoteReport {
  readonly view: string;
  readonly version: string;
  readonly previousVersion: string | null;
  readonly caughtUp: number;
  readonly diff: DiffSummary;
  readonly svUpdates: number;
  readonly elapsedMs: number;
}

const NOT_RECOMPUTED: DiffSummary = { live: 0, shadow: 0, unchanged: 0, changed: 0, added: 0, removed: 0, samples: { changed: [], added: [], removed: [] } };

const shadowName = (view: SingleView) => `${view.name}__shadow`;
const diffName = (view: SingleView) => `${view.name}__promote_diff`;

export async function buildShadow(options: BlueGreenOptions): Promise<BuildReport> {
  const { store } = options;
  const view = findView(options.topology, options.view);
  const now = options.now ?? (() => new Date());
  const started = performance.now();
  const definitions = await readDefinitions(store, view.name);
  if (definitions.switching) throw new TributaryError('TRB_CONFIG', `a promote of ${view.name} (definition ${definitions.switching.version}) did not finish: run --promote again, or --abandon`);
  const collection = shadowName(view);
  const startedAt = now();
  await store.collection(collection).drop();
  await store.collection(collection).createIndexes([keyIndex(view)]);
  await saveDefinitions(store, { ...definitions, shadow: { version: view.version, collection, startedAt, caughtUpFrom: startedAt, report: null } });

  const failures = new BuildFailures(options.samples ?? 3);
  const batchSize = options.batchSize ?? 500;
  const pace = pacer(options.ratePerSecond ?? 1000);
  const filled = await backfill(view, store, collection, {
    batchSize,
    pacer: pace,
    failures,
    inheritFrom: view.name,
    ...(options.signal ? { signal: options.signal } : {}),
    onBatch: (done, total) => options.onProgress?.({ phase: 'build', done, total }),
  });
  const caught = filled.complete ? await catchUp(view, store, collection, startedAt, options, failures) : { keys: 0, at: startedAt };
  const diff = await diffViews(view, store, view.name, collection, { samples: options.samples ?? 3, batchSize });
  const report: BuildReport = {
    view: view.name,
    version: view.version,
    liveVersion: definitions.live?.version ?? null,
    collection,
    built: filled.built,
    caughtUp: caught.keys,
    diff,
    failures: { total: failures.total, counts: failures.counts, samples: failures.samples },
    complete: filled.complete,
    elapsedMs: performance.now() - started,
  };
  await saveDefinitions(store, { ...definitions, shadow: { version: view.version, collection, startedAt, caughtUpFrom: caught.at, report: toJson(report) } });
  return report;
}

export async function promoteShadow(options: PromoteOptions): Promise<PromoteReport> {
  const { store } = options;
  const view = findView(options.topology, options.view);
  const now = options.now ?? (() => new Date());
  const started = performance.now();
  let definitions = await readDefinitions(store, view.name);
  const shadow = definitions.shadow;
  if (!shadow) throw new TributaryError('TRB_CONFIG', `${view.name} has no shadow to promote: run "tributary refresh <file> ${view.name} --shadow" first`);
  if (shadow.version !== view.version) {
    throw new TributaryError('TRB_CONFIG', `the shadow of ${view.name} holds definition ${shadow.version}, but this file defines ${view.version}: build it again with --shadow`);
  }
  const failures = new BuildFailures(options.samples ?? 3);
  let caughtUp = 0;
  if (!definitions.switching) {
    // While the live view still serves and updates: most of the catch-up happens here, unfenced.
    const first = await catchUp(view, store, shadow.collection, shadow.caughtUpFrom, options, failures);
    caughtUp += first.keys;
    definitions = { ...definitions, switching: { version: view.version, startedAt: now(), renamedAt: null }, shadow: { ...shadow, caughtUpFrom: first.at } };
    await saveDefinitions(store, definitions);
    await (options.sleep ?? sleep)(options.graceMs ?? 5000);
  }
  const switching = definitions.switching as NonNullable<ViewDefinitions['switching']>;
  let diff: DiffSummary;
  if (!switching.renamedAt) {
    const last = await catchUp(view, store, shadow.collection, (definitions.shadow ?? shadow).caughtUpFrom, options, failures);
    // A view only the shadow has may be one whose base was hard-deleted since the build: check them again.
    const onlyInShadow = await shadowOnlyKeys(view, store, shadow.collection, options.batchSize ?? 500);
    for (const keys of chunks(onlyInShadow, options.batchSize ?? 500)) await buildViews(view, keys, store, shadow.collection, failures, { inheritFrom: view.name });
    caughtUp += last.keys;
    diff = await recordDifferences(view, store, shadow.collection, options);
    await store.collection(shadow.collection).renameTo(view.name);
    definitions = { ...definitions, switching: { ...switching, renamedAt: now() } };
    await saveDefinitions(store, definitions);
  } else {
    diff = NOT_RECOMPUTED; // resumed after the rename: the differences were recorded by the interrupted run
  }
  const svUpdates = await emitDifferences(view, options);
  const promotedAt = now();
  const previous = definitions.live?.version ?? null;
  await saveDefinitions(store, {
    view: view.name,
    live: { version: view.version, promotedAt },
    switching: null,
    shadow: null,
    history: [{ version: view.version, promotedAt }, ...definitions.history].slice(0, 20),
  });
  await store.collection(diffName(view)).drop();
  return { view: view.name, version: view.version, previousVersion: previous, caughtUp, diff, svUpdates, elapsedMs: performance.now() - started };
}

export async function abandonShadow(options: Pick<BlueGreenOptions, 'topology' | 'view' | 'store'>): Promise<{ readonly dropped: string | null }> {
  const { store } = options;
  const view = findView(options.topology, options.view);
  const definitions = await readDefinitions(store, view.name);
  if (definitions.switching?.renamedAt) {
    throw new TributaryError('TRB_CONFIG', `definition ${definitions.switching.version} of ${view.name} is already live (the switch only has to finish: run --promote again); to go back, build the previous definition with --shadow`);
  }
  const dropped = definitions.shadow?.collection ?? null;
  await store.collection(definitions.shadow?.collection ?? shadowName(view)).drop();
  await store.collection(diffName(view)).drop();
  await saveDefinitions(store, { ...definitions, shadow: null, switching: null });
  return { dropped };
}

/** Re-aggregates into the shadow the views the live stage wrote or failed since `from` (minus the clock margin). */
async function catchUp(view: SingleView, store: DocumentStore, collection: string, from: Date, options: BlueGreenOptions, failures: BuildFailures): Promise<{ keys: number; at: Date }> {
  const at = (options.now ?? (() => new Date()))();
  const keys = await changedSince(view, store, new Date(from.getTime() - (options.clockMarginMs ?? 60_000)));
  const pace = pacer(options.ratePerSecond ?? 1000);
  let done = 0;
  for (const batch of chunks(keys, options.batchSize ?? 500)) {
    await pace.take(batch.length);
    await buildViews(view, batch, store, collection, failures, { inheritFrom: view.name });
    done += batch.length;
    options.onProgress?.({ phase: 'catch-up', done, total: keys.length });
  }
  return { keys: keys.length, at };
}

/** Diffs live against shadow, keeping every difference (key, kind, the live document) in a collection for the sv-updates. */
async function recordDifferences(view: SingleView, store: DocumentStore, shadow: string, options: BlueGreenOptions): Promise<DiffSummary> {
  const target = store.collection(diffName(view));
  await target.drop();
  let pending: WriteOperation[] = [];
  let sequence = 0;
  const flush = async () => {
    if (pending.length > 0) await target.bulkWrite(pending);
    pending = [];
  };
  const onDifference = async (d: ViewDifference) => {
    const { _id: _ignored, ...before } = d.live ?? {};
    pending.push({ kind: 'replace', filter: { seq: sequence }, document: { seq: sequence++, kind: d.kind, key: d.key, before: d.live ? before : null } });
    if (pending.length >= 500) await flush();
  };
  const summary = await diffViews(view, store, view.name, shadow, { samples: options.samples ?? 3, batchSize: options.batchSize ?? 500, onDifference });
  await flush();
  return summary;
}

const KIND_TO_OPERATION: Record<string, OperationType> = { added: 'INSERT', changed: 'UPDATE', removed: 'DELETE' };

async function emitDifferences(view: SingleView, options: PromoteOptions): Promise<number> {
  const topic = options.topology.fastData.topics.svUpdate(view);
  if (!options.producer || !topic) return 0;
  const { store } = options;
  const fields = Object.keys(view.key);
  const svUpdate = view.options.svUpdate === false ? {} : (view.options.svUpdate ?? {});
  const version = svUpdate.version ?? 'v1.0.0';
  const serde = eventSerde(`sv-update-${version}`, options.topology.fastData.eventFormat);
  const registry = options.registry ? { registry: options.registry } : {};
  let sent = 0;
  let after = -1;
  for (;;) {
    const page = await store.collection(diffName(view)).find({ seq: { $gt: after } }, { sort: { seq: 1 }, limit: options.batchSize ?? 500 });
    if (page.length === 0) return sent;
    after = Number(page.at(-1)?.['seq']);
    const current = await storedByKey(store.collection(view.name), fields, page.map((d) => d['key'] as Row));
    const at = new Date();
    const messages: OutgoingMessage[] = [];
    for (const d of page) {
      const key = d['key'] as Row;
      const type = KIND_TO_OPERATION[String(d['kind'])] as OperationType;
      const afterDoc = type === 'DELETE' ? null : (current.get(keyString(key)) ?? null);
      // Marked like a refresh trigger: there is no ingestion record behind a definition switch.
      const kafkaInfo = { topic: 'tributary-promote', partition: -1, offset: '-1', timestamp: at.toISOString(), key };
      const { value, headers } = svUpdateOf(type, (d['before'] as Row | null) ?? null, afterDoc, kafkaInfo, {
        view: view.name,
        source: options.topology.fastData.source,
        version,
        beforeAfter: svUpdate.beforeAfter ?? false,
        primaryKeys: fields,
        now: at,
      });
      messages.push({ topic, key: Buffer.from(JSON.stringify(key)), value: await serde.serialize(value, { topic, part: 'value', ...registry }), headers });
    }
    await options.producer.send(messages);
    sent += messages.length;
  }
}

function keyIndex(view: SingleView) {
  return { name: 'sv_key_index', fields: Object.fromEntries(Object.keys(view.key).map((k) => [k, 1 as const])), unique: true };
}

function toJson(report: BuildReport): Record<string, unknown> {
  return JSON.parse(JSON.stringify(report)) as Record<string, unknown>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
