/**
 * The public surface, pinned: every name each package entry exports, values and types. A change
 * here is a change of the published API — deliberate, reviewed, and written in the docs. Anything
 * not listed is internal (`parseQ`, `kebabCase`, `classifyMongoError`, … stay out of every entry).
 * Values are read from the module at run time; types from the compiler, over the same source files
 * the build compiles (package.json "exports" maps each entry to its compiled file: checked below).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import ts from 'typescript';

/** entry → source file (compiled to dist/<same path>.js). */
const ENTRIES = {
  '.': 'src/index.ts',
  './testing': 'src/testing/index.ts',
  './runtime': 'src/runtime.ts',
  './ops': 'src/operations.ts',
  './serve': 'src/serve/index.ts',
} as const;

const SURFACE: Record<keyof typeof ENTRIES, { values: string; types: string }> = {
  '.': {
    values: `DEAD_LETTER_HEADERS ERROR_CODES FAST_DATA_STAGES TributaryError avro basic casts customAdapter db2 debezium debeziumDecimal defineBatchOperator defineOperator epochDaysToDate
      fastData field filter flatMap goldenGate hasMany hasOne hasValue importFastDataConfig isTopology isTributaryError json jsonString
      loadFastDataProject map mapAsync mapValues microTimestampToDate patchFrom peek projection psCasts singleView string toCollection toTopic topology viewSource`,
    types: `AdapterInput AdapterResult AvroCodec AvroSchema AvroSerdeOptions BatchIO BatchOperatorSpec Branches CastFunction CdcAdapter ChangeEvent ChangeOperation ChangePosition
      CheckedIncludes CustomAdapterFunction CustomMappingFunction DebeziumDecimalMode DecodedBatch DebeziumDecimalOptions DebeziumOptions ErrorCode ErrorDecision
      ErrorPolicy FastDataDeclarations FastDataOptions FastDataStage FastDataTopics FastDataTopology FieldSpec FieldsOf GoldenGateOptions HeaderValue Headers IdentifierFunction KeyedFieldsOf
      ImportFastDataConfigOptions ImportedFastData ImportedSingleViewConfig ImportedViewOptions Includes JoinOn KafkaInfo KeyValue
      AggregationErrorType LoadFastDataProjectOptions ManualStrategy MapContext MapInput Operator OperatorContext OperatorInfo OperatorKind PrUpdate PrUpdateOptions PrUpdateV1
      PatchRule PrUpdateV2 PrUpdateVersion Projection ProjectionImportOptions ProjectionOptions ProjectionSource PsAdapterOutput RecordFailure RecordOrigin
      RecordState Relation RelationOptions Resolved RetryOptions Row RtuAdapterOutput SchemaRegistryClient Serde SerdeContext SerdeType SingleView
      SingleViewOptions SkipReason Stream StreamOptions StreamRecord SubTopologyDescription SvTrigger SvUpdateOptions ToCollectionOptions
      ToTopicOptions Topology TopologyDescription TributaryErrorOptions ViewSource`,
  },
  './testing': {
    values: 'MemoryBroker MemoryDocumentStore TestDriver computeViews memoryRegistry memoryTransport storedViews virtualClock',
    types: 'Clock InputRecord OutputRecord TestDriverOptions VirtualClock',
  },
  './runtime': {
    values: `COMPRESSIONS DEFAULT_KAFKA_CLIENT GROUP_PROTOCOLS KAFKA_CLIENTS MongoDocumentStore abandonShadow buildShadow confluentRegistry controlTopic createKafkaTransport
      explainView fileCheckpoint kafkaTransport memoryCheckpoint parseCompression parseGroupProtocol parseKafkaClient platformaticTransport promoteShadow readDefinitions
      refreshSingleView retriggerDrifted runTopology stopOnSignals verifyViews viewKeyFromText`,
    types: `BlueGreenOptions BuildReport BulkWriteResult Clock Collection Compression ConfluentRegistryOptions ControlTopicOptions DesiredStateEntry DesiredStateSource DiffSummary
      Document DocumentStore Drift DriftKind Explanation Filter FindOptions GroupProtocol IndexSpec KafkaClient KafkaClientOptions KafkaTransportOptions
      MongoDocumentStoreOptions OutgoingMessage PartitionOffsets PlatformaticTransportOptions PromoteOptions PromoteReport RefreshCheckpoint RefreshOptions RefreshPosition
      RefreshProgress RefreshResult SourceRow VerifyOptions VerifyReport ViewDefinitions ViewDifference
      RunOptions RunningTopology SignalOptions Stoppable StreamStatus TopicPartitionOffset Transport TransportAdmin TransportConsumer
      TransportProducer WriteOperation`,
  },
  './ops': {
    values: 'DEFAULT_OPS_HOST DEFAULT_OPS_PORT METRIC_DEFINITIONS METRIC_NAMES SERVE_METRIC_DEFINITIONS createDashboard createLogger createMetrics startOpsServer',
    types: `Dashboard DashboardOptions DashboardSnapshot HealthReport Logger LoggerOptions MetricDefinition MetricName MetricType Metrics MetricsOptions OpsRoute OpsRouteRequest
      OpsRouteResponse OpsServer OpsServerOptions ScrapeSource`,
  },
  './serve': {
    values: 'createReadApi createServeMetrics view',
    types: 'QueryLimits ReadApi ReadApiOptions ReadDeclarations ServeMetrics View ViewMode ViewOptions ViewRow',
  },
};

const words = (list: string) => list.split(/\s+/).filter(Boolean);

describe('public surface', () => {
  const program = ts.createProgram(Object.values(ENTRIES), {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    skipLibCheck: true,
    noEmit: true,
    types: ['node'],
  });
  const checker = program.getTypeChecker();

  for (const [entry, file] of Object.entries(ENTRIES) as Array<[keyof typeof ENTRIES, string]>) {
    it(`tributary${entry.slice(1)} exports exactly the pinned names`, async () => {
      const values = Object.keys((await import(`../../${file}`)) as object).sort();
      const source = program.getSourceFile(file);
      const symbol = source && checker.getSymbolAtLocation(source);
      assert.ok(symbol, `${file} is a module`);
      const types = checker
        .getExportsOfModule(symbol)
        .map((s) => s.name)
        .filter((name) => !values.includes(name))
        .sort();
      assert.deepEqual(values, words(SURFACE[entry].values).sort(), `values of tributary${entry.slice(1)}`);
      assert.deepEqual(types, words(SURFACE[entry].types).sort(), `types of tributary${entry.slice(1)}`);
    });
  }

  it('package.json maps every entry, and only those, to its compiled file and declarations', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { exports: Record<string, unknown>; types: string };
    const expected = Object.fromEntries(
      Object.entries(ENTRIES).map(([entry, file]) => {
        const compiled = `./dist/${file.replace(/\.ts$/, '')}`;
        return [entry, { types: `${compiled}.d.ts`, default: `${compiled}.js` }];
      }),
    );
    assert.deepEqual(pkg.exports, { ...expected, './package.json': './package.json' });
    assert.equal(pkg.types, './dist/src/index.d.ts');
  });

  it('keeps internals out of every entry', async () => {
    const everything = new Set<string>();
    for (const file of Object.values(ENTRIES)) for (const name of Object.keys((await import(`../../${file}`)) as object)) everything.add(name);
    for (const internal of ['parseQ', 'kebabCase', 'classifyMongoError', 'REFUSED_OPERATORS', 'toTributaryError', 'applyFields', 'isOperator', 'standaloneContext', 'openApiDocument']) {
      assert.equal(everything.has(internal), false, `${internal} is internal`);
    }
  });
});
