/**
 * Drift check of a single view: recompute views from the stored projections with the view's own
 * code (assemble: the same joins, map and validate as the aggregate stage) and compare them with
 * the stored documents, all of them or a deterministic sample, at a bounded rate. A view that
 * differs is checked again after `recheckMs` (the live stage may have been writing it), and only
 * what still differs is reported. `retriggerDrifted` sends one sv-trigger per drifted key, so the
 * running aggregate stage repairs them like any change.
 *
 *   pr_customers (5 000) + sv_customers  --verifyViews(sample 0.1)-->  { checked: ~500, drifted: 2, drifts: [{ key, kind: 'changed', fields: ['name'] }, …] }
 *
 * Kinds: `changed` (stored ≠ recomputed), `missing` (a view should exist and does not), `extra` (a
 * view exists and should not: its base is gone, not in `onStates`, or fails validate).
 */
import { createHash } from 'node:crypto';
import { TributaryError } from '../../errors.js';
import type { SchemaRegistryClient } from '../../stream/serdes/registry.js';
import type { OutgoingMessage, TransportProducer } from '../../stream/transport/types.js';
import type { DocumentStore } from '../../store/types.js';
import type { Row } from '../cdc/change-event.js';
import { eventSerde } from '../events/event-serde.js';
import type { FastDataTopology } from '../fast-data.js';
import { isLive, keyString, STATE } from '../projection/metadata.js';
import { storedByKey } from '../stored-by-key.js';
import { assemble } from '../singleview/assemble.js';
import { readDefinitions } from '../singleview/definitions.js';
import { SV_TRIGGER_HEADERS, type SvTrigger } from '../singleview/events.js';
import { baseFilterOf, viewKeyOf, type SingleView } from '../singleview/single-view.js';
import { pacer } from './pacer.js';
import { findView } from './refresh-view.js';
import { chunks } from './view-builder.js';
import { contentOf } from '../singleview/view-content.js';

export interface VerifyOptions {
  readonly topology: FastDataTopology;
  readonly view: string;
  readonly store: DocumentStore;
  /** Share of the views checked, 0 < sample ≤ 1 (default 1: all); the same keys for the same seed. */
  readonly sample?: number;
  readonly seed?: string;
  readonly batchSize?: number;
  /** Views recomputed per second at most (default 500; 0 = no limit): verification shares the store with the live stages. */
  readonly ratePerSecond?: number;
  /** Wait before a differing view is checked again (default 2 000 ms). */
  readonly recheckMs?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: { readonly done: number; readonly total: number; readonly drifted: number }) => void;
  readonly sleep?: (ms: number) => Promise<void>;
}

export type DriftKind = 'changed' | 'missing' | 'extra';

export interface Drift {
  readonly key: Row;
  readonly kind: DriftKind;
  /** Top-level fields whose values differ (changed only). */
  readonly fields: readonly string[];
  readonly stored: Row | null;
  readonly expected: Row | null;
}

export interface VerifyReport {
  readonly view: string;
  readonly definition: string;
  readonly liveDefinition: string | null;
  readonly sample: number;
  readonly checked: number;
  /** Views whose recomputation failed (map threw, …): not comparable, by error type. */
  readonly unverifiable: Record<string, number>;
  readonly drifted: number;
  readonly drifts: readonly Drift[];
  readonly complete: boolean;
  readonly elapsedMs: number;
}


export async function verifyViews(options: VerifyOptions): Promise<VerifyReport> {
  const { store } = options;
  const view = findView(options.topology, options.view);
  const sample = options.sample ?? 1;
  if (!(sample > 0 && sample <= 1)) throw new TributaryError('TRB_CONFIG', `sample must be in (0, 1], got ${sample}`);
  const seed = options.seed ?? String(Math.random());
  const inSample = (key: Row) => sample === 1 || fraction(`${seed}\u0000${keyString(key)}`) < sample;
  const batchSize = options.batchSize ?? 500;
  const pace = pacer(options.ratePerSecond ?? 500);
  const started = performance.now();
  const definitions = await readDefinitions(store, view.name);
  const unverifiable: Record<string, number> = {};
  const candidates: Row[] = []; // keys that differed once
  let checked = 0;
  let complete = true;

  // Every base document (deleted ones too: their view must not exist) → recompute → compare.
  const base = store.collection(view.tree.projection.name);
  const total = Math.round((await base.count({})) * sample);
  let after: unknown;
  for (;;) {
    if (options.signal?.aborted) {
      complete = false;
      break;
    }
    const docs = await base.find(after === undefined ? {} : { _id: { $gt: after } }, { sort: { _id: 1 }, limit: batchSize });
    if (docs.length === 0) break;
    after = docs.at(-1)?.['_id'];
    const keys = dedupe(docs.map((d) => viewKeyOf(view, d)).filter((k): k is Row => k !== null && inSample(k)));
    await pace.take(keys.length);
    const drifts = await compare(view, keys, store, unverifiable);
    checked += keys.length;
    candidates.push(...drifts.map((d) => d.key));
    options.onProgress?.({ done: checked, total, drifted: candidates.length });
  }
  // Views whose base document is gone altogether (hard deletes).
  if (complete) {
    const fields = Object.keys(view.key);
    let afterView: unknown;
    for (;;) {
      const docs = await store.collection(view.name).find(afterView === undefined ? {} : { _id: { $gt: afterView } }, { sort: { _id: 1 }, limit: batchSize });
      if (docs.length === 0) break;
      afterView = docs.at(-1)?.['_id'];
      const keys = docs.filter(isLive).map((d) => Object.fromEntries(fields.map((f) => [f, d[f]]))).filter(inSample);
      const baseFields = Object.values(view.key);
      const bases = await storedByKey(base, baseFields, keys.map((k) => baseFilterOf(view, k)));
      for (const key of keys) if (!bases.has(keyString(baseFilterOf(view, key)))) candidates.push(key);
    }
  }

  // Check the candidates again: a view written by the live stage meanwhile is not drift.
  const drifts: Drift[] = [];
  if (candidates.length > 0) {
    await (options.sleep ?? sleep)(options.recheckMs ?? 2000);
    for (const batch of chunks(dedupe(candidates), batchSize)) drifts.push(...(await compare(view, batch, store, {})));
  }
  return {
    view: view.name,
    definition: view.version,
    liveDefinition: definitions.live?.version ?? null,
    sample,
    checked,
    unverifiable,
    drifted: drifts.length,
    drifts,
    complete,
    elapsedMs: performance.now() - started,
  };
}

/** Recomputes `keys` and returns those whose stored view differs. */
async function compare(view: SingleView, keys: readonly Row[], store: DocumentStore, unverifiable: Record<string, number>): Promise<Drift[]> {
  if (keys.length === 0) return [];
  const [outcomes, stored] = await Promise.all([assemble(view, keys, store), storedByKey(store.collection(view.name), Object.keys(view.key), keys)]);
  const out: Drift[] = [];
  for (const outcome of outcomes) {
    const current = stored.get(keyString(outcome.key)) ?? null;
    const live = isLive(current) ? current : null;
    if (outcome.kind === 'error') {
      unverifiable[outcome.error.errorType] = (unverifiable[outcome.error.errorType] ?? 0) + 1;
      continue;
    }
    if (outcome.kind === 'delete') {
      if (live) out.push({ key: outcome.key, kind: 'extra', fields: [], stored: strip(live), expected: null });
      continue;
    }
    const expected: Row = { ...outcome.view, [STATE]: outcome.view[STATE] ?? 'PUBLIC' };
    if (!live) {
      out.push({ key: outcome.key, kind: 'missing', fields: [], stored: null, expected });
      continue;
    }
    // With upsert 'update' the stored view may keep fields map no longer sets: compare the mapped ones.
    const compared = view.options.upsert === 'update' ? Object.fromEntries(Object.keys(expected).map((k) => [k, live[k]])) : live;
    if (contentOf(compared) !== contentOf(expected)) out.push({ key: outcome.key, kind: 'changed', fields: differingFields(compared, expected), stored: strip(live), expected });
  }
  return out;
}

/** Sends one sv-trigger per drifted key to the view's trigger topic (the aggregate stage then rebuilds it). */
export async function retriggerDrifted(topology: FastDataTopology, viewName: string, drifts: readonly Drift[], producer: TransportProducer, registry?: SchemaRegistryClient): Promise<number> {
  const view = findView(topology, viewName);
  const topic = topology.fastData.topics.svTrigger(view);
  const serde = eventSerde<SvTrigger>('sv-trigger-v1.0.0', topology.fastData.eventFormat);
  const at = new Date().toISOString();
  const messages: OutgoingMessage[] = [];
  for (const drift of drifts) {
    const trigger: SvTrigger = {
      type: 'aggregation',
      singleViewName: view.name,
      singleViewIdentifier: drift.key,
      change: { projectionName: view.tree.projection.name, projectionIdentifier: null, data: null },
      // Like a refresh trigger: a client mark in place of a Kafka position.
      __internal__kafkaInfo: { topic: 'tributary-verify', partition: -1, offset: '-1', timestamp: at, key: drift.key },
    };
    messages.push({ topic, key: Buffer.from(JSON.stringify(drift.key)), value: await serde.serialize(trigger, { topic, part: 'value', ...(registry ? { registry } : {}) }), headers: SV_TRIGGER_HEADERS });
  }
  for (const batch of chunks(messages, 500)) await producer.send(batch);
  return messages.length;
}

function differingFields(stored: Row, expected: Row): string[] {
  const ignored = new Set(['_id', 'createdAt', 'updatedAt']);
  const names = new Set([...Object.keys(stored), ...Object.keys(expected)].filter((k) => !ignored.has(k)));
  return [...names].filter((k) => contentOf({ v: stored[k] }) !== contentOf({ v: expected[k] })).sort();
}

const strip = (doc: Row): Row => Object.fromEntries(Object.entries(doc).filter(([k]) => k !== '_id'));

function dedupe(keys: readonly Row[]): Row[] {
  return [...new Map(keys.map((k) => [keyString(k), k])).values()];
}

/** A stable number in [0, 1) for a string: the same keys are sampled for the same seed. */
function fraction(text: string): number {
  return createHash('sha1').update(text).digest().readUInt32BE(0) / 2 ** 32;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
