/**
 * Full refresh of a single view (Fast Data's "full refresh", done by a script there): one sv-trigger
 * per base-projection document, in `_id` order, in batches, at a bounded rate. The running
 * aggregate stage rebuilds each view from the projections, exactly as for a live change, so a
 * refresh needs no separate code path to trust. Base documents marked DELETED are triggered too: the
 * aggregation then removes a view that should no longer exist.
 *
 *   pr_customers (5 000 docs)  --refreshSingleView(sv_customers, batch 500)-->  5 000 sv-triggers on <view>.sv-trigger
 *
 * Resumable: after Kafka acknowledges a batch (acks=all) its last `_id` is checkpointed; a new run
 * with the same checkpoint continues after it. Documents added during the refresh are triggered
 * by the live path anyway.
 */
import { json } from '../../stream/serdes/json.js';
import type { SchemaRegistryClient } from '../../stream/serdes/registry.js';
import type { OutgoingMessage, TransportProducer } from '../../stream/transport/types.js';
import type { Document, DocumentStore } from '../../store/types.js';
import { TributaryError } from '../../errors.js';
import type { Row } from '../cdc/change-event.js';
import { eventSerde } from '../events/event-serde.js';
import type { FastDataTopology } from '../fast-data.js';
import { keyString, withoutId } from '../projection/metadata.js';
import { SV_TRIGGER_HEADERS, type SvTrigger } from '../singleview/events.js';
import { viewKeyOf, type SingleView } from '../singleview/single-view.js';
import { memoryCheckpoint, type RefreshCheckpoint, type RefreshPosition } from './checkpoint.js';
import { pacer } from './pacer.js';

export interface RefreshOptions {
  readonly topology: FastDataTopology;
  /** Name of the single view to rebuild. */
  readonly view: string;
  readonly store: DocumentStore;
  /** Sends the triggers; `send` must resolve only when they are durable (the Kafka transport waits for acks=all). */
  readonly producer: TransportProducer;
  /** Needed only when the topology emits Avro events. */
  readonly registry?: SchemaRegistryClient;
  /** Base documents read and triggered per batch (default 500, as Fast Data's refresh script). */
  readonly batchSize?: number;
  /** Triggers per second at most (default 1 000; 0 = no limit). Live triggers share the topic, so an unbounded refresh delays them. */
  readonly ratePerSecond?: number;
  /** Where progress is kept between runs (default: in memory, i.e. not resumable across processes). */
  readonly checkpoint?: RefreshCheckpoint;
  /** Ignore an existing checkpoint and start from the first document. */
  readonly restart?: boolean;
  /** Stops after the batch in flight (its checkpoint saved). */
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: RefreshProgress) => void;
}

export interface RefreshProgress {
  readonly view: string;
  readonly sent: number;
  readonly total: number;
  /** Sent by this run (a resumed run starts above 0 `sent`). */
  readonly sentThisRun: number;
  readonly elapsedMs: number;
  readonly resumedFrom?: number;
}

export interface RefreshResult extends RefreshProgress {
  readonly completed: boolean;
  readonly topic: string;
  /** Base documents without a complete view key (no trigger possible), e.g. a null key field. */
  readonly skippedWithoutKey: number;
}

export function findView(topology: FastDataTopology, name: string): SingleView<object> {
  const view = topology.fastData.singleViews.find((v) => v.name === name);
  if (!view) {
    const known = topology.fastData.singleViews.map((v) => v.name);
    throw new TributaryError('TRB_CONFIG', `unknown single view '${name}' in topology '${topology.name}' (${known.length ? `views: ${known.join(', ')}` : 'it has no single views'})`, { context: { view: name } });
  }
  return view;
}

export async function refreshSingleView(options: RefreshOptions): Promise<RefreshResult> {
  const { topology, store, producer } = options;
  const view = findView(topology, options.view);
  const base = view.options.base;
  const batchSize = options.batchSize ?? 500;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new TributaryError('TRB_CONFIG', `batchSize must be a positive integer, got ${batchSize}`);
  const topic = topology.fastData.topics.svTrigger(view);
  const checkpoint = options.checkpoint ?? memoryCheckpoint();
  const pace = pacer(options.ratePerSecond ?? 1000);
  const keySerde = json<Row>();
  const valueSerde = eventSerde<SvTrigger>('sv-trigger-v1.0.0', topology.fastData.eventFormat);
  const collection = store.collection(base.name);

  const saved = options.restart ? undefined : checkpoint.load();
  if (saved && (saved.view !== view.name || saved.topology !== topology.name)) {
    throw new TributaryError('TRB_CONFIG', `the checkpoint ${checkpoint.location} belongs to ${saved.topology}/${saved.view}, not ${topology.name}/${view.name}: use another checkpoint or --restart`);
  }
  if (options.restart) checkpoint.clear();
  const started = performance.now();
  let position: RefreshPosition = saved ?? { topology: topology.name, view: view.name, afterId: undefined, sent: 0, total: await collection.count({}), startedAt: new Date().toISOString() };
  let sentThisRun = 0;
  let skippedWithoutKey = 0;
  const progress = (): RefreshProgress => ({
    view: view.name,
    sent: position.sent,
    total: Math.max(position.total, position.sent),
    sentThisRun,
    elapsedMs: performance.now() - started,
    ...(saved ? { resumedFrom: saved.sent } : {}),
  });
  options.onProgress?.(progress());

  for (;;) {
    if (options.signal?.aborted) return { ...progress(), completed: false, topic, skippedWithoutKey };
    const filter = position.afterId === undefined ? {} : { _id: { $gt: position.afterId } };
    const docs = await collection.find(filter, { sort: { _id: 1 }, limit: batchSize });
    if (docs.length === 0) break;
    const messages = await triggersOf(view, docs, { topic, keySerde, valueSerde, registry: options.registry });
    skippedWithoutKey += docs.length - messages.covered;
    await pace.take(messages.list.length);
    await producer.send(messages.list);
    sentThisRun += messages.list.length;
    position = { ...position, afterId: (docs.at(-1) as Document)['_id'], sent: position.sent + messages.list.length };
    checkpoint.save(position);
    options.onProgress?.(progress());
  }
  checkpoint.clear();
  return { ...progress(), completed: true, topic, skippedWithoutKey };
}

interface TriggerSerdes {
  readonly topic: string;
  readonly keySerde: ReturnType<typeof json<Row>>;
  readonly valueSerde: ReturnType<typeof eventSerde<SvTrigger>>;
  readonly registry: SchemaRegistryClient | undefined;
}

/** One sv-trigger per distinct view key of `docs`, shaped like the trigger stage's (so the aggregate stage cannot tell them apart). */
async function triggersOf(view: SingleView, docs: readonly Document[], serdes: TriggerSerdes): Promise<{ list: OutgoingMessage[]; covered: number }> {
  const base = view.options.base;
  const byKey = new Map<string, { key: Row; doc: Row }>();
  let covered = 0;
  for (const doc of docs) {
    const key = viewKeyOf(view, doc as Row);
    if (!key) continue;
    covered++;
    byKey.set(keyString(key), { key, doc: doc as Row });
  }
  const at = new Date().toISOString();
  const context = (part: 'key' | 'value') => ({ topic: serdes.topic, part, ...(serdes.registry ? { registry: serdes.registry } : {}) });
  const list: OutgoingMessage[] = [];
  for (const { key, doc } of byKey.values()) {
    const identifier = Object.fromEntries(base.primaryKey.map((field) => [field, doc[field]]));
    const trigger: SvTrigger = {
      type: 'aggregation',
      singleViewName: view.name,
      singleViewIdentifier: key,
      change: { projectionName: base.name, projectionIdentifier: identifier, data: withoutId(doc) },
      // Fast Data's refresh script marks its triggers with a local client id in place of a Kafka position.
      __internal__kafkaInfo: { topic: 'tributary-refresh', partition: -1, offset: '-1', timestamp: at, key: identifier },
    };
    list.push({
      topic: serdes.topic,
      key: await serdes.keySerde.serialize(key, context('key')),
      value: await serdes.valueSerde.serialize(trigger, context('value')),
      headers: SV_TRIGGER_HEADERS,
    });
  }
  return { list, covered };
}
