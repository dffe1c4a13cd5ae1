/**
 * The configuration module and the command parser: defaults, precedence (flag > environment >
 * config file), every bad value named with what is accepted, each command reading only its own
 * settings, per-command options, --help listing exactly what the parser takes, --version.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clientConfig, configSource, describeConfig, refreshConfig, runConfig, serveConfig, topicsConfig, type RunConfig } from '../../src/cli/config.js';
import { kafkaBrokers } from '../../src/cli/config/connection-strings.js';
import { SETTINGS, FILE_KEYS, type Setting } from '../../src/cli/config/settings.js';
import { parseCommand, renderHelp } from '../../src/cli/command.js';
import { kafkajsSeedBrokers } from '../../src/cli/kafka-client.js';
import { main, SPECS } from '../../src/cli/program.js';
import { TributaryError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'trb-cli-config-'));
const write = (content: string, name = 'tributary.json'): string => {
  const file = join(mkdtempSync(join(dir, 'c-')), name);
  writeFileSync(file, content);
  return file;
};
const load = (env: Record<string, string>, flags: Record<string, string> = {}): RunConfig => runConfig(configSource(env, flags));

/** Asserts a TRB_CONFIG error whose message matches. */
function refused(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof TributaryError && e.code === 'TRB_CONFIG', String(e));
    assert.match(e.message, message);
    return true;
  });
}

async function run(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { env, out: (l) => (out += `${l}\n`), err: (l) => (err += `${l}\n`) });
  return { code, out, err };
}

describe('configuration', () => {
  it('defaults to loopback services and validates every value', () => {
    const c = load({});
    assert.deepEqual(c.kafka.brokers, ['127.0.0.1:9092']);
    assert.equal(c.ops.host, '127.0.0.1');
    assert.equal(c.ops.port, 9464);
    assert.equal(c.logLevel, 'info');
    assert.equal(load({ HTTP_PORT: '1' }, { 'http-port': '0' }).ops.port, 0, 'flags win over the environment');
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ KAFKA_BROKERS: 'kafka' }, /KAFKA_BROKERS="kafka": expected a comma-separated list of host:port/],
      [{ SCHEMA_REGISTRY_URL: 'ftp://x' }, /SCHEMA_REGISTRY_URL="ftp:\/\/x": expected a URL starting with http: or https:/],
      [{ MONGODB_URL: 'nope' }, /MONGODB_URL="nope": expected a MongoDB connection string starting with mongodb:\/\/ or mongodb\+srv:\/\//],
      [{ HTTP_PORT: '70000' }, /HTTP_PORT="70000": expected an integer from 0 to 65535/],
      [{ HTTP_HOST: 'a host' }, /HTTP_HOST="a host": expected a host name or an IPv4 or IPv6 address/],
      [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL="loud": expected fatal, error, warn, info, debug, trace, silent/],
      [{ TRIBUTARY_START_PAUSED: 'maybe' }, /TRIBUTARY_START_PAUSED="maybe": expected true or false/],
      [{ TRIBUTARY_ONLY: ' , ' }, /TRIBUTARY_ONLY=" , ": expected a comma-separated list of stream names or stages/],
      [{ MONGODB_DATABASE: 'a.b' }, /MONGODB_DATABASE="a.b": expected letters, digits/],
      [{ KAFKA_CLIENT_ID: 'a b' }, /KAFKA_CLIENT_ID="a b": expected letters, digits/],
    ];
    for (const [env, message] of cases) refused(() => load(env), message);
  });

  it('treats an empty environment variable as unset', () => {
    assert.deepEqual(load({ KAFKA_BROKERS: '', LOG_LEVEL: '' }).kafka.brokers, ['127.0.0.1:9092']);
  });
});

describe('configuration file', () => {
  it('fills settings by flag name, under the environment and the flags', () => {
    const file = write(JSON.stringify({ 'kafka-brokers': 'k1:9092,k2:9092', 'http-port': 9000, paused: true, only: 'ingest, trigger', 'log-level': 'warn' }));
    const c = load({ TRIBUTARY_CONFIG: file, LOG_LEVEL: 'error' }, { 'http-port': '9100' });
    assert.deepEqual(c.kafka.brokers, ['k1:9092', 'k2:9092']);
    assert.equal(c.ops.port, 9100, 'a flag wins over the file');
    assert.equal(c.logLevel, 'error', 'the environment wins over the file');
    assert.equal(c.startPaused, true);
    assert.deepEqual(c.only, ['ingest', 'trigger']);
    assert.equal(load({}, { config: file }).ops.port, 9000, '--config works like TRIBUTARY_CONFIG');
  });

  it('names the file, the key, the value and what is accepted', () => {
    const cases: Array<[string, RegExp]> = [
      [JSON.stringify({ 'http-port': 'ninety' }), /tributary\.json: "http-port"="ninety": expected an integer/],
      [JSON.stringify({ kafka: 'x' }), /tributary\.json: "kafka"="\\"x\\"": expected no such key in a config file: it is the flag --kafka only/],
      [JSON.stringify({ colour: 'x' }), /tributary\.json: "colour"="\\"x\\"": expected one of the settings log-level, kafka-brokers/],
      [JSON.stringify({ 'control-token': 'x'.repeat(20) }), /"control-token"="\*\*\*": expected no such key in a config file: it is the environment variable TRIBUTARY_CONTROL_TOKEN only/],
      [JSON.stringify({ mongo: { url: 'x' } }), /"mongo".*expected a string, number or boolean/],
      [JSON.stringify(['a']), /expected a JSON object/],
      ['{ not json', /cannot read config file .*tributary\.json/],
    ];
    for (const [content, message] of cases) refused(() => load({ TRIBUTARY_CONFIG: write(content) }), message);
    refused(() => load({}, { config: '/nonexistent/tributary.json' }), /cannot read config file \/nonexistent\/tributary\.json/);
  });

  it('is honoured by every command, each reading its own keys from it', async () => {
    const file = write(JSON.stringify({ format: 'json', port: 3100, host: '0.0.0.0', url: 'http://10.0.0.1:9464', 'batch-size': 50, rate: 0, partitions: 6, 'replication-factor': 3, mongo: 'mongodb://h1,h2/?replicaSet=rs', 'kafka-brokers': 'k1:9092' }));
    const source = () => configSource({}, { config: file });
    assert.equal(describeConfig(source()).format, 'json');
    const serve = serveConfig(source());
    assert.deepEqual([serve.host, serve.port, serve.mongo.url], ['0.0.0.0', 3100, 'mongodb://h1,h2/?replicaSet=rs']);
    assert.equal(clientConfig(source(), 'status').url.href, 'http://10.0.0.1:9464/');
    const refresh = refreshConfig(source());
    assert.deepEqual([refresh.batchSize, refresh.ratePerSecond, refresh.kafka.brokers], [50, 0, ['k1:9092']]);
    const topics = topicsConfig(source());
    assert.deepEqual([topics.partitions, topics.replicationFactor, topics.format], [6, 3, 'json']);
    // Through the program: every command's parser takes --config.
    for (const spec of SPECS) assert.ok(spec.sections.some((s) => s.keys.includes('config')), `${spec.name} takes --config`);
    const described = await run(['describe', 'topologies/orders-enricher.ts', '--config', file]);
    assert.equal(described.code, 0, described.err);
    assert.equal((JSON.parse(described.out) as { name: string }).name, 'orders-enricher');
  });
});

describe('Kafka broker lists', () => {
  it('accepts host names, IPv4 and bracketed IPv6 with ports, spaces around commas', () => {
    assert.deepEqual(kafkaBrokers(['KAFKA_BROKERS', ' b-1.kafka.svc:9092, 10.0.0.7:9093 ,[::1]:9094,[fe80::1%eth0]:9095,[2001:db8::7]:19092'], []), [
      'b-1.kafka.svc:9092',
      '10.0.0.7:9093',
      '[::1]:9094',
      '[fe80::1%eth0]:9095',
      '[2001:db8::7]:19092',
    ]);
  });

  it('refuses what the client cannot use, saying why', () => {
    const cases: Array<[string, RegExp]> = [
      ['SASL_SSL://b:9092', /without a scheme: TLS is --kafka-tls/],
      ['::1:9092', /an IPv6 address needs brackets/],
      ['b:0', /a port from 1 to 65535/],
      ['b:70000', /a port from 1 to 65535/],
      ['b', /host:port/],
      ['[not-ipv6]:9092', /host:port/],
      ['999.1.1.1:9092', /host:port/],
      [',', /a comma-separated list of host:port/],
    ];
    for (const [value, message] of cases) refused(() => kafkaBrokers(['KAFKA_BROKERS', value], []), message);
  });

  it('hands kafkajs IPv6 seed brokers under names it can split, and connects them to the address', async () => {
    const mapped = kafkajsSeedBrokers(['b:9092', '[::ffff:127.0.0.1]:1234', '[fe80::1%eth0]:9092']);
    assert.equal(mapped.brokers[0], 'b:9092');
    for (const seed of mapped.brokers.slice(1)) assert.equal(seed.split(':').length, 2, `kafkajs splits ${seed} into host and port`);
    assert.equal(kafkajsSeedBrokers(['b:9092']).socketFactory, undefined, 'no factory without an IPv6 seed');
    // The factory connects the made-up name to the address it stands for.
    const server = createServer((socket) => socket.end('hello'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const [seed] = kafkajsSeedBrokers([`[::ffff:127.0.0.1]:${port}`]).brokers;
    const factory = kafkajsSeedBrokers([`[::ffff:127.0.0.1]:${port}`]).socketFactory!;
    const received = await new Promise<string>((resolve, reject) => {
      const socket = factory({ host: (seed as string).split(':')[0] as string, port, ssl: undefined as never, onConnect: () => undefined });
      let data = '';
      socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    server.close();
    assert.equal(received, 'hello');
  });
});

describe('MongoDB connection strings', () => {
  it('accepts every form the driver accepts: replica-set lists, mongodb+srv, IPv6, options, credentials', () => {
    for (const url of [
      'mongodb://app:s3cret@h1:27017,h2:27017/x',
      'mongodb://app:s3cret@h1:27017,h2:27017,h3:27017/x?replicaSet=rs0&authSource=admin&readPreference=secondaryPreferred',
      'mongodb+srv://app:s3cret@cluster0.example.net/x?retryWrites=true&w=majority',
      'mongodb://[::1]:27017,[::1]:27018/x',
      'mongodb://tributary:tributary-secret@127.0.0.1:27017/?authMechanism=SCRAM-SHA-256&directConnection=true',
      'mongodb://app:p%40ss@h1/?tls=true&tlsCertificateKeyFile=/k.pem&tlsCertificateKeyFilePassword=kf-secret',
    ]) {
      assert.equal(load({ MONGODB_URL: url }).mongo?.url, url, url);
    }
  });

  it('refuses what the driver refuses, with its reason and without the password', () => {
    const cases: Array<[string, RegExp]> = [
      ['mongodb+srv://app:s3cret@h1,h2/x', /cannot have multiple service names/],
      ['mongodb+srv://app:s3cret@h1:27017/x', /cannot have port number/],
      ['mongodb://app:s3cret@h1/?bogusOption=1', /option bogusoption is not supported/],
      ['mongodb://app:s3cret@h1,h2/?directConnection=true', /directConnection option requires exactly one host/],
      ['mongodb://app:s3cret@h1/?tls=maybe', /tls\/ssl must be either "true" or "false"/],
    ];
    for (const [url, reason] of cases) {
      refused(() => load({ MONGODB_URL: url }), reason);
      assert.throws(() => load({ MONGODB_URL: url }), (e: Error) => !e.message.includes('s3cret') && /MONGODB_URL="mongodb(\+srv)?:\/\/app:\*\*\*@/.test(e.message));
    }
  });
});

describe('ops tokens', () => {
  it('needs at least 16 characters without spaces, and never prints the token', () => {
    for (const variable of ['TRIBUTARY_CONTROL_TOKEN', 'TRIBUTARY_OPS_TOKEN']) {
      refused(() => load({ [variable]: 'short-secret' }), new RegExp(`invalid ${variable}="\\*\\*\\*": expected a token of at least 16 characters without spaces \\(it has 12\\)`));
      refused(() => load({ [variable]: 'long enough but with spaces' }), /without spaces/);
      assert.throws(() => load({ [variable]: 'short-secret' }), (e: Error) => !e.message.includes('short-secret'));
    }
    const c = load({ TRIBUTARY_CONTROL_TOKEN: 'c'.repeat(16), TRIBUTARY_OPS_TOKEN: 'r'.repeat(24) });
    assert.deepEqual([c.ops.controlToken, c.ops.readToken], ['c'.repeat(16), 'r'.repeat(24)]);
    assert.deepEqual([...c.redactor.secrets].sort(), ['c'.repeat(16), 'r'.repeat(24)]);
  });
});

describe('Kafka tuning', () => {
  it('takes consumer and producer tuning from the config file or the environment', () => {
    const file = write(JSON.stringify({
      'consumer-max-bytes-per-partition': 2097152,
      'consumer-max-bytes': 20971520,
      'consumer-max-wait-ms': 100,
      'consumer-session-timeout-ms': 45000,
      'consumer-heartbeat-interval-ms': 5000,
      'consumer-partitions-concurrently': 8,
      'producer-compression': 'gzip',
      'producer-max-request-bytes': 500000,
      'producer-max-message-bytes': 2000000,
      'kafka-connection-timeout-ms': 3000,
    }));
    const c = load({ TRIBUTARY_CONFIG: file, KAFKA_CONSUMER_MAX_WAIT_MS: '250' });
    assert.deepEqual(c.consumer, { maxBytesPerPartition: 2097152, maxBytes: 20971520, maxWaitMs: 250, sessionTimeoutMs: 45000, heartbeatIntervalMs: 5000, partitionsConcurrently: 8 });
    assert.deepEqual(c.producer, { compression: 'gzip', maxRequestBytes: 500000, maxMessageBytes: 2000000 });
    assert.equal(c.kafka.connectionTimeoutMs, 3000);
    assert.deepEqual(load({}).consumer, {}, 'unset: the transport defaults');
  });

  it('reads producer-max-message-bytes for run alone: the runtime checks sinks against it, no client option', () => {
    refused(() => load({ KAFKA_PRODUCER_MAX_MESSAGE_BYTES: 'big' }), /KAFKA_PRODUCER_MAX_MESSAGE_BYTES="big"/);
    const refresh = refreshConfig(configSource({ MONGODB_URL: 'mongodb://127.0.0.1:1', KAFKA_PRODUCER_MAX_MESSAGE_BYTES: 'big', KAFKA_PRODUCER_COMPRESSION: 'gzip' }));
    assert.deepEqual(refresh.producer, { compression: 'gzip' });
  });

  it('names each bad tuning value', () => {
    refused(() => load({ KAFKA_CONSUMER_MAX_WAIT_MS: 'soon' }), /KAFKA_CONSUMER_MAX_WAIT_MS="soon": expected an integer from 0 to 60000/);
    refused(() => load({ KAFKA_PRODUCER_COMPRESSION: 'brotli' }), /KAFKA_PRODUCER_COMPRESSION="brotli": expected none, gzip/);
    refused(() => load({ KAFKA_CONSUMER_HEARTBEAT_INTERVAL_MS: '30000' }), /KAFKA_CONSUMER_HEARTBEAT_INTERVAL_MS="30000": expected an interval below the session timeout \(30000 ms\)/);
    refused(() => load({ TRIBUTARY_CONFIG: write(JSON.stringify({ 'consumer-max-bytes': 10 })) }), /"consumer-max-bytes"="10": expected an integer from 1024/);
  });
});

describe('per-command options', () => {
  it('lists in each --help exactly the flags and variables its parser and readers take', () => {
    for (const spec of SPECS) {
      const help = renderHelp(spec);
      for (const key of new Set(spec.sections.flatMap((s) => s.keys))) {
        const setting: Setting = SETTINGS[key];
        if (setting.flag !== false) assert.match(help, new RegExp(`--${key}\\b`), `${spec.name} --help shows --${key}`);
        if (setting.env) assert.ok(help.includes(setting.env), `${spec.name} --help shows ${setting.env}`);
        if (setting.flag !== false) assert.doesNotThrow(() => parseCommand(spec, [...spec.positionals.filter((p) => !spec.optional?.includes(p)).map(() => 'x'), `--${key}`, ...(setting.boolean ? [] : ['v'])]), `${spec.name} takes --${key}`);
      }
    }
  });

  it('refuses a flag of another command naming the commands that take it, and an unknown one, with the usage', async () => {
    const serveWithKafka = await run(['serve', 'x.ts', '--kafka-brokers', 'b:9092']);
    assert.equal(serveWithKafka.code, 2);
    assert.match(serveWithKafka.err, /^tributary: TRB_CONFIG: --kafka-brokers is not an option of "serve" \(it is one of run, topics, refresh, verify, dlq\)\n\nUsage: tributary serve <topology-file> \[options\]/);
    const describeColour = await run(['describe', 'x.ts', '--colour']);
    assert.match(describeColour.err, /unknown option --colour for "describe"/);
    const extra = await run(['status', 'extra']);
    assert.match(extra.err, /unexpected argument "extra" for "status"/);
    const missing = await run(['refresh', 'x.ts']);
    assert.match(missing.err, /missing <single-view>/);
    const unknownCommand = await run(['launch']);
    assert.equal(unknownCommand.code, 2);
    assert.match(unknownCommand.err, /unknown command "launch"/);
  });

  it('states in each --help the defaults the code uses', async () => {
    const help = async (command: string) => (await run([command, '--help'])).out;
    for (const command of ['topics', 'dlq', 'verify', 'refresh']) assert.match(await help(command), /--log-level <level> +LOG_LEVEL +\S+, default warn/, command);
    for (const command of ['run', 'serve']) assert.match(await help(command), /--log-level <level> +LOG_LEVEL +\S+, default info/, command);
    assert.doesNotMatch(await help('explain'), /log-level|LOG_LEVEL/, 'explain has no logger');
    assert.match(await help('verify'), /--kafka-client-id <id> +KAFKA_CLIENT_ID +client id the brokers see; default <topology>-verify/);
    assert.match(await help('refresh'), /default <topology>-refresh \(--promote: <topology>-promote\)/);
    for (const command of ['verify', 'dlq']) assert.match(await help(command), /KAFKA_CONNECTION_TIMEOUT_MS/, command);
    assert.match(await help('verify'), /KAFKA_PRODUCER_COMPRESSION/);
    assert.doesNotMatch(await help('refresh'), /KAFKA_PRODUCER_MAX_MESSAGE_BYTES/);
    assert.match(await help('run'), /KAFKA_PRODUCER_MAX_MESSAGE_BYTES/);
    assert.match(await help('run'), /130 a second signal/);
    for (const variable of ['SERVE_CURSOR_KEY', 'SERVE_MAX_TIME_MS']) assert.match(await help('serve'), new RegExp(`^ +${variable} +\\S`, 'm'), variable);
    assert.match(await help('demo'), /read only with --real/);
    const infra = await help('infra');
    assert.match(infra, /^Usage: tributary infra up\|down\|status\|restart\|kill\|clean\|env\|dir\|controller \[service\.\.\.\]/);
    assert.match(infra, /documentdb/);
    assert.match(infra, /--brokers <1\|3>/);
  });

  it('verify reads and checks its settings, --retrigger\'s producer ones too, before loading the topology or connecting', async () => {
    const r = await run(['verify', 'no-such-file.ts', 'sv_x', '--retrigger'], { MONGODB_URL: 'mongodb://127.0.0.1:1', KAFKA_PRODUCER_COMPRESSION: 'brotli' });
    assert.equal(r.code, 2);
    assert.match(r.err, /^tributary: TRB_CONFIG: invalid KAFKA_PRODUCER_COMPRESSION="brotli"/);
    const without = await run(['verify', 'no-such-file.ts', 'sv_x'], { MONGODB_URL: 'mongodb://127.0.0.1:1', KAFKA_PRODUCER_COMPRESSION: 'brotli' });
    assert.doesNotMatch(without.err, /KAFKA_PRODUCER_COMPRESSION/, 'without --retrigger no producer setting is read');
  });

  it('prints the version of the package', async () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    for (const flag of ['--version', '-v']) assert.deepEqual(await run([flag]), { code: 0, out: `tributary ${version}\n`, err: '' });
  });

  it('keeps the config file keys in step with the settings', () => {
    assert.ok(FILE_KEYS.includes('consumer-session-timeout-ms'));
    for (const key of ['config', 'control-token', 'ops-token', 'restart', 'create', 'cursor-key', 'max-time-ms', 'brokers']) assert.ok(!(FILE_KEYS as readonly string[]).includes(key), key);
  });
});
