import type { Serde } from './types.js';

/** UTF-8 text. `null` bytes (a tombstone or a missing key) decode to `null`. */
export function string(): Serde<string | null> {
  return {
    name: 'string',
    deserialize: (bytes) => (bytes === null ? null : bytes.toString('utf8')),
    serialize: (value) => (value === null ? null : Buffer.from(value, 'utf8')),
  };
}
