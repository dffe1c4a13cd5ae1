/**
 * Views as sources: a single view used as the base or a relation of another single view, typed by
 * what its `map` returns.
 *
 *   const orderView = singleView({ name: 'sv_orders', base: orders, ..., delete: 'virtualDelete', svUpdate: { version: 'v2.0.0' } });
 *   const stats = singleView({
 *     name: 'sv_customer_stats',
 *     base: customers,
 *     include: { orders: hasMany(viewSource(orderView), { customer_id: 'customer_id' }) },
 *     map: ({ base, orders }) => ({ customer_id: base.customer_id, revenue: orders.reduce((n, o) => n + o.total, 0) }),  // o: sv_orders' map output
 *   });
 *
 * The upstream view's collection is read like a projection's (its key is the primary key, its
 * `__STATE__` the state), and its sv-update topic plays the part of a pr-update topic: the
 * downstream trigger stage walks the relations up from the `before` and `after` views of each
 * sv-update v2.0.0 (the same shape as pr-update v2.0.0), and the downstream aggregation reads the
 * upstream views as they are stored.
 *
 * Guarantees of a chain (stated in docs/fastdata.md, tested by test/unit/fastdata-view-chain.test.ts
 * and test/integration/view-chain.test.ts): every upstream write is followed, before its trigger is
 * committed, by its sv-update; a replayed batch writes and emits again; so every upstream change
 * reaches the downstream trigger stage at least once, after the upstream view is stored, and the
 * downstream views are recomputed from the stored upstream views. What a replay needs from the
 * upstream view is why the declaration requires:
 *   - sv-update v2.0.0: the `before` image, so a view that lost a relation (an order moved to
 *     another customer) re-aggregates the downstream view it left;
 *   - `delete: 'virtualDelete'`: a deleted upstream view keeps its fields, and a replayed delete of
 *     a view already DELETED emits its sv-update again (the aggregate stage does that for source
 *     views), so a crash between the delete and its event cannot hide the delete downstream.
 */
import { TributaryError } from '../../errors.js';
import type { CdcAdapter } from '../cdc/change-event.js';
import type { Projection } from '../projection/projection.js';
import type { SingleView } from './single-view.js';

const SOURCE_VIEWS = new WeakSet<SingleView<object>>();

/** A projection that is another single view. */
export interface ViewSource<SV extends object> extends Projection<SV> {
  readonly sourceView: SingleView<SV>;
}

/** Nothing is ingested for a view source: its documents are written by the upstream aggregate stage. */
const noIngestion: CdcAdapter = {
  name: 'view-source',
  adapt() {
    throw new TributaryError('TRB_TOPOLOGY', 'a view source has no ingestion: list the upstream single view in fastData({ singleViews }), not in projections');
  },
};

export function viewSource<SV extends object>(view: SingleView<SV>): ViewSource<SV> {
  const where = `single view '${view.name}' used as a source`;
  const svUpdate = view.options.svUpdate;
  if (svUpdate === false || svUpdate?.version !== 'v2.0.0') {
    throw new TributaryError('TRB_TOPOLOGY', `${where} must emit sv-update v2.0.0 (svUpdate: { version: 'v2.0.0' }): its before image tells the views built on it which of them a change left`);
  }
  if (view.options.delete !== 'virtualDelete') {
    throw new TributaryError('TRB_TOPOLOGY', `${where} must keep deleted views (delete: 'virtualDelete'): a replayed delete then still reaches the views built on it`);
  }
  SOURCE_VIEWS.add(view as SingleView<object>);
  const primaryKey = Object.keys(view.key);
  return {
    kind: 'projection',
    name: view.name,
    primaryKey,
    options: { name: view.name, source: { topic: `${view.name}.sv-update`, adapter: noIngestion }, primaryKey, fields: {} },
    sourceView: view,
  };
}

export function isViewSource(p: Projection<object>): p is ViewSource<object> {
  return 'sourceView' in p;
}

/** Whether other views are built on this one (its aggregate stage then re-emits replayed deletes). */
export function isSourceOfViews(view: SingleView<object>): boolean {
  return SOURCE_VIEWS.has(view);
}

/** The upstream views a topology's views read, each once. */
export function viewSourcesOf(views: ReadonlyArray<SingleView<object>>): ViewSource<object>[] {
  const out = new Map<string, ViewSource<object>>();
  for (const v of views) for (const p of v.projections) if (isViewSource(p)) out.set(p.name, p);
  return [...out.values()];
}

/**
 * Chains must end: every upstream view is declared in the same topology (its aggregate stage writes
 * what the downstream one reads), and no view depends on itself through others (an upstream view
 * emits an sv-update on every aggregation, changed or not, so a cycle would never settle).
 */
export function checkViewChains(views: ReadonlyArray<SingleView<object>>): void {
  const declared = new Set(views);
  const upstreamOf = (v: SingleView<object>) => v.projections.filter(isViewSource).map((p) => p.sourceView);
  for (const v of views) {
    for (const up of upstreamOf(v)) {
      if (!declared.has(up)) throw new TributaryError('TRB_TOPOLOGY', `single view '${v.name}' is built on '${up.name}', which is not in this topology's singleViews`);
    }
  }
  const visiting = new Set<SingleView<object>>();
  const done = new Set<SingleView<object>>();
  const visit = (v: SingleView<object>, path: string[]): void => {
    if (done.has(v)) return;
    if (visiting.has(v)) throw new TributaryError('TRB_TOPOLOGY', `single views built on each other in a cycle: ${[...path, v.name].join(' → ')}`);
    visiting.add(v);
    for (const up of upstreamOf(v)) visit(up, [...path, v.name]);
    visiting.delete(v);
    done.add(v);
  };
  for (const v of views) visit(v, []);
}
