/**
 * Builds single views straight into a collection, outside the aggregate stage but with its code
 * (assemble + the same writes): the backfill of a shadow definition, and the catch-up that
 * re-aggregates what changed since.
 *
 *   buildViews(view, keys, store, 'sv_customers__shadow')   --> one $in per relation, one bulk write
 *   backfill(view, store, target)                            --> every base document, in _id order, in paced batches
 *   changedSince(view, store, t)                             --> keys the live stage wrote (or failed) since t
 */
import type { DocumentStore } from '../../store/types.js';
import type { Row } from '../cdc/change-event.js';
import { isLive, keyString } from '../projection/metadata.js';
import { storedByKey } from '../stored-by-key.js';
import { assemble } from '../singleview/assemble.js';
import { viewKeyOf, type SingleView } from '../singleview/single-view.js';
import { deleteOf, upsertOf } from '../singleview/view-writes.js';
import type { Pacer } from './pacer.js';

/** Failed aggregations of a build: counts by kind and the first few, for the report. */
export class BuildFailures {
  readonly counts: Record<string, number> = {};
  readonly samples: Array<{ key: Row; errorType: string; message: string }> = [];
  constructor(private readonly keep: number) {}

  add(key: Row, errorType: string, message: string): void {
    this.counts[errorType] = (this.counts[errorType] ?? 0) + 1;
    if (this.samples.length < this.keep) this.samples.push({ key, errorType, message });
  }

  get total(): number {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
  }
}

export interface BuildResult {
  readonly upserted: number;
  readonly deleted: number;
}

export interface BuildViewsOptions {
  /** A view new to `target` keeps the `createdAt` of its twin in this collection (the live view, for a shadow). */
  readonly inheritFrom?: string;
  readonly at?: Date;
}

/** Aggregates `keys` with the view's definition and writes the views to `target`, as the aggregate stage would. */
export async function buildViews(view: SingleView, keys: readonly Row[], store: DocumentStore, target: string, failures: BuildFailures, options: BuildViewsOptions = {}): Promise<BuildResult> {
  if (keys.length === 0) return { upserted: 0, deleted: 0 };
  const at = options.at ?? new Date();
  const collection = store.collection(target);
  const fields = Object.keys(view.key);
  const [existing, outcomes, twins] = await Promise.all([
    storedByKey(collection, fields, keys),
    assemble(view, keys, store),
    options.inheritFrom ? storedByKey(store.collection(options.inheritFrom), fields, keys) : new Map<string, Row>(),
  ]);
  const writes = [];
  let upserted = 0;
  let deleted = 0;
  for (const outcome of outcomes) {
    const before = existing.get(keyString(outcome.key)) ?? null;
    if (outcome.kind === 'upsert') {
      const twin = twins.get(keyString(outcome.key));
      const created = before ?? (isLive(twin) ? { createdAt: twin['createdAt'] } : null);
      writes.push(upsertOf(view, outcome.key, outcome.view, created, at).write);
      upserted++;
    } else if (outcome.kind === 'delete') {
      if (outcome.reason === 'VALIDATION_ERROR') failures.add(outcome.key, 'VALIDATION_ERROR', 'validate() returned false');
      if (isLive(before)) {
        writes.push(deleteOf(view, outcome.key, at));
        deleted++;
      }
    } else {
      failures.add(outcome.key, outcome.error.errorType, outcome.error.message);
    }
  }
  if (writes.length > 0) await collection.bulkWrite(writes);
  return { upserted, deleted };
}

export interface BackfillOptions {
  readonly batchSize: number;
  readonly pacer: Pacer;
  readonly failures: BuildFailures;
  readonly signal?: AbortSignal;
  readonly onBatch?: (done: number, total: number) => void;
  readonly inheritFrom?: string;
}

/** Builds the view of every base document (deleted ones included: their view must not exist) into `target`. */
export async function backfill(view: SingleView, store: DocumentStore, target: string, options: BackfillOptions): Promise<{ built: number; complete: boolean }> {
  const base = store.collection(view.tree.projection.name);
  const total = await base.count({});
  let after: unknown;
  let done = 0;
  let built = 0;
  for (;;) {
    if (options.signal?.aborted) return { built, complete: false };
    const docs = await base.find(after === undefined ? {} : { _id: { $gt: after } }, { sort: { _id: 1 }, limit: options.batchSize });
    if (docs.length === 0) return { built, complete: true };
    after = docs.at(-1)?.['_id'];
    const keys = distinctKeys(docs.map((d) => viewKeyOf(view, d)));
    await options.pacer.take(keys.length);
    built += (await buildViews(view, keys, store, target, options.failures, options.inheritFrom ? { inheritFrom: options.inheritFrom } : {})).upserted;
    done += docs.length;
    options.onBatch?.(done, total);
  }
}

/**
 * The view keys whose live view the aggregate stage wrote, or failed to build, since `since`:
 * what a shadow built earlier may have missed. A live view whose base was hard-deleted leaves no
 * trace here; `shadowOnlyKeys` finds those.
 */
export async function changedSince(view: SingleView, store: DocumentStore, since: Date, errorsCollection = `${view.name}-errors`): Promise<Row[]> {
  const fields = Object.keys(view.key);
  const projection = Object.fromEntries(fields.map((f) => [f, 1 as const]));
  const written = await store.collection(view.name).find({ updatedAt: { $gte: since } }, { projection });
  const failed = await store.collection(errorsCollection).find({ createdAt: { $gte: since } }, { projection: { identifier: 1 } });
  const keyOf = (doc: Row) => (fields.every((f) => doc[f] !== undefined && doc[f] !== null) ? Object.fromEntries(fields.map((f) => [f, doc[f]])) : null);
  return distinctKeys([...written.map(keyOf), ...failed.map((e) => (typeof e['identifier'] === 'object' && e['identifier'] !== null ? keyOf(e['identifier'] as Row) : null))]);
}

/** Keys with a live view in `shadow` and none in `live` (the candidates for a hard-deleted base). */
export async function shadowOnlyKeys(view: SingleView, store: DocumentStore, shadow: string, batchSize: number): Promise<Row[]> {
  const fields = Object.keys(view.key);
  const out: Row[] = [];
  let after: unknown;
  for (;;) {
    const docs = await store.collection(shadow).find(after === undefined ? {} : { _id: { $gt: after } }, { sort: { _id: 1 }, limit: batchSize });
    if (docs.length === 0) return out;
    after = docs.at(-1)?.['_id'];
    const keys = docs.filter(isLive).map((d) => Object.fromEntries(fields.map((f) => [f, d[f]])));
    const live = await storedByKey(store.collection(view.name), fields, keys);
    for (const key of keys) if (!isLive(live.get(keyString(key)) ?? null)) out.push(key);
  }
}

/** In batches of `size`, for paced work. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function distinctKeys(keys: ReadonlyArray<Row | null>): Row[] {
  const byString = new Map<string, Row>();
  for (const key of keys) if (key) byString.set(keyString(key), key);
  return [...byString.values()];
}
