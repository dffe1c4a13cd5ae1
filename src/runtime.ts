/**
 * `tributary/runtime`: running topologies inside your own process, what `tributary run` and
 * `tributary refresh` do as functions — the runner and signal handling, the Kafka transport, the
 * Confluent-compatible registry client, the MongoDB store, the full rebuild of a single view, its
 * blue/green definitions (shadow, promote, abandon), its lineage (explain) and drift check (verify).
 *
 *   const running = await runTopology(t, { transport: kafkaTransport({ brokers }), registry: confluentRegistry({ url }), store });
 *   stopOnSignals(running);
 *
 * Metrics, logs and the ops server it reports through: `tributary/ops`.
 */
export { runTopology } from './stream/runtime/runner.js';
export type { RunningTopology, RunOptions, StreamStatus } from './stream/runtime/runner.js';
export { stopOnSignals } from './stream/runtime/lifecycle.js';
export type { SignalOptions, Stoppable } from './stream/runtime/lifecycle.js';
export { kafkaTransport } from './stream/transport/kafka/kafka-transport.js';
export type { KafkaTransportOptions } from './stream/transport/kafka/kafka-transport.js';
export { platformaticTransport } from './stream/transport/platformatic/platformatic-transport.js';
export type { PlatformaticTransportOptions } from './stream/transport/platformatic/platformatic-transport.js';
export { createKafkaTransport, parseKafkaClient, parseGroupProtocol, DEFAULT_KAFKA_CLIENT, KAFKA_CLIENTS, GROUP_PROTOCOLS } from './stream/transport/kafka-client.js';
export type { KafkaClient, KafkaClientOptions, GroupProtocol } from './stream/transport/kafka-client.js';
export { COMPRESSIONS, parseCompression } from './stream/transport/codecs.js';
export type { Compression } from './stream/transport/codecs.js';
export { controlTopic } from './stream/control/control-topic.js';
export type { ControlTopicOptions } from './stream/control/control-topic.js';
export type { DesiredStateEntry, DesiredStateSource } from './stream/runtime/desired-state.js';
export type { OutgoingMessage, PartitionOffsets, TopicPartitionOffset, Transport, TransportAdmin, TransportConsumer, TransportProducer } from './stream/transport/types.js';
export { confluentRegistry } from './stream/serdes/registry.js';
export type { ConfluentRegistryOptions } from './stream/serdes/registry.js';
export { MongoDocumentStore } from './store/mongo/mongo-store.js';
export type { MongoDocumentStoreOptions } from './store/mongo/mongo-store.js';
export type { BulkWriteResult, Collection, Document, DocumentStore, Filter, FindOptions, IndexSpec, WriteOperation } from './store/types.js';
export { refreshSingleView } from './fastdata/refresh/refresh-view.js';
export type { RefreshOptions, RefreshProgress, RefreshResult } from './fastdata/refresh/refresh-view.js';
export { fileCheckpoint, memoryCheckpoint } from './fastdata/refresh/checkpoint.js';
export type { RefreshCheckpoint, RefreshPosition } from './fastdata/refresh/checkpoint.js';
export { abandonShadow, buildShadow, promoteShadow } from './fastdata/refresh/blue-green.js';
export type { BlueGreenOptions, BuildReport, PromoteOptions, PromoteReport } from './fastdata/refresh/blue-green.js';
export type { DiffSummary, ViewDifference } from './fastdata/refresh/view-diff.js';
export { retriggerDrifted, verifyViews } from './fastdata/refresh/verify-views.js';
export type { Drift, DriftKind, VerifyOptions, VerifyReport } from './fastdata/refresh/verify-views.js';
export { explainView, viewKeyFromText } from './fastdata/singleview/lineage.js';
export type { Explanation, SourceRow } from './fastdata/singleview/lineage.js';
export { readDefinitions } from './fastdata/singleview/definitions.js';
export type { ViewDefinitions } from './fastdata/singleview/definitions.js';
export type { Clock } from './stream/runtime/clock.js';
