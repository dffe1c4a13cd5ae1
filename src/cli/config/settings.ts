/**
 * Every setting of every command, in one table: its flag (also its key in a config file), its
 * environment variable, and what it accepts. The commands' option parsers, their `--help` and the
 * config file's accepted keys are all derived from this table, so none of them can drift from the
 * code that reads the values (config/*.ts).
 *
 *   { key: 'kafka-brokers', env: 'KAFKA_BROKERS', arg: '<list>', help: '…' }
 *     --> parseArgs option { 'kafka-brokers': { type: 'string' } }
 *     --> help line "  --kafka-brokers <list>   KAFKA_BROKERS   …"
 *     --> config file key "kafka-brokers"
 */

export interface Setting {
  /** Flag name (`--key`) and config-file key. */
  readonly key: string;
  /** Environment variable, if any. */
  readonly env?: string;
  /** `false`: no flag (secrets: command lines are visible to every user of the machine; tuning). */
  readonly flag?: false;
  /** `false`: not accepted in a config file (the file path itself, one-off actions, tokens). */
  readonly file?: false;
  /** A flag without a value (true when given). */
  readonly boolean?: true;
  /** Placeholder of the value in help, e.g. `<list>`. */
  readonly arg?: string;
  /** What it does, its default and what it accepts: the help line. */
  readonly help: string;
}

const s = (setting: Setting): Setting => setting;

export const SETTINGS = {
  config: s({ key: 'config', env: 'TRIBUTARY_CONFIG', file: false, arg: '<file.json>', help: 'JSON object of settings keyed by flag name, e.g. {"kafka-brokers": "…", "paused": true}; flags win over environment variables, which win over the file' }),
  'log-level': s({ key: 'log-level', env: 'LOG_LEVEL', arg: '<level>', help: 'fatal|error|warn|info|debug|trace|silent, default info' }),

  'kafka-brokers': s({ key: 'kafka-brokers', env: 'KAFKA_BROKERS', arg: '<list>', help: 'bootstrap brokers: host:port or [ipv6]:port, comma-separated; default 127.0.0.1:9092' }),
  'kafka-client-id': s({ key: 'kafka-client-id', env: 'KAFKA_CLIENT_ID', arg: '<id>', help: 'client id the brokers see (quotas, logs); default the topology name' }),
  'kafka-client': s({ key: 'kafka-client', env: 'KAFKA_CLIENT', arg: '<client>', help: 'Kafka client library: platformatic (default) or kafkajs (docs/kafka.md)' }),
  'kafka-group-protocol': s({ key: 'kafka-group-protocol', env: 'KAFKA_GROUP_PROTOCOL', arg: '<protocol>', help: 'classic (default) or consumer (KIP-848, Kafka 4; platformatic only)' }),
  'instance-id': s({ key: 'instance-id', env: 'TRIBUTARY_INSTANCE_ID', arg: '<id>', help: "static group membership: this worker's stable name, unique per worker (e.g. the pod name); restarted under it, it gets its partitions back at once (platformatic only)" }),
  'control-topic': s({ key: 'control-topic', env: 'TRIBUTARY_CONTROL_TOPIC', arg: '<topic>', help: 'compacted topic with the pause/resume state every instance shares and restarts keep; default <topology>.control, none: pauses stay in this process' }),
  'kafka-sasl-mechanism': s({ key: 'kafka-sasl-mechanism', env: 'KAFKA_SASL_MECHANISM', arg: '<m>', help: 'plain | scram-sha-256 | scram-sha-512; default none (no SASL)' }),
  'kafka-sasl-username': s({ key: 'kafka-sasl-username', env: 'KAFKA_SASL_USERNAME', arg: '<user>', help: 'required with a mechanism' }),
  'kafka-sasl-password': s({ key: 'kafka-sasl-password', env: 'KAFKA_SASL_PASSWORD', flag: false, help: 'required with a mechanism (or the _FILE variant)' }),
  'kafka-sasl-password-file': s({ key: 'kafka-sasl-password-file', env: 'KAFKA_SASL_PASSWORD_FILE', arg: '<file>', help: 'file holding the SASL password (not with KAFKA_SASL_PASSWORD)' }),
  'kafka-tls': s({ key: 'kafka-tls', env: 'KAFKA_TLS', boolean: true, help: 'TLS to the brokers (implied by any TLS file); true|false' }),
  'kafka-tls-ca-file': s({ key: 'kafka-tls-ca-file', env: 'KAFKA_TLS_CA_FILE', arg: '<pem>', help: 'CA certificate(s) to trust; default the system store' }),
  'kafka-tls-cert-file': s({ key: 'kafka-tls-cert-file', env: 'KAFKA_TLS_CERT_FILE', arg: '<pem>', help: 'client certificate (mutual TLS), with its key' }),
  'kafka-tls-key-file': s({ key: 'kafka-tls-key-file', env: 'KAFKA_TLS_KEY_FILE', arg: '<pem>', help: 'private key of the client certificate' }),
  'kafka-tls-reject-unauthorized': s({ key: 'kafka-tls-reject-unauthorized', env: 'KAFKA_TLS_REJECT_UNAUTHORIZED', arg: '<bool>', help: 'verify the brokers\' certificates; default true (false only for testing)' }),

  registry: s({ key: 'registry', env: 'SCHEMA_REGISTRY_URL', arg: '<url>', help: 'http(s) URL of a Confluent-compatible schema registry (needed for avro()); user:password@ in it is basic auth' }),
  'registry-username': s({ key: 'registry-username', env: 'SCHEMA_REGISTRY_USERNAME', arg: '<user>', help: 'registry basic auth user' }),
  'registry-password': s({ key: 'registry-password', env: 'SCHEMA_REGISTRY_PASSWORD', flag: false, help: 'registry basic auth password (or the _FILE variant)' }),
  'registry-password-file': s({ key: 'registry-password-file', env: 'SCHEMA_REGISTRY_PASSWORD_FILE', arg: '<file>', help: 'file holding the registry password' }),

  mongo: s({ key: 'mongo', env: 'MONGODB_URL', arg: '<url>', help: 'MongoDB connection string as the driver takes it: mongodb:// (one host or a replica-set list) or mongodb+srv://, credentials and options included' }),
  'mongo-database': s({ key: 'mongo-database', env: 'MONGODB_DATABASE', arg: '<name>', help: 'letters, digits, _ or -, at most 63; default tributary' }),

  'http-host': s({ key: 'http-host', env: 'HTTP_HOST', arg: '<host>', help: 'ops server interface (metrics, health, status, dashboard, control); default 127.0.0.1' }),
  'http-port': s({ key: 'http-port', env: 'HTTP_PORT', arg: '<port>', help: 'ops server port, 0-65535 (0 = any free port); default 9464' }),
  'control-token': s({ key: 'control-token', env: 'TRIBUTARY_CONTROL_TOKEN', flag: false, file: false, help: 'bearer token of pause/resume (≥ 16 characters); without it they answer 403' }),
  'ops-token': s({ key: 'ops-token', env: 'TRIBUTARY_OPS_TOKEN', flag: false, file: false, help: 'bearer token (or the password of HTTP Basic auth) for /metrics, /topology, /status, /dashboard (≥ 16 characters); without it they are open. /-/healthz and /-/ready stay open' }),
  only: s({ key: 'only', env: 'TRIBUTARY_ONLY', arg: '<a,b>', help: 'only these streams or stages (ingest, trigger, aggregate, or a stream name)' }),
  paused: s({ key: 'paused', env: 'TRIBUTARY_START_PAUSED', boolean: true, help: 'start with every stream paused (initial load); resume through the control API' }),

  'kafka-connection-timeout-ms': s({ key: 'kafka-connection-timeout-ms', env: 'KAFKA_CONNECTION_TIMEOUT_MS', flag: false, help: 'TCP/TLS connect timeout per broker; default 10000' }),
  'consumer-max-bytes-per-partition': s({ key: 'consumer-max-bytes-per-partition', env: 'KAFKA_CONSUMER_MAX_BYTES_PER_PARTITION', flag: false, help: 'bytes fetched per partition at most (the batch size); default 262144 (platformatic client), 1048576 (kafkajs)' }),
  'consumer-max-bytes': s({ key: 'consumer-max-bytes', env: 'KAFKA_CONSUMER_MAX_BYTES', flag: false, help: 'bytes per fetch request at most; default 10485760' }),
  'consumer-max-wait-ms': s({ key: 'consumer-max-wait-ms', env: 'KAFKA_CONSUMER_MAX_WAIT_MS', flag: false, help: 'longest wait of a fetch with no data; default 500' }),
  'consumer-max-buffered-records': s({ key: 'consumer-max-buffered-records', env: 'KAFKA_CONSUMER_MAX_BUFFERED_RECORDS', flag: false, help: 'records a stream holds at once, fetched ahead and being worked (platformatic client); default 2000' }),
  'consumer-max-batch-records': s({ key: 'consumer-max-batch-records', env: 'KAFKA_CONSUMER_MAX_BATCH_RECORDS', flag: false, help: 'records worked at once per partition (a larger fetched batch is worked in chunks); default 500' }),
  'consumer-combine-partitions': s({ key: 'consumer-combine-partitions', env: 'KAFKA_CONSUMER_COMBINE_PARTITIONS', flag: false, help: 'work the batches of partitions fetched together as one batch (one store round trip and one produce for all; each partition committed on its own): true|false; default true' }),
  'consumer-min-bytes': s({ key: 'consumer-min-bytes', env: 'KAFKA_CONSUMER_MIN_BYTES', flag: false, help: "fetch.min.bytes: the broker holds a fetch until this many bytes or the max wait; default 1" }),
  'consumer-session-timeout-ms': s({ key: 'consumer-session-timeout-ms', env: 'KAFKA_CONSUMER_SESSION_TIMEOUT_MS', flag: false, help: 'group session timeout; default 30000' }),
  'consumer-heartbeat-interval-ms': s({ key: 'consumer-heartbeat-interval-ms', env: 'KAFKA_CONSUMER_HEARTBEAT_INTERVAL_MS', flag: false, help: 'group heartbeat, below the session timeout; default 3000' }),
  'consumer-partitions-concurrently': s({ key: 'consumer-partitions-concurrently', env: 'KAFKA_CONSUMER_PARTITIONS_CONCURRENTLY', flag: false, help: 'partition batches processed at once per stream; default 64' }),
  'producer-compression': s({ key: 'producer-compression', env: 'KAFKA_PRODUCER_COMPRESSION', flag: false, help: 'compression of produced batches: none, gzip, snappy, lz4, zstd; default none' }),
  'producer-max-request-bytes': s({ key: 'producer-max-request-bytes', env: 'KAFKA_PRODUCER_MAX_REQUEST_BYTES', flag: false, help: 'bytes per produce request at most (a batch\'s outputs are split); default 800000' }),
  'producer-max-message-bytes': s({ key: 'producer-max-message-bytes', env: 'KAFKA_PRODUCER_MAX_MESSAGE_BYTES', flag: false, help: 'largest record a sink may produce (keep under the broker\'s message.max.bytes); default 1000000' }),

  host: s({ key: 'host', env: 'SERVE_HOST', arg: '<host>', help: 'read API interface; default 127.0.0.1' }),
  port: s({ key: 'port', env: 'SERVE_PORT', arg: '<port>', help: 'read API port, 0-65535 (0 = any free port); default 3000' }),

  'cursor-key': s({ key: 'cursor-key', env: 'SERVE_CURSOR_KEY', flag: false, file: false, help: 'key signing the _after cursors, ≥ 32 characters; set the same on every replica; default a random key per process' }),
  'max-time-ms': s({ key: 'max-time-ms', env: 'SERVE_MAX_TIME_MS', flag: false, file: false, help: 'time budget of each store query, ms (0 = none; past it 503 TRB_QUERY_TIMEOUT); default 5000' }),

  url: s({ key: 'url', env: 'TRIBUTARY_URL', arg: '<url>', help: 'the instance\'s ops server; default http://127.0.0.1:9464' }),
  token: s({ key: 'token', env: 'TRIBUTARY_CONTROL_TOKEN', arg: '<token>', help: 'control token the instance was started with (pause/resume; status too when it has an ops token)' }),
  'client-ops-token': s({ key: 'client-ops-token', env: 'TRIBUTARY_OPS_TOKEN', flag: false, file: false, help: 'ops token the instance was started with (status, when --token is not given)' }),

  'batch-size': s({ key: 'batch-size', arg: '<n>', help: 'documents read and triggered per batch, ≥ 1; default 500' }),
  rate: s({ key: 'rate', arg: '<n>', help: 'triggers per second at most, ≥ 0 (0 = no limit); default 1000. Live triggers share the topic: an unbounded refresh delays them' }),
  checkpoint: s({ key: 'checkpoint', arg: '<file>', help: 'progress file; default .tributary/refresh-<topology>-<view>.json' }),
  restart: s({ key: 'restart', boolean: true, file: false, help: 'ignore an existing checkpoint and start from the first document' }),

  // Blue/green definitions of a single view (refresh), lineage and drift (explain, verify).
  shadow: s({ key: 'shadow', boolean: true, file: false, help: "build the file's definition into <view>__shadow beside the live view; report the diff and the validation failures" }),
  promote: s({ key: 'promote', boolean: true, file: false, help: 'switch the shadow in: catch up, fence every writer, rename it over the live collection, send an sv-update per changed view' }),
  abandon: s({ key: 'abandon', boolean: true, file: false, help: 'drop the shadow (before its promote has renamed it)' }),
  'grace-ms': s({ key: 'grace-ms', arg: '<n>', help: '--promote: wait after fencing for writes already under way, ≥ 0; default 5000' }),
  samples: s({ key: 'samples', arg: '<n>', help: 'sample documents per kind of difference in the report, ≥ 0; default 3' }),
  sample: s({ key: 'sample', arg: '<f>', file: false, help: 'share of the views checked, 0 < f ≤ 1; default 1 (all)' }),
  seed: s({ key: 'seed', arg: '<text>', file: false, help: 'picks the sample: the same seed checks the same views; default random' }),
  retrigger: s({ key: 'retrigger', boolean: true, file: false, help: 'send an sv-trigger per drifted view: the running aggregate stage rebuilds it' }),

  format: s({ key: 'format', arg: '<format>', help: 'output format' }),
  create: s({ key: 'create', boolean: true, file: false, help: 'create the missing topics' }),
  partitions: s({ key: 'partitions', env: 'TRIBUTARY_TOPIC_PARTITIONS', arg: '<n>', help: 'partitions of each topic created, ≥ 1; default the broker\'s num.partitions' }),
  'replication-factor': s({ key: 'replication-factor', env: 'TRIBUTARY_TOPIC_REPLICATION_FACTOR', arg: '<n>', help: 'replicas of each topic created, ≥ 1; default the broker\'s default.replication.factor' }),
  limit: s({ key: 'limit', arg: '<n>', file: false, help: 'at most this many dead letters, the oldest first' }),
  codes: s({ key: 'codes', arg: '<a,b>', file: false, help: 'only dead letters with these error codes (e.g. TRB_DECODE)' }),
  offsets: s({ key: 'offsets', arg: '<p:o,…>', file: false, help: 'only these dead letters, as partition:offset' }),
  offline: s({ key: 'offline', boolean: true, file: false, help: 'list the topics from the topology alone, without asking a broker' }),

  events: s({ key: 'events', arg: '<n>', file: false, help: 'CDC records to generate (default 20000)' }),
  customers: s({ key: 'customers', arg: '<n>', file: false, help: 'customers in the initial snapshot (default 500)' }),
  real: s({ key: 'real', boolean: true, file: false, help: 'use real services: KAFKA_BROKERS, SCHEMA_REGISTRY_URL, MONGODB_URL (each defaults to the local service of "tributary infra up")' }),
  kafka: s({ key: 'kafka', arg: '<brokers>', file: false, help: 'Kafka bootstrap servers (implies real services)' }),
  brokers: s({ key: 'brokers', arg: '<1|3>', file: false, help: '3: kafka (named or by default) means the three-node cluster kafka-1..3; default 1' }),
  cdc: s({ key: 'cdc', boolean: true, file: false, help: 'real CDC instead of the generator: PostgreSQL, Kafka Connect and Debezium (scripts/infra up --cdc; needs the repository)' }),
} as const satisfies Record<string, Setting>;

export type SettingKey = keyof typeof SETTINGS;

/** Keys a config file may hold: every setting of every command that is not flagged `file: false`. */
export const FILE_KEYS: readonly SettingKey[] = (Object.keys(SETTINGS) as SettingKey[]).filter((key) => (SETTINGS[key] as Setting).file !== false);

/** A titled group of settings in a command's help. */
export interface OptionSection {
  readonly title: string;
  readonly keys: readonly SettingKey[];
  /** Help lines that differ for this command (another default, the accepted formats). */
  readonly help?: Partial<Record<SettingKey, string>>;
  /** A line after the section's options. */
  readonly note?: string;
}

export const KAFKA_CONNECTION: OptionSection = {
  title: 'Kafka (passwords only from the environment, a *_FILE or the config file, never a flag)',
  keys: ['kafka-brokers', 'kafka-client-id', 'kafka-sasl-mechanism', 'kafka-sasl-username', 'kafka-sasl-password', 'kafka-sasl-password-file', 'kafka-tls', 'kafka-tls-ca-file', 'kafka-tls-cert-file', 'kafka-tls-key-file', 'kafka-tls-reject-unauthorized'],
};
export const KAFKA_CLIENT: OptionSection = { title: 'Kafka client and control plane', keys: ['kafka-client', 'kafka-group-protocol', 'instance-id', 'control-topic'] };
export const REGISTRY: OptionSection = { title: 'Schema registry', keys: ['registry', 'registry-username', 'registry-password', 'registry-password-file'] };
export const MONGO: OptionSection = {
  title: 'Document store',
  keys: ['mongo', 'mongo-database'],
  note: 'Credentials go in the URL (mongodb://user:password@h1,h2/?replicaSet=rs0&authSource=admin); secrets never appear in output.',
};
export const TUNING: OptionSection = {
  title: 'Kafka tuning (environment or config file)',
  keys: ['kafka-connection-timeout-ms', 'consumer-max-bytes-per-partition', 'consumer-max-bytes', 'consumer-max-wait-ms', 'consumer-min-bytes', 'consumer-max-batch-records', 'consumer-combine-partitions', 'consumer-max-buffered-records', 'consumer-session-timeout-ms', 'consumer-heartbeat-interval-ms', 'consumer-partitions-concurrently', 'producer-compression', 'producer-max-request-bytes', 'producer-max-message-bytes'],
};
/** The producer settings of the Kafka client (refresh, verify); producer-max-message-bytes is run's alone (the runtime checks it). */
export const PRODUCER_TUNING: OptionSection = { title: 'Kafka tuning (environment or config file)', keys: ['kafka-connection-timeout-ms', 'producer-compression', 'producer-max-request-bytes'] };
export const GENERAL: OptionSection = { title: 'General', keys: ['config', 'log-level'] };
/** GENERAL of a command whose output is its report: it logs at warn unless told otherwise. */
export const GENERAL_WARN: OptionSection = { ...GENERAL, help: { 'log-level': 'fatal|error|warn|info|debug|trace|silent, default warn' } };
