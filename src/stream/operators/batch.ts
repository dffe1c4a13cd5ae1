/**
 * The shape every batch stage shares — decode each record, work the whole batch at once, write,
 * emit — written once. `toCollection` and the Fast Data stages (ingest, trigger, aggregate) are
 * built on it; each says only what is its own:
 *
 *   records of a batch (one partition's, or several partitions' fetched together, each in order)
 *     --decode(record)-->  item, or nothing to do        (a throw: that record to the error policy)
 *     --work({ records, kept, items }, io)-->  records passed downstream   (one call per batch)
 *     ~~> io.write(collection, operations): one bulk write, timed for metrics
 *     ~~> io.emit(message): produced with the batch, before its offsets are committed
 *
 * The operator declares every collection and topic it writes (`io.write` and `io.emit` refuse any
 * other, so `describe()` cannot miss one), the collections it reads, and whether it needs a store
 * or a registry (the runtime refuses to start without them, instead of failing at the first batch).
 */
import { mergeMap, toArray } from 'rxjs';
import { TributaryError, type ErrorCode } from '../../errors.js';
import type { MetricsSink } from '../../ops/metrics.js';
import type { BulkWriteResult, DocumentStore, WriteOperation } from '../../store/types.js';
import type { AnyRecord } from '../record.js';
import type { SchemaRegistryClient } from '../serdes/registry.js';
import type { Serde } from '../serdes/types.js';
import type { OutgoingMessage } from '../transport/types.js';
import { defineOperator, DROPPED, guarded, undeclared, type Operator, type OperatorContext, type OperatorInfo, type OperatorNeeds, type OperatorOutput } from './define.js';

/** What a batch operator's `decode` and `work` may do besides computing. */
export interface BatchIO {
  readonly stream: string;
  /** The document store; present whenever the operator declared `needs.store` (checked at start). */
  readonly store: DocumentStore;
  readonly registry?: SchemaRegistryClient;
  /** Where the operator counts its own metrics (absent when it runs standalone). */
  readonly metrics?: MetricsSink;
  /** One bulk write to a declared collection, timed for metrics; no call (and null) for no operations. */
  write(collection: string, operations: readonly WriteOperation[]): Promise<BulkWriteResult | null>;
  /** Queues a record for a declared topic; it is produced with the batch, before the commit. */
  emit(message: OutgoingMessage): void;
  /**
   * Work done after the batch's records are produced and before its offsets are committed, e.g. a
   * write that records what the batch did: it is durable before the commit without holding back
   * the records downstream stages wait for. A failure retries it alone (the batch's work and
   * produce are not redone).
   */
  afterProduce(work: () => Promise<void>): void;
  /** The run's clock, in ms since the epoch (for timestamps written into documents and events). */
  now(): number;
  /** Serialises a value for a topic with the run's registry (Avro serdes need it). */
  serialize<T>(serde: Serde<T>, topic: string, value: T): Buffer | null | Promise<Buffer | null>;
  /** Sends one record through the stream's error policy (it is then left out of the batch's work). */
  reject(record: AnyRecord, error: unknown, code: ErrorCode): void;
}

/** One batch, decoded (the records of one partition, or of several fetched together: `record.partition` says which). */
export interface DecodedBatch<In, Item> {
  /** Every record of the batch, each partition's in offset order (those the policy rejected or with nothing to do included). */
  readonly records: readonly In[];
  /** The records that decoded to an item, and their items, index for index. */
  readonly kept: readonly In[];
  readonly items: readonly Item[];
}

export interface BatchOperatorSpec<In extends AnyRecord, Item, Out> {
  readonly name: string;
  readonly needs: OperatorNeeds;
  /** Every collection and topic `work` writes; a write anywhere else fails the batch with TRB_TOPOLOGY. */
  readonly writes: readonly OperatorOutput[];
  /** Collections it reads (for describe()). */
  readonly reads?: readonly string[];
  /** Code of a record whose `decode` throws (default TRB_DECODE). */
  readonly decodeCode?: ErrorCode;
  /** One record → the item the batch works on, or `undefined` when the record carries nothing to do. */
  decode(record: In, io: BatchIO): Item | undefined;
  /**
   * The batch at once; called only when at least one record decoded to an item. What it resolves
   * to is passed downstream in order. It may be any iterable: it is read one record at a time, each
   * passed on before the next is read, so a generator lets a synchronous next stage (a sink with a
   * JSON serde) be done with each record before the next one is built.
   */
  work(batch: DecodedBatch<In, Item>, io: BatchIO): Promise<Iterable<Out>>;
}

export function defineBatchOperator<In extends AnyRecord, Item, Out>(spec: BatchOperatorSpec<In, Item, Out>): Operator<In, Out> {
  const info: OperatorInfo = { name: spec.name, kind: spec.writes.length > 0 ? 'sink' : 'transform', writes: spec.writes, reads: spec.reads ?? [], needs: spec.needs };
  const collections = new Set(spec.writes.filter((o) => o.kind === 'collection').map((o) => o.name));
  const code = spec.decodeCode ?? 'TRB_DECODE';
  return defineOperator(info, (context) => {
    // Standalone (no runtime, so no produce), work handed to afterProduce runs at the end of the batch.
    const later: Array<() => Promise<void>> = [];
    const io = batchIO(info, context, collections, context.afterProduce ? (work) => context.afterProduce?.(work) : (work) => void later.push(work));
    const decode = (record: In) => spec.decode(record, io);
    return (source) =>
      source.pipe(
        toArray(),
        mergeMap(async (records) => {
          const kept: In[] = [];
          const items: Item[] = [];
          for (const record of records) {
            const item = guarded(context, record, code, decode);
            if (item === DROPPED || item === undefined) continue;
            kept.push(record);
            items.push(item);
          }
          if (items.length === 0) return [];
          const out = await spec.work({ records, kept, items }, io);
          for (let work = later.shift(); work; work = later.shift()) await work();
          return out;
        }),
        mergeMap((out) => out),
      );
  });
}

function batchIO(info: OperatorInfo, context: OperatorContext, collections: ReadonlySet<string>, afterProduce: (work: () => Promise<void>) => void): BatchIO {
  const store = (): DocumentStore => {
    if (!context.store) throw new TributaryError('TRB_CONFIG', `${info.name} needs a document store (set MONGODB_URL or pass store)`);
    return context.store;
  };
  return {
    stream: context.stream,
    get store() {
      return store();
    },
    ...(context.registry ? { registry: context.registry } : {}),
    ...(context.metrics ? { metrics: context.metrics } : {}),
    async write(collection, operations) {
      if (!collections.has(collection)) throw undeclared(info, 'collection', collection);
      if (operations.length === 0) return null;
      const started = performance.now();
      const result = await store().collection(collection).bulkWrite(operations);
      context.observeStoreWrite(collection, (performance.now() - started) / 1000);
      return result;
    },
    emit: (message) => context.emit(message),
    afterProduce,
    now: () => context.now(),
    serialize: (serde, topic, value) => serde.serialize(value, { topic, part: 'value', ...(context.registry ? { registry: context.registry } : {}) }),
    reject: (record, error, errorCode) => context.reject(record, error, errorCode),
  };
}
