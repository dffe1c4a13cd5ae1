/**
 * Declaring a projection: a typed, cast copy of one source table, fed by one CDC topic.
 *
 *   const customers = projection({
 *     name: 'pr_customers',
 *     source: { topic: 'crm.public.customers', adapter: debezium(), value: avro() },
 *     primaryKey: ['customer_id'],
 *     fields: { customer_id: field.string(), name: field.string({ from: 'full_name' }) },
 *   });
 *
 * The document type is inferred from `fields`, and flows into single views that include it.
 */
import { TributaryError } from '../../errors.js';
import type { IndexSpec } from '../../store/types.js';
import { json } from '../../stream/serdes/json.js';
import type { Serde } from '../../stream/serdes/types.js';
import type { CdcAdapter } from '../cdc/change-event.js';
import type { FieldSpec, KeyedFieldsOf } from './fields.js';
import type { PrUpdateVersion } from './pr-update.js';

export interface ProjectionSource {
  readonly topic: string;
  readonly adapter: CdcAdapter;
  /** Default: JSON. */
  readonly key?: Serde<unknown>;
  /** Default: JSON. Use `avro()` for Avro through the registry. */
  readonly value?: Serde<unknown>;
}

export interface PrUpdateOptions {
  /** Default `<topicPrefix><name>.pr-update`. */
  readonly topic?: string;
  /** Default 'v2.0.0'. */
  readonly version?: PrUpdateVersion;
  /** Default 'json'; 'avro' writes through the schema registry with schemas/pr-update-*.avsc. */
  readonly format?: 'json' | 'avro';
}

/**
 * Default `versionCacheSize`: keys per source partition. Bounded so a worker's memory stays flat
 * under any backlog (a cached entry is the key's whole stored document).
 */
export const DEFAULT_VERSION_CACHE_SIZE = 2_000;

export interface ProjectionOptions<F extends Record<string, FieldSpec<unknown>>, Key extends keyof F & string = keyof F & string> {
  readonly name: string;
  readonly source: ProjectionSource;
  /** Typed present in the documents, whatever the fields say: a row without one is dead-lettered. */
  readonly primaryKey: ReadonlyArray<Key>;
  readonly fields: F;
  /** 'soft' (default) keeps the row with `__STATE__: DELETED`; 'hard' removes it. */
  readonly deleteMode?: 'soft' | 'hard';
  /** System of record, the `source` of pr-update events (default: the source topic). */
  readonly systemOfRecord?: string;
  readonly prUpdate?: PrUpdateOptions;
  /** Extra indexes, e.g. on foreign keys read by strategies (those of declared relations are added automatically). */
  readonly indexes?: readonly IndexSpec[];
  /**
   * Also create Fast Data's counter and state indexes (§2.8: `mia_internal_counter_index`,
   * `mia_internal_counter_type_index`, `mia_state_index`), for tools of yours that query by them.
   * Tributary's own reads never do, and each index is written on every projection write: on
   * DocumentDB the three together cut ingest write throughput to about a third (docs/fastdata.md).
   * Default false: the unique primary-key index and the relation indexes only.
   */
  readonly fastDataIndexes?: boolean;
  /**
   * Keys per source partition whose stored version the ingest stage keeps in memory, so a batch
   * reads only the keys it has not seen (default {@link DEFAULT_VERSION_CACHE_SIZE}; 0 = off, every
   * batch reads its keys). A stale entry costs one retried batch, never a wrong write: every write
   * is conditional on the version it was planned from (docs/fastdata.md). Always off with
   * `deleteMode: 'hard'` (a conditional delete that matches nothing is silent).
   */
  readonly versionCacheSize?: number;
}

/** A declared projection. `Doc` is the document type inferred from its fields. */
export interface Projection<Doc extends object = Record<string, unknown>> {
  readonly kind: 'projection';
  readonly name: string;
  readonly options: ProjectionOptions<Record<string, FieldSpec<unknown>>>;
  readonly primaryKey: readonly string[];
  /** Phantom: carries the document type to single views. Never set at run time. */
  readonly __doc?: Doc;
}

export function projection<F extends Record<string, FieldSpec<unknown>>, Key extends keyof F & string>(options: ProjectionOptions<F, Key>): Projection<KeyedFieldsOf<F, Key>> {
  if (!/^[A-Za-z0-9_-]+$/.test(options.name)) {
    throw new TributaryError('TRB_TOPOLOGY', `projection name '${options.name}' may only use letters, digits, '_' and '-' (it is a collection name)`);
  }
  if (options.primaryKey.length === 0) throw new TributaryError('TRB_TOPOLOGY', `projection '${options.name}' needs at least one primary key field`);
  for (const k of options.primaryKey) {
    if (!(k in options.fields)) throw new TributaryError('TRB_TOPOLOGY', `primary key '${k}' of projection '${options.name}' is not one of its fields`);
  }
  return {
    kind: 'projection',
    name: options.name,
    options: options as unknown as ProjectionOptions<Record<string, FieldSpec<unknown>>>,
    primaryKey: [...options.primaryKey],
  };
}

export function sourceSerdes(p: Projection<object>): { key: Serde<unknown>; value: Serde<unknown> } {
  return { key: p.options.source.key ?? p.options.source.adapter.defaultKey ?? json<unknown>(), value: p.options.source.value ?? json<unknown>() };
}

export function prUpdateTopic(p: Projection<object>, topicPrefix: string): string {
  return p.options.prUpdate?.topic ?? `${topicPrefix}${p.name}.pr-update`;
}

/**
 * A projection's indexes: the unique primary key (`mia_primary_key_index`, as Fast Data names it),
 * Fast Data's counter and state indexes when `fastDataIndexes` asks for them (§2.8), and declared
 * extras (the relation indexes among them). An index with the key pattern of one already listed is
 * left out: MongoDB refuses a second index on the same keys (IndexOptionsConflict), e.g. a
 * foreign-key index on a primary key field.
 */
export function projectionIndexes(p: Projection<object>, extra: readonly IndexSpec[] = []): IndexSpec[] {
  const pk = Object.fromEntries(p.primaryKey.map((k) => [k, 1 as const]));
  const all: IndexSpec[] = [
    { name: 'mia_primary_key_index', fields: pk, unique: true },
    ...(p.options.fastDataIndexes === true
      ? [
          { name: 'mia_internal_counter_index', fields: { ...pk, __internal__counter: 1 as const, __internal__counterType: 1 as const } },
          { name: 'mia_internal_counter_type_index', fields: { ...pk, __internal__counterType: 1 as const } },
          { name: 'mia_state_index', fields: { ...pk, __STATE__: 1 as const } },
        ]
      : []),
    ...(p.options.indexes ?? []),
    ...extra,
  ];
  const patterns = new Set<string>();
  return all.filter((index) => {
    const pattern = JSON.stringify(Object.entries(index.fields));
    if (patterns.has(pattern)) return false;
    patterns.add(pattern);
    return true;
  });
}
