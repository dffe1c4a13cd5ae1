import { TributaryError } from '../../errors.js';
import type { Serde } from './types.js';

export interface JsonSerdeOptions {
  /** What `null` bytes (tombstones, empty keys) decode to. Default `null`. */
  readonly nullAs?: null;
}

/**
 * JSON with a declared type. The type is a promise the producer makes, not a check: validate in an
 * operator if the source is untrusted. Malformed bytes fail with `TRB_DECODE`. The type admits
 * `null`: a tombstone (and an empty key) decodes to null, so `filter(hasValue)` before reading fields.
 */
export function json<T>(): Serde<T | null> {
  return {
    name: 'json',
    deserialize(bytes, context) {
      if (bytes === null || bytes.length === 0) return null;
      try {
        return JSON.parse(bytes.toString('utf8')) as T;
      } catch (error) {
        throw new TributaryError('TRB_DECODE', `malformed JSON in ${context.part} of ${context.topic}: ${(error as Error).message}`, {
          cause: error,
          context: { topic: context.topic, part: context.part },
        });
      }
    },
    serialize(value, context) {
      if (value === null || value === undefined) return null;
      try {
        return Buffer.from(JSON.stringify(value), 'utf8');
      } catch (error) {
        throw new TributaryError('TRB_ENCODE', `cannot encode ${context.part} for ${context.topic} as JSON`, { cause: error });
      }
    },
  };
}
