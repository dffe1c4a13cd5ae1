/** Fast Data config import: erSchema.json, aggregation.json, projectionChangesSchema.json, singleViewKey.json and projection field definitions --> declarations. */
export { importFastDataConfig } from './import.js';
export type { ConfigFileNames, CustomMappingFunction, IdentifierFunction, ImportedFastData, ImportedSingleViewConfig, ImportedViewOptions, ImportFastDataConfigOptions } from './import.js';
export { loadFastDataProject } from './load.js';
export type { LoadFastDataProjectOptions } from './load.js';
export type { ProjectionImportOptions } from './projections.js';
