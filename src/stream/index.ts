/**
 * The stream layer's part of `tributary` (authoring): topologies, operators, serdes and the types
 * that flow through them. Running a topology (runtime, transports, the registry client) is in
 * src/runtime.ts (`tributary/runtime`).
 */
export { isTopology, topology } from './topology.js';
export type { Branches, ErrorDecision, ErrorPolicy, RecordFailure, RetryOptions, Stream, StreamOptions, Topology } from './topology.js';
export type { SubTopologyDescription, TopologyDescription } from './describe.js';
export { hasValue } from './record.js';
export type { KeyValue, RecordOrigin, StreamRecord } from './record.js';
export type { HeaderValue, Headers } from './transport/types.js';
export { DEAD_LETTER_HEADERS } from './runtime/dead-letter.js';
export { defineBatchOperator, defineOperator, filter, flatMap, map, mapAsync, mapValues, peek, toCollection, toTopic } from './operators/index.js';
export type { BatchIO, BatchOperatorSpec, DecodedBatch, Operator, OperatorContext, OperatorInfo, OperatorKind, ToCollectionOptions, ToTopicOptions } from './operators/index.js';
export { avro, json, string } from './serdes/index.js';
export type { AvroCodec, AvroSchema, AvroSerdeOptions, SchemaRegistryClient, Serde, SerdeContext, SerdeType } from './serdes/index.js';
