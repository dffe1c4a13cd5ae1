/**
 * "Nothing doubled", checked on what consumers see: every pr-update, sv-update and dead letter names
 * the change it carries, and each change may be published more than once only within the
 * at-least-once bound of docs/guarantees.md ("How often a consumer sees a change"):
 *
 *   A stage publishes a change once per attempt of the batch that holds it. A batch is attempted
 *   again only after a fault: a fault opens, on every source partition, the window
 *   [committed offset of the ingest group when the fault began, end of the partition once the
 *   worker had caught up after it) — the only source records that can be handled twice.
 *
 *   pr-update, dead letter   count(change) <= 1 + W           W = windows holding its source record
 *   sv-update                count(change) <= A (1 + F)^2     A = pr-updates announcing the version
 *                            it names, F = faults of the run (the trigger and aggregate stages each
 *                            repeat what they were handling once per fault)
 *
 * With no fault (W = F = 0) each pr-update and dead letter is published exactly once, and each
 * sv-update at most as often as the version behind it was announced: a source that delivers an
 * event twice (Debezium after its own restart) announces the stored version again (the replay
 * guard's "no trigger lost"), and the view is announced again.
 *
 * Changes are identified as a consumer can: a pr-update by its topic, key and the source record of
 * its `context` header (Fast Data v2.0.0: `ingestion.topic/partitionID/offset`, the batch's last
 * event of the key); the version it announces is its `after.__internal__kafkaInfo` (the last event
 * applied); an sv-update by its key and its `__internal__kafkaInfo` (v1.0.0: the version behind the
 * view's trigger); a dead letter by its `tributary.source.*` headers. Pure functions, unit-tested
 * (test/unit/faults-delivery.test.ts).
 */

export interface SourceRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
}

/** The records of one source partition a fault may have had handled twice: [from, to). */
export interface FaultWindow {
  readonly fault: string;
  readonly topic: string;
  readonly partition: number;
  readonly from: bigint;
  readonly to: bigint;
}

export type Kind = 'pr-update' | 'sv-update' | 'dead letter';

/** One record as a consumer reads it, named by the change it carries. */
export interface Published {
  readonly kind: Kind;
  readonly change: string;
  readonly source: SourceRecord;
  /** pr-update only: the version of the projection document it announces (`versionOf`). */
  readonly announces?: string;
}

/** A version of a projection document: the source record last applied to it. */
export const versionOf = (s: SourceRecord) => `${s.topic}/${s.partition}@${s.offset}`;

/** A record read back from a topic: what the parsers below need. */
export interface ConsumedRecord {
  readonly topic: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Readonly<Record<string, string>>;
}

/** A record key as JSON text with no incidental spacing. */
export const canonicalKey = (key: Buffer | null) => (key === null ? 'null' : JSON.stringify(JSON.parse(key.toString()) as unknown));

/** A pr-update v2.0.0: its source record is the `context` header's `ingestion`. */
export function prUpdateChange(record: ConsumedRecord): Published {
  const context = record.headers['context'];
  if (context === undefined) throw new Error(`a pr-update on ${record.topic} without its context header`);
  const ingestion = (JSON.parse(context) as { ingestion?: { topic?: unknown; partitionID?: unknown; offset?: unknown } }).ingestion;
  const source = sourceOf(ingestion?.topic, ingestion?.partitionID, ingestion?.offset, `the context header of a pr-update on ${record.topic}`);
  const after = record.value === null ? null : (JSON.parse(record.value.toString()) as { after?: { __internal__kafkaInfo?: { topic?: unknown; partition?: unknown; offset?: unknown } } | null }).after;
  const info = after?.__internal__kafkaInfo;
  const announces = info ? versionOf(sourceOf(info.topic, info.partition, info.offset, `after.__internal__kafkaInfo of a pr-update on ${record.topic}`)) : undefined;
  return { kind: 'pr-update', change: `${record.topic} ${canonicalKey(record.key)} ${versionOf(source)}`, source, ...(announces ? { announces } : {}) };
}

/** An sv-update v1.0.0: its source record is `__internal__kafkaInfo`. */
export function svUpdateChange(record: ConsumedRecord): Published {
  const value = record.value === null ? null : (JSON.parse(record.value.toString()) as { __internal__kafkaInfo?: { topic?: unknown; partition?: unknown; offset?: unknown } });
  const info = value?.__internal__kafkaInfo;
  const source = sourceOf(info?.topic, info?.partition, info?.offset, `__internal__kafkaInfo of an sv-update on ${record.topic}`);
  return { kind: 'sv-update', change: `${record.topic} ${canonicalKey(record.key)} ${versionOf(source)}`, source };
}

/** A dead letter: its source record is in the `tributary.source.*` headers. */
export function deadLetterChange(record: ConsumedRecord): Published {
  const h = record.headers;
  const source = sourceOf(h['tributary.source.topic'], h['tributary.source.partition'], h['tributary.source.offset'], `the tributary.source.* headers of a dead letter on ${record.topic}`);
  return { kind: 'dead letter', change: `${record.topic} ${versionOf(source)}`, source };
}

function sourceOf(topic: unknown, partition: unknown, offset: unknown, where: string): SourceRecord {
  if (typeof topic !== 'string' || (typeof partition !== 'number' && typeof partition !== 'string') || (typeof offset !== 'number' && typeof offset !== 'string')) {
    throw new Error(`no source record in ${where}: ${JSON.stringify({ topic, partition, offset })}`);
  }
  return { topic, partition: Number(partition), offset: BigInt(offset) };
}

/** How many windows hold `source`. */
export function windowsHolding(windows: readonly FaultWindow[], source: SourceRecord): number {
  return windows.filter((w) => w.topic === source.topic && w.partition === source.partition && w.from <= source.offset && source.offset < w.to).length;
}

/**
 * The most times a change of `kind` may be published (module comment); `announced` = how many
 * pr-updates announced each version.
 */
export function atLeastOnceBound(kind: Kind, source: SourceRecord, windows: readonly FaultWindow[], faults: number, announced: ReadonlyMap<string, number>): number {
  if (kind === 'sv-update') return (announced.get(versionOf(source)) ?? 0) * (1 + faults) ** 2;
  return 1 + windowsHolding(windows, source);
}

export interface DeliveryReport {
  /** Per kind: distinct changes, records, and changes published more than once. */
  readonly counts: Readonly<Record<Kind, { changes: number; records: number; repeated: number; most: number }>>;
  /** Changes published more often than their bound allows. */
  readonly violations: readonly string[];
}

/** Counts each change and checks it against its bound. `faults` = the faults of the run (windows come from them). */
export function checkDelivery(published: readonly Published[], windows: readonly FaultWindow[], faults: number): DeliveryReport {
  const tally = new Map<string, { entry: Published; count: number }>();
  const announced = new Map<string, number>();
  for (const p of published) {
    if (p.announces !== undefined) announced.set(p.announces, (announced.get(p.announces) ?? 0) + 1);
    const id = `${p.kind} ${p.change}`;
    const seen = tally.get(id);
    if (seen) seen.count++;
    else tally.set(id, { entry: p, count: 1 });
  }
  const counts = { 'pr-update': { changes: 0, records: 0, repeated: 0, most: 0 }, 'sv-update': { changes: 0, records: 0, repeated: 0, most: 0 }, 'dead letter': { changes: 0, records: 0, repeated: 0, most: 0 } };
  const violations: string[] = [];
  for (const { entry, count } of tally.values()) {
    const c = counts[entry.kind];
    c.changes++;
    c.records += count;
    if (count > 1) c.repeated++;
    c.most = Math.max(c.most, count);
    const bound = atLeastOnceBound(entry.kind, entry.source, windows, faults, announced);
    if (count > bound) {
      const why = entry.kind === 'sv-update' ? `its version announced by ${announced.get(versionOf(entry.source)) ?? 0} pr-updates` : `${windowsHolding(windows, entry.source)} fault windows hold its source record`;
      violations.push(`${entry.kind} ${entry.change}: published ${count} times, at most ${bound} allowed (${why}, ${faults} faults)`);
    }
  }
  return { counts, violations };
}
