/**
 * Which definition of each single view is live, which one is being built beside it, and whether
 * one is being switched in: one document per view in `tributary_view_definitions`, the only
 * state blue/green refreshes share with the running aggregate stages.
 *
 *   { _id: 'sv_customers', live: { version: 'a1…', promotedAt }, switching: null,
 *     shadow: { version: 'b2…', collection: 'sv_customers__shadow', startedAt, caughtUpFrom, report }, history: [...] }
 *
 * The fence: before writing views, an aggregate stage reads its view's document and refuses to
 * write (TRB_FENCED, retriable: the batch waits and is retried, nothing is committed) when
 *   - a definition is being switched in (every writer waits while `--promote` runs), or
 *   - another definition is live (an old process after a promote), or
 *   - no promote happened yet and its definition is the shadow's (a new process deployed early).
 * No document (a view never refreshed blue/green) fences nothing.
 */
import { TributaryError } from '../../errors.js';
import type { DocumentStore } from '../../store/types.js';
import type { SingleView } from '../singleview/single-view.js';

export const DEFINITIONS_COLLECTION = 'tributary_view_definitions';

export interface ShadowState {
  readonly version: string;
  readonly collection: string;
  readonly startedAt: Date;
  /** The next catch-up re-aggregates views the live stage wrote from this time on (minus the clock margin). */
  readonly caughtUpFrom: Date;
  /** The last build or catch-up report (diff summary, failures), as JSON. */
  readonly report: Readonly<Record<string, unknown>> | null;
}

export interface ViewDefinitions {
  readonly view: string;
  readonly live: { readonly version: string; readonly promotedAt: Date } | null;
  /** Set while `--promote` runs (every writer of the view is fenced); `renamedAt` once the shadow is live. */
  readonly switching: { readonly version: string; readonly startedAt: Date; readonly renamedAt: Date | null } | null;
  readonly shadow: ShadowState | null;
  /** Earlier promotions, newest first (at most 20). */
  readonly history: ReadonlyArray<{ readonly version: string; readonly promotedAt: Date }>;
}

export function emptyDefinitions(view: string): ViewDefinitions {
  return { view, live: null, switching: null, shadow: null, history: [] };
}

export async function readDefinitions(store: DocumentStore, view: string): Promise<ViewDefinitions> {
  const doc = await store.collection(DEFINITIONS_COLLECTION).findOne({ _id: view });
  if (!doc) return emptyDefinitions(view);
  return {
    view,
    live: (doc['live'] as ViewDefinitions['live']) ?? null,
    switching: (doc['switching'] as ViewDefinitions['switching']) ?? null,
    shadow: (doc['shadow'] as ShadowState | null) ?? null,
    history: (doc['history'] as ViewDefinitions['history']) ?? [],
  };
}

export async function saveDefinitions(store: DocumentStore, definitions: ViewDefinitions): Promise<void> {
  const { view, ...rest } = definitions;
  await store.collection(DEFINITIONS_COLLECTION).bulkWrite([{ kind: 'replace', filter: { _id: view }, document: { _id: view, view, ...rest, updatedAt: new Date() } }]);
}

/** Every view's definitions document (for the read API and the dashboard). */
export async function allDefinitions(store: DocumentStore): Promise<ViewDefinitions[]> {
  const docs = await store.collection(DEFINITIONS_COLLECTION).find({}, { sort: { _id: 1 } });
  return Promise.all(docs.map((d) => readDefinitions(store, String(d['_id']))));
}

/** Why a writer of `version` must not write the view now, or null when it may. */
export function fenceReason(definitions: ViewDefinitions, version: string): string | null {
  if (definitions.switching) return `definition ${definitions.switching.version} is being switched in (tributary refresh --promote); writes wait until it is live`;
  if (definitions.live && definitions.live.version !== version) {
    return `definition ${definitions.live.version} is live and this process runs ${version}: deploy the live definition (or build this one with --shadow and promote it)`;
  }
  if (!definitions.live && definitions.shadow?.version === version) return `this process runs the shadow definition ${version}, which is not promoted yet (tributary refresh --promote)`;
  return null;
}

/** Throws TRB_FENCED (retriable) when this process's definition of `view` must not write it now. */
export async function assertWritable(store: DocumentStore, view: SingleView): Promise<void> {
  const reason = fenceReason(await readDefinitions(store, view.name), view.version);
  if (reason) throw new TributaryError('TRB_FENCED', `single view ${view.name}: ${reason}`, { context: { view: view.name, version: view.version } });
}

/** A short label of what is live, for the read API and the dashboard. */
export function describeDefinitions(definitions: ViewDefinitions): Record<string, unknown> {
  return {
    view: definitions.view,
    live: definitions.live ? { version: definitions.live.version, promotedAt: definitions.live.promotedAt } : null,
    switching: definitions.switching ? { version: definitions.switching.version, startedAt: definitions.switching.startedAt } : null,
    shadow: definitions.shadow ? { version: definitions.shadow.version, collection: definitions.shadow.collection, startedAt: definitions.shadow.startedAt } : null,
  };
}

/** Per single view of a topology: the definition this process declares, what is live, and whether this process may write. */
export async function definitionStatus(views: readonly SingleView[], store: DocumentStore): Promise<Array<Record<string, unknown>>> {
  return Promise.all(
    views.map(async (view) => {
      const definitions = await readDefinitions(store, view.name);
      const fenced = fenceReason(definitions, view.version);
      return { ...describeDefinitions(definitions), declared: view.version, writes: fenced === null, ...(fenced ? { fenced } : {}) };
    }),
  );
}
