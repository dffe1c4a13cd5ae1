/**
 * The Fast Data layer's part of `tributary` (authoring): projections, single views, CDC adapters,
 * casts, and the importer of existing Fast Data configurations. Rebuilding views (refresh) is in
 * src/runtime.ts (`tributary/runtime`).
 */
export { basic, customAdapter, db2, debezium, goldenGate } from './cdc/index.js';
export type {
  AdapterInput,
  AdapterResult,
  CdcAdapter,
  ChangeEvent,
  ChangeOperation,
  ChangePosition,
  CustomAdapterFunction,
  DebeziumOptions,
  GoldenGateOptions,
  PsAdapterOutput,
  Row,
  RtuAdapterOutput,
  SkipReason,
} from './cdc/index.js';
export { field } from './projection/fields.js';
export type { FieldSpec, FieldsOf, KeyedFieldsOf } from './projection/fields.js';
export { casts, psCasts, debeziumDecimal, epochDaysToDate, microTimestampToDate, jsonString } from './projection/casts.js';
export type { CastFunction, DebeziumDecimalMode, DebeziumDecimalOptions } from './projection/casts.js';
export { projection } from './projection/projection.js';
export type { Projection, ProjectionOptions, ProjectionSource, PrUpdateOptions } from './projection/projection.js';
export type { PrUpdate, PrUpdateV1, PrUpdateV2, PrUpdateVersion } from './projection/pr-update.js';
export type { KafkaInfo, RecordState } from './projection/metadata.js';
export { hasMany, hasOne } from './singleview/relations.js';
export type { CheckedIncludes, Includes, JoinOn, Relation, RelationOptions, Resolved } from './singleview/relations.js';
export { singleView } from './singleview/single-view.js';
export type { ManualStrategy, MapContext, MapInput, SingleView, SingleViewOptions, SvUpdateOptions } from './singleview/single-view.js';
export type { AggregationErrorType } from './singleview/aggregation-errors.js';
export { patchFrom } from './singleview/patch.js';
export type { PatchRule } from './singleview/patch.js';
export { viewSource } from './singleview/view-source.js';
export type { ViewSource } from './singleview/view-source.js';
export type { SvTrigger } from './singleview/events.js';
export { FAST_DATA_STAGES, fastData } from './fast-data.js';
export type { FastDataDeclarations, FastDataOptions, FastDataStage, FastDataTopics, FastDataTopology } from './fast-data.js';
export { importFastDataConfig, loadFastDataProject } from './config-import/index.js';
export type {
  CustomMappingFunction,
  IdentifierFunction,
  ImportedFastData,
  ImportedSingleViewConfig,
  ImportedViewOptions,
  ImportFastDataConfigOptions,
  LoadFastDataProjectOptions,
  ProjectionImportOptions,
} from './config-import/index.js';
