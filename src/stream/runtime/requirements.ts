/**
 * What a run must have before it starts, checked once against everything its streams declare: a
 * schema registry for any Avro serde (sources and sinks) or operator that needs one, a document
 * store for any operator that writes or reads one. Missing either would fail every batch (a setup
 * error, not bad input), so the run is refused with TRB_CONFIG naming the streams.
 *
 *   streams [ingest:pr_orders (avro source, writeProjection)]  + run without registry
 *     --checkRequirements-->  TRB_CONFIG "no schema registry, but these streams need one: ingest:pr_orders (…)"
 */
import { TributaryError } from '../../errors.js';
import { operatorsOf, type StreamDefinition } from '../definition.js';
import { operatorInfo } from '../operators/define.js';

export interface Available {
  readonly registry: boolean;
  readonly store: boolean;
}

export function checkRequirements(definitions: readonly StreamDefinition[], available: Available): void {
  const needs = (d: StreamDefinition, what: 'registry' | 'store') => operatorsOf(d).some((op) => operatorInfo(op).needs?.[what] === true);
  if (!available.registry) {
    const missing = definitions.filter((d) => d.key.needsRegistry === true || d.value.needsRegistry === true || needs(d, 'registry'));
    if (missing.length > 0) {
      throw new TributaryError('TRB_CONFIG', `no schema registry, but these streams read or write Avro: ${list(missing)}; set SCHEMA_REGISTRY_URL or --registry (tributary run), or pass \`registry\` to runTopology`, { context: { streams: missing.map((d) => d.name) } });
    }
  }
  if (!available.store) {
    const missing = definitions.filter((d) => needs(d, 'store'));
    if (missing.length > 0) {
      throw new TributaryError('TRB_CONFIG', `no document store, but these streams write or read one: ${list(missing)}; set MONGODB_URL or --mongo (tributary run), or pass \`store\` to runTopology`, { context: { streams: missing.map((d) => d.name) } });
    }
  }
}

const list = (definitions: readonly StreamDefinition[]) => definitions.map((d) => `${d.name} (${d.topics.join(', ')})`).join('; ');
