/**
 * Turns projection and single-view declarations into one topology of three stages, each a set of
 * Kafka streams with their own consumer groups and `stage` (run all in one process, or any subset
 * with `--only ingest,trigger,aggregate`):
 *
 *   INGEST     ingest:<projection>     CDC topic      → projection collection + <projection>.pr-update
 *   TRIGGER    trigger:<view>          pr-update topics of the view's projections → <view>.sv-trigger
 *   AGGREGATE  aggregate:<view>        <view>.sv-trigger → view collection + <view>.sv-update
 */
import { json } from '../stream/serdes/json.js';
import { anyEvent, EventSerdes, type EventFormat } from './events/event-serde.js';
import { toTopic } from '../stream/operators/to-topic.js';
import { Topology, type ErrorPolicy } from '../stream/topology.js';
import type { IndexSpec } from '../store/types.js';
import { prUpdateTopic, projectionIndexes, sourceSerdes, type Projection } from './projection/projection.js';
import type { PrUpdate } from './projection/pr-update.js';
import { projectionMemory, writeProjection } from './projection/write-projection.js';
import { aggregateViews } from './singleview/aggregate-views.js';
import type { SvTrigger } from './singleview/events.js';
import { upgradeLineage } from './singleview/lineage.js';
import { patchIndexes } from './singleview/patch.js';
import { nodes } from './singleview/relations.js';
import { checkViewChains, isViewSource, viewSourcesOf } from './singleview/view-source.js';
import type { SingleView } from './singleview/single-view.js';
import { triggerViews } from './singleview/trigger-views.js';

/** The three Fast Data stages; each is the `stage` of its streams (`--only`, pause and resume name them). */
export const FAST_DATA_STAGES = ['ingest', 'trigger', 'aggregate'] as const;
export type FastDataStage = (typeof FAST_DATA_STAGES)[number];

export interface FastDataOptions {
  /** Topology name: prefix of every consumer group. */
  readonly name: string;
  readonly projections: ReadonlyArray<Projection<object>>;
  readonly singleViews?: ReadonlyArray<SingleView<object>>;
  /** Prefix of derived topics, e.g. 'acme.PROD.crm-db.' → 'acme.PROD.crm-db.pr_customers.pr-update'. */
  readonly topicPrefix?: string;
  /** The `source` / portfolio origin written into events (default: the topology name). */
  readonly source?: string;
  /** Run the trigger stage (Kafka → Kafka) with one transaction per batch (default false). */
  readonly exactlyOnceTriggers?: boolean;
  /** Format of emitted pr-update and sv-trigger events (default 'json'; 'avro' needs a registry). Readers accept both. */
  readonly eventFormat?: EventFormat;
  /**
   * CDC records larger than this (key + value bytes) are dead-lettered with TRB_TOO_LARGE before
   * anything is written (default 1 000 000, the runtime's output limit): their pr-update, which
   * carries the document twice, could not be produced, and a projection written without its
   * pr-update would leave the views behind.
   */
  readonly maxRecordBytes?: number;
  /**
   * What a stage does with a record it cannot process (default 'dead-letter'): one policy for every
   * stage, or one per stage. 'fail' is Fast Data's stop-on-error (the partition stops, health goes
   * red); a failed aggregation is still retried `maxAttempts` times through the sv-trigger topic first.
   */
  readonly errors?: ErrorPolicy | Partial<Record<FastDataStage, ErrorPolicy>>;
}

/** The topic names a Fast Data topology derives from its declarations. */
export interface FastDataTopics {
  prUpdate(p: Projection<object>): string;
  svTrigger(v: SingleView<object>): string;
  /** '' when the view emits no sv-update. */
  svUpdate(v: SingleView<object>): string;
}

/** What a Fast Data topology was declared with, for the tools built on it (refresh, the read API). */
export interface FastDataDeclarations {
  readonly projections: ReadonlyArray<Projection<object>>;
  readonly singleViews: ReadonlyArray<SingleView<object>>;
  readonly topics: FastDataTopics;
  /** Format of the events it emits (refresh writes its sv-triggers in the same one). */
  readonly eventFormat: EventFormat;
  /** The `source` written into its events. */
  readonly source: string;
}

/** A topology whose streams are the Fast Data stages of its projections and views. */
export class FastDataTopology extends Topology {
  constructor(
    name: string,
    readonly fastData: FastDataDeclarations,
  ) {
    super(name);
  }
}

export function fastData(options: FastDataOptions): FastDataTopology {
  const prefix = options.topicPrefix ?? '';
  const source = options.source ?? options.name;
  const views = options.singleViews ?? [];
  checkViewChains(views);
  const errors = (stage: FastDataStage): ErrorPolicy => (typeof options.errors === 'object' ? options.errors[stage] : options.errors) ?? 'dead-letter';
  const eventFormat = options.eventFormat ?? 'json';
  const topics: FastDataTopics = {
    // A view used as a source (view-source.ts) is read through its sv-update topic.
    prUpdate: (p) => (isViewSource(p) ? topics.svUpdate(p.sourceView) : prUpdateTopic(p, prefix)),
    svTrigger: (v) => `${prefix}${v.name}.sv-trigger`,
    svUpdate: (v) => (v.options.svUpdate === false ? '' : (v.options.svUpdate?.topic ?? `${prefix}${v.name}.sv-update`)),
  };
  const t = new FastDataTopology(options.name, { projections: options.projections, singleViews: views, topics, eventFormat, source });
  // One serde per event kind and format for the whole topology: each reads its schema and registers it once.
  const events = new EventSerdes(eventFormat);

  const memories = options.projections.map(projectionMemory);
  for (const [i, p] of options.projections.entries()) {
    const prUpdate = events.of<PrUpdate>(`pr-update-${p.options.prUpdate?.version ?? 'v2.0.0'}`, p.options.prUpdate?.format ?? eventFormat);
    t.stream(p.options.source.topic, { ...sourceSerdes(p), name: `ingest:${p.name}`, stage: 'ingest', errors: errors('ingest'), maxRecordBytes: options.maxRecordBytes ?? 1_000_000 }).pipe(
      writeProjection(p, { memory: memories[i] }),
      toTopic(topics.prUpdate(p), { key: json(), value: prUpdate }),
    );
  }
  for (const view of views) {
    t.stream(view.projections.map(topics.prUpdate), { key: json(), value: anyEvent(), name: `trigger:${view.name}`, stage: 'trigger', errors: errors('trigger'), exactlyOnce: options.exactlyOnceTriggers ?? false }).pipe(
      triggerViews(view, { svUpdateTopic: topics.svUpdate(view) || null, source, events }),
      toTopic(topics.svTrigger(view), { key: json(), value: events.of<SvTrigger>('sv-trigger-v1.0.0') }),
    );
    t.stream(topics.svTrigger(view), { key: json(), value: anyEvent(), name: `aggregate:${view.name}`, stage: 'aggregate', errors: errors('aggregate') }).pipe(
      aggregateViews(view, { triggerTopic: topics.svTrigger(view), svUpdateTopic: topics.svUpdate(view) || null, errorsCollection: `${view.name}-errors`, source, events }),
    );
  }

  t.onStart(async ({ store }) => {
    for (const memory of memories) memory.reset(); // nothing remembered outlives a run
    if (!store) return;
    const foreignKeys = foreignKeyIndexes(views);
    for (const p of options.projections) await store.collection(p.name).createIndexes(projectionIndexes(p, foreignKeys.get(p.name) ?? []));
    // A view read as a source gets the join indexes of the views built on it (its key index it has).
    for (const p of viewSourcesOf(views)) await store.collection(p.name).createIndexes(foreignKeys.get(p.name) ?? []);
    for (const v of views) {
      const keyIndex = { name: 'sv_key_index', fields: Object.fromEntries(Object.keys(v.key).map((k) => [k, 1 as const])), unique: true };
      await store.collection(v.name).createIndexes([keyIndex, ...patchIndexes(v.patches)]);
      // Lineage records are keyed by `_id` (no index of their own); a collection of the earlier layout goes.
      if (v.options.lineage !== false) await upgradeLineage(v, store);
    }
  });
  return t;
}

/** One index per relation side, so strategy and aggregation lookups are index scans. */
function foreignKeyIndexes(views: ReadonlyArray<SingleView<object>>): Map<string, IndexSpec[]> {
  const out = new Map<string, Map<string, IndexSpec>>();
  const add = (collection: string, fields: string[]) => {
    // Fast Data indexes each ER foreign key together with __STATE__ (aggregation filters on it).
    const name = `fk_${fields.join('_')}`;
    const map = out.get(collection) ?? new Map<string, IndexSpec>();
    map.set(name, { name, fields: { ...Object.fromEntries(fields.map((f) => [f, 1 as const])), __STATE__: 1 } });
    out.set(collection, map);
  };
  for (const v of views) {
    for (const n of nodes(v.tree)) {
      if (!n.relation || !n.parent) continue;
      add(n.projection.name, Object.keys(n.relation.on));
      add(n.parent.projection.name, Object.values(n.relation.on));
    }
  }
  return new Map([...out].map(([k, m]) => [k, [...m.values()]]));
}
