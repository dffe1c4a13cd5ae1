/**
 * Lineage of a single view: which projection rows went into one view document, where each came
 * from in its source (topic, partition, offset, ordering counter such as an LSN) and when, and
 * which trigger last rebuilt the view.
 *
 * The aggregate stage records, per view key, the trigger of its last aggregation in
 * `<view>-lineage` (one bulk write per batch, after the view write), keyed by `_id` (the key's
 * value, or the key object for a key of several fields): an upsert by `_id` alone costs DocumentDB
 * about two thirds of one by a unique key index (bench/end-to-end.ts's probe: 105 against 165 µs).
 *
 *   { _id: 'c7', customer_id: 'c7', trigger: { projection: 'pr_order_lines', identifier: {...}, kafkaInfo: {topic, partition, offset, …}, attempts },
 *     outcome: 'upsert' | 'delete', definition: '<version>', aggregatedAt }
 *
 * `explainView` puts it together for one key:
 *
 *   explainView(view, {customer_id: 'c7'}, store)
 *     --> { document, lineage, sources: [{ path: '$base', projection: 'pr_customers', primaryKey, position: {topic, partition, offset, counter, counterType}, updatedAt }, { path: 'orders', … }, …] }
 */
import { isDeepStrictEqual } from 'node:util';
import { TributaryError } from '../../errors.js';
import { isDuplicateKey, type DocumentStore, type WriteOperation } from '../../store/types.js';
import type { Row } from '../cdc/change-event.js';
import { COUNTER, COUNTER_TYPE, KAFKA_INFO, STATE, withoutId } from '../projection/metadata.js';
import { readDefinitions } from './definitions.js';
import type { SvTrigger } from './events.js';
import { findMatching } from './lookups.js';
import type { RelationNode } from './relations.js';
import { baseFilterOf, type SingleView } from './single-view.js';

export const lineageCollection = (view: SingleView | string) => `${typeof view === 'string' ? view : view.name}-lineage`;

/**
 * The `_id` of a key's lineage record: the value of a one-field key, else the key's fields in the
 * view's key order (an embedded `_id` matches only with its fields in one order).
 *
 *   lineageId(sv_customers, { customer_id: 'c7' })   --> 'c7'
 *   lineageId(sv_lines, { line: 2, order_id: 9 })   --> { order_id: 9, line: 2 }   (key declared order_id, line)
 */
export function lineageId(view: SingleView, key: Row): unknown {
  const fields = Object.keys(view.key);
  return fields.length === 1 ? key[fields[0] as string] : Object.fromEntries(fields.map((f) => [f, key[f]]));
}

/** The lineage record of one aggregation (replaces the previous one of the key). */
export function lineageWrite(view: SingleView, key: Row, trigger: SvTrigger, outcome: 'upsert' | 'delete', at: Date): WriteOperation {
  const _id = lineageId(view, key);
  return {
    kind: 'replace',
    filter: { _id },
    document: Object.assign({ _id }, key, {
      trigger: {
        projection: trigger.change?.projectionName ?? null,
        identifier: trigger.change?.projectionIdentifier ?? null,
        kafkaInfo: trigger.__internal__kafkaInfo ?? null,
        attempts: trigger.retry?.attempts ?? 0,
      },
      outcome,
      definition: view.version,
      aggregatedAt: at,
    }),
  };
}

/**
 * Before the aggregate stage writes lineage: a `<view>-lineage` collection of the earlier layout
 * (records found by a unique index on the view key, each `_id` an ObjectId) is dropped, with
 * that index. Its records only say which trigger last rebuilt each view: each comes back at the
 * key's next aggregation. A collection of the current layout, or an empty one, is kept.
 */
export async function upgradeLineage(view: SingleView, store: DocumentStore): Promise<boolean> {
  const collection = store.collection(lineageCollection(view));
  const record = await collection.findOne({});
  if (record === null || isDeepStrictEqual(record['_id'], lineageId(view, record))) return false;
  await collection.drop();
  return true;
}

/**
 * Writes the batch's lineage records. A duplicate key means the earlier layout's unique key index
 * is back (a worker of the earlier version started during a rolling update and built it) and holds
 * records of some of these keys: those records are deleted, and the error is rethrown so that the
 * write is retried (the afterProduce step) and now lands.
 */
export async function writeLineage(view: SingleView, records: readonly WriteOperation[], write: (collection: string, operations: readonly WriteOperation[]) => Promise<unknown>): Promise<void> {
  try {
    await write(lineageCollection(view), records);
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
    const fields = Object.keys(view.key);
    const stale = records.flatMap((r) => (r.kind === 'replace' ? [{ kind: 'delete' as const, filter: { ...Object.fromEntries(fields.map((f) => [f, r.document[f]])), _id: { $ne: r.document['_id'] } } }] : []));
    await write(lineageCollection(view), stale);
    throw error;
  }
}

export interface SourceRow {
  /** Where in the include tree: '$base', 'orders', 'orders.lines'. */
  readonly path: string;
  readonly projection: string;
  readonly primaryKey: Row;
  readonly state: unknown;
  /** The source record that last wrote the row: Kafka position and the ordering counter (LSN, ts_ms, pos, Kafka timestamp). */
  readonly position: { readonly topic: unknown; readonly partition: unknown; readonly offset: unknown; readonly timestamp: unknown; readonly counter: unknown; readonly counterType: unknown };
  /** When Tributary wrote the row. */
  readonly updatedAt: unknown;
  readonly document: Row;
}

export interface Explanation {
  readonly view: string;
  readonly key: Row;
  /** The stored view, or null when there is none. */
  readonly document: Row | null;
  readonly lineage: Row | null;
  /** The definition this explanation was computed with, and the one recorded as live. */
  readonly definition: { readonly declared: string; readonly live: string | null; readonly promotedAt: Date | null };
  readonly sources: readonly SourceRow[];
}

export async function explainView(view: SingleView, key: Row, store: DocumentStore): Promise<Explanation> {
  const [document, lineage, definitions, sources] = await Promise.all([
    store.collection(view.name).findOne(key),
    store.collection(lineageCollection(view)).findOne({ _id: lineageId(view, key) }),
    readDefinitions(store, view.name),
    sourcesOf(view, key, store),
  ]);
  return {
    view: view.name,
    key,
    document: withoutId(document),
    lineage: withoutId(lineage),
    definition: { declared: view.version, live: definitions.live?.version ?? null, promotedAt: definitions.live?.promotedAt ?? null },
    sources,
  };
}

/** Every projection row the aggregation of `key` reads (the states it uses), as assemble() joins them. */
export async function sourcesOf(view: SingleView, key: Row, store: DocumentStore): Promise<SourceRow[]> {
  const states = view.options.onStates ?? ['PUBLIC'];
  const bases = (await store.collection(view.tree.projection.name).find(baseFilterOf(view, key))).filter((d) => states.includes(d[STATE] as never));
  const out: SourceRow[] = bases.map((d) => sourceRow('$base', view.tree, d));
  const walk = async (node: RelationNode, parents: Row[]): Promise<void> => {
    for (const child of node.children) {
      const relation = child.relation;
      if (!relation || parents.length === 0) continue;
      const found = (await findMatching(store.collection(child.projection.name), parents, relation.on, { [STATE]: { $in: [...relation.onStates] } })).filter((d) => relation.onStates.includes(d[STATE] as never));
      out.push(...found.map((d) => sourceRow(child.path.join('.'), child, d)));
      await walk(child, found);
    }
  };
  await walk(view.tree, bases);
  return out;
}

function sourceRow(path: string, node: RelationNode, doc: Row): SourceRow {
  const info = (doc[KAFKA_INFO] ?? {}) as Row;
  return {
    path,
    projection: node.projection.name,
    primaryKey: Object.fromEntries(node.projection.primaryKey.map((k) => [k, doc[k]])),
    state: doc[STATE],
    position: { topic: info['topic'] ?? null, partition: info['partition'] ?? null, offset: info['offset'] ?? null, timestamp: info['timestamp'] ?? null, counter: doc[COUNTER] ?? null, counterType: doc[COUNTER_TYPE] ?? null },
    updatedAt: doc['updatedAt'] ?? null,
    document: withoutId(doc) as Row,
  };
}

/**
 * A view key from text (a CLI argument, a query string): each view-key field's value, cast to a
 * number when its base field is a number; a field missing is a TRB_CONFIG error naming the fields.
 *
 *   viewKeyFromText(sv_customers, { customer_id: 'c0001' })  --> { customer_id: 'c0001' }
 *   viewKeyFromText(sv_orders, '42')                          --> { order_id: 42 }   (one key field, integer)
 */
export function viewKeyFromText(view: SingleView, input: string | Readonly<Record<string, unknown>>): Row {
  const fields = Object.keys(view.key);
  let values: Readonly<Record<string, unknown>>;
  if (typeof input === 'string') {
    const text = input.trim();
    if (text.startsWith('{')) {
      try {
        values = JSON.parse(text) as Record<string, unknown>;
      } catch (error) {
        throw new TributaryError('TRB_CONFIG', `the key ${JSON.stringify(input)} is not valid JSON: ${(error as Error).message}`);
      }
    } else if (fields.length === 1) values = { [fields[0] as string]: text };
    else throw new TributaryError('TRB_CONFIG', `${view.name} has a key of ${fields.length} fields (${fields.join(', ')}): give it as JSON, e.g. ${JSON.stringify(Object.fromEntries(fields.map((f) => [f, '…'])))}`);
  } else values = input;
  const key: Row = {};
  for (const field of fields) {
    const value = values[field];
    if (value === undefined || value === '') throw new TributaryError('TRB_CONFIG', `the key of ${view.name} needs ${fields.join(', ')}; ${field} is missing`);
    const kind = view.tree.projection.options.fields[view.key[field] as string]?.kind;
    key[field] = typeof value === 'string' && (kind === 'number' || kind === 'integer') && value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : value;
  }
  return key;
}
