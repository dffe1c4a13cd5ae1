import type { SchemaRegistryClient } from './registry.js';

/** What a serde may need at run time; supplied by the runtime, not by the user. */
export interface SerdeContext {
  readonly topic: string;
  readonly part: 'key' | 'value';
  readonly registry?: SchemaRegistryClient;
}

/**
 * Turns bytes into values and back. `deserialize` throws a TributaryError (`TRB_DECODE`,
 * `TRB_SCHEMA`) for a bad record; `serialize` throws `TRB_ENCODE`. Either may be async (Avro asks
 * the registry once per schema id, then caches).
 */
export interface Serde<T> {
  readonly name: string;
  /** True when (de)serializing needs `RunOptions.registry` (Avro): the runner refuses to start without one. */
  readonly needsRegistry?: boolean;
  deserialize(bytes: Buffer | null, context: SerdeContext): T | Promise<T>;
  serialize(value: T, context: SerdeContext): Buffer | null | Promise<Buffer | null>;
}

/** The value type a serde produces. */
export type SerdeType<S> = S extends Serde<infer T> ? T : never;
