/**
 * `sv-trigger` v1.0.0 (Fast Data §3.7) and `sv-update` v1.0.0 / v2.0.0 (§4.7) events.
 *
 *   view key {customer_id: c7}  --svTrigger-->  {type: 'aggregation', singleViewName, singleViewIdentifier, change, __internal__kafkaInfo, retry?}
 *   written view                --svUpdate v1-->  {operationType, operationTimestamp, singleViewName, source, __internal__kafkaInfo, before?, after?}
 *                               --svUpdate v2-->  {operation: {type, timestamp}, source, storageNamespace, primaryKeys, before, after}
 *                                                 (+ header context {ingestion: {topic, partitionID, offset, timestamp, pollTimestamp}}, as pr-update v2)
 */
import type { Row } from '../cdc/change-event.js';
import { withoutId } from '../projection/metadata.js';

export interface SvTrigger {
  readonly type: 'aggregation';
  readonly singleViewName: string;
  readonly singleViewIdentifier: Row;
  readonly change: { readonly projectionName: string; readonly projectionIdentifier: Row | null; readonly data: Row | null };
  readonly __internal__kafkaInfo: unknown;
  readonly retry?: { readonly attempts: number; readonly lastError: { readonly type: string; readonly message: string } };
}

export const SV_TRIGGER_HEADERS = { messageSchema: JSON.stringify({ type: 'sv-trigger', version: 'v1.0.0' }) } as const;

export function readSvTrigger(value: unknown): SvTrigger | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Partial<SvTrigger>;
  if (typeof v.singleViewIdentifier !== 'object' || v.singleViewIdentifier === null) return null;
  return v as SvTrigger;
}

export type OperationType = 'INSERT' | 'UPDATE' | 'DELETE';

export interface SvUpdateContext {
  readonly view: string;
  readonly source: string;
  readonly version: 'v1.0.0' | 'v2.0.0';
  readonly beforeAfter: boolean;
  readonly primaryKeys: readonly string[];
  readonly now: Date;
}

const plain = (doc: Row | null): Row | null => {
  const d = withoutId(doc);
  return d === null ? null : (JSON.parse(JSON.stringify(d)) as Row);
};

export function svUpdateOf(type: OperationType, before: Row | null, after: Row | null, kafkaInfo: unknown, context: SvUpdateContext): { value: Row; headers: Record<string, string> } {
  const timestamp = context.now.toISOString();
  if (context.version === 'v2.0.0') {
    const ingestion = ingestionOf(kafkaInfo, timestamp);
    return {
      headers: { messageSchema: JSON.stringify({ type: 'sv-update', version: 'v2.0.0' }), ...(ingestion ? { context: JSON.stringify({ ingestion }) } : {}) },
      value: { operation: { type, timestamp }, source: context.source, storageNamespace: context.view, primaryKeys: context.primaryKeys, before: plain(before), after: plain(after) },
    };
  }
  return {
    headers: { messageSchema: JSON.stringify({ type: 'sv-update', version: 'v1.0.0' }) },
    value: {
      operationType: type,
      operationTimestamp: timestamp,
      singleViewName: context.view,
      source: context.source,
      __internal__kafkaInfo: kafkaInfo,
      ...(context.beforeAfter ? { before: plain(before), after: plain(after) } : {}),
    },
  };
}

/** The v2.0.0 `context` header (as on pr-update v2.0.0) from the trigger's `__internal__kafkaInfo`, when it has one. */
function ingestionOf(kafkaInfo: unknown, pollTimestamp: string): Row | null {
  if (typeof kafkaInfo !== 'object' || kafkaInfo === null) return null;
  const info = kafkaInfo as Row;
  if (typeof info['topic'] !== 'string') return null;
  const offset = Number(info['offset']);
  return { topic: info['topic'], partitionID: info['partition'], offset: Number.isFinite(offset) ? offset : info['offset'], timestamp: info['timestamp'], pollTimestamp };
}
