export { string } from './string.js';
export { json } from './json.js';
export { avro } from './avro.js';
export type { AvroSerdeOptions } from './avro.js';
export { confluentRegistry, memoryRegistry } from './registry.js';
export type { AvroCodec, AvroSchema, ConfluentRegistryOptions, SchemaRegistryClient } from './registry.js';
export type { Serde, SerdeContext, SerdeType } from './types.js';
