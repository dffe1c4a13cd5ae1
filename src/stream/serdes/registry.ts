/**
 * Schema registry clients. The Avro serde talks to this interface; `confluentRegistry` reaches any
 * Confluent-compatible registry (Confluent, Apicurio ccompat, Karapace) and `memoryRegistry` backs
 * the embedded engine, so Avro topologies run with nothing installed.
 */
import avro from 'avsc';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { TributaryError } from '../../errors.js';

export type AvroSchema = avro.Schema;

export interface AvroCodec {
  readonly id: number;
  toBuffer(value: unknown): Buffer;
  fromBuffer(bytes: Buffer): unknown;
}

export interface SchemaRegistryClient {
  /** Registers (or finds) `schema` under `subject`; returns its global id. */
  register(subject: string, schema: AvroSchema): Promise<number>;
  latestId(subject: string): Promise<number>;
  /** The codec for a schema id; cached, so a hot path costs one map lookup. */
  codec(id: number): Promise<AvroCodec>;
}

export interface ConfluentRegistryOptions {
  url: string;
  /** Basic auth, e.g. Confluent Cloud API key and secret. */
  auth?: { username: string; password: string };
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * Avro `long` as a JavaScript number, like JSON.parse reads a JSON number: exact up to 2^53, rounded
 * beyond. avsc's own long type throws "potential precision loss" there instead, and Debezium's Avro
 * envelope always carries such longs (`ts_ns`, `source.ts_ns`: nanoseconds since 1970, ~1.8e18), so
 * every real Debezium record would fail to decode. Encoding takes a number or a bigint in int64 range.
 */
const LONG_AS_NUMBER = avro.types.LongType.__with({
  fromBuffer: (bytes: Buffer) => Number(bytes.readBigInt64LE(0)),
  toBuffer: (value: number | bigint) => {
    const bytes = Buffer.alloc(8);
    bytes.writeBigInt64LE(typeof value === 'bigint' ? value : BigInt(Math.trunc(value)));
    return bytes;
  },
  fromJSON: (value: unknown) => Number(value),
  toJSON: (value: number | bigint) => Number(value),
  isValid: (value: unknown) => {
    if (typeof value !== 'bigint' && !(typeof value === 'number' && Number.isInteger(value))) return false;
    const big = BigInt(value);
    return big >= INT64_MIN && big <= INT64_MAX;
  },
  compare: (a: number | bigint, b: number | bigint) => {
    const [x, y] = [BigInt(a), BigInt(b)];
    return x === y ? 0 : x < y ? -1 : 1;
  },
});

/**
 * Every `long` of a schema gets LONG_AS_NUMBER: the name (`"long"`) and the object form, which
 * Debezium's converters write with attributes (`{"type": "long", "connect.name": "io.debezium.time.NanoTimestamp"}`)
 * and which avsc would otherwise build as its own long type. Logical types are not interpreted.
 */
function longsAsNumbers(schema: unknown): avro.Type | undefined {
  const isLong = schema === 'long' || (typeof schema === 'object' && schema !== null && (schema as { type?: unknown }).type === 'long');
  return isLong ? LONG_AS_NUMBER : undefined;
}

function codecOf(id: number, schema: AvroSchema): AvroCodec {
  const type = avro.Type.forSchema(schema, { wrapUnions: false, typeHook: longsAsNumbers });
  return { id, toBuffer: (v) => type.toBuffer(v), fromBuffer: (b) => type.fromBuffer(b) };
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown }).status;
  return typeof status === 'number' ? status : undefined;
}

/**
 * A request that got no HTTP answer (refused, reset, timed out): mappersmith, under
 * @kafkajs/confluent-schema-registry, reports it as a made-up response of status 400 whose body is
 * Node's error message, and the library turns that into `<client> - Error, status 400: <message>`.
 * Taken for a 400 of the registry it made an outage permanent (TRB_SCHEMA: dead letters).
 */
const NO_ANSWER = /Error, status 400: .*\b(ECONNREFUSED|ECONNRESET|ECONNABORTED|ETIMEDOUT|ESOCKETTIMEDOUT|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|EPIPE|socket hang up|Timeout \(\d+ms\))/;

/**
 * What a failed registry call means:
 *   401 / 403                                   → TRB_AUTH (not retriable)
 *   no answer (refused, reset, timed out), 408, 429, 5xx, anything unexpected → TRB_CONNECT (retriable)
 *   any other 4xx (unknown id or subject, incompatible or invalid schema),
 *   the library's own argument and schema errors → TRB_SCHEMA (not retriable)
 */
export function registryError(error: unknown, message: string, context: Record<string, unknown>): TributaryError {
  const status = statusOf(error);
  const text = (error as Error)?.message ?? String(error);
  if (status === 401 || status === 403) {
    return new TributaryError('TRB_AUTH', `${message}: the schema registry refused the credentials (HTTP ${status})`, { cause: error, context: { ...context, status } });
  }
  const unanswered = status === 400 && NO_ANSWER.test(text);
  const refused = status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429 && !unanswered;
  const invalid = status === undefined && /^ConfluentSchemaRegistry\w*Error$/.test((error as Error)?.name ?? '');
  if (refused || invalid) {
    return new TributaryError('TRB_SCHEMA', `${message}: ${text}`, { cause: error, context: status === undefined ? context : { ...context, status } });
  }
  return new TributaryError('TRB_CONNECT', `${message}: schema registry unavailable (${text})`, { cause: error, context });
}

const invalidSchema = (subject: string, error: unknown) =>
  new TributaryError('TRB_SCHEMA', `cannot register schema under subject ${subject}: not a valid Avro schema (${(error as Error).message})`, { cause: error, context: { subject } });

export function confluentRegistry(options: ConfluentRegistryOptions): SchemaRegistryClient {
  const client = new SchemaRegistry({ host: options.url, ...(options.auth ? { auth: options.auth } : {}) });
  const codecs = new Map<number, Promise<AvroCodec>>();
  return {
    async register(subject, schema) {
      try {
        codecOf(0, schema); // an invalid schema is refused here, not retried as if the registry were down
      } catch (error) {
        throw invalidSchema(subject, error);
      }
      try {
        const { id } = await client.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }, { subject });
        return id;
      } catch (error) {
        throw registryError(error, `cannot register schema under subject ${subject}`, { subject });
      }
    },
    async latestId(subject) {
      try {
        return await client.getLatestSchemaId(subject);
      } catch (error) {
        throw registryError(error, `no schema for subject ${subject}`, { subject });
      }
    },
    codec(id) {
      let codec = codecs.get(id);
      if (!codec) {
        codec = client.getSchema(id).then(
          // Rebuild the type with our avsc options so both registries decode unions the same way.
          (type) => {
            try {
              return codecOf(id, (type as unknown as { schema(): AvroSchema }).schema());
            } catch (error) {
              throw new TributaryError('TRB_SCHEMA', `schema id ${id} cannot be read as Avro: ${(error as Error).message}`, { cause: error, context: { schemaId: id } });
            }
          },
          (error: unknown) => {
            codecs.delete(id); // a registry outage must not poison the cache
            throw registryError(error, `unknown schema id ${id}`, { schemaId: id });
          },
        );
        codecs.set(id, codec);
      }
      return codec;
    },
  };
}

/** An in-process registry with the same semantics for ids and subjects (no compatibility rules). */
export function memoryRegistry(): SchemaRegistryClient & { subjects(): string[] } {
  const byId = new Map<number, { schema: AvroSchema; codec: AvroCodec }>();
  const bySubject = new Map<string, number[]>();
  const idByText = new Map<string, number>();
  return {
    async register(subject, schema) {
      const text = JSON.stringify(schema);
      let id = idByText.get(text);
      if (id === undefined) {
        let codec: AvroCodec;
        try {
          codec = codecOf(byId.size + 1, schema);
        } catch (error) {
          throw invalidSchema(subject, error);
        }
        id = codec.id;
        byId.set(id, { schema, codec });
        idByText.set(text, id);
      }
      const versions = bySubject.get(subject) ?? [];
      if (!versions.includes(id)) versions.push(id);
      bySubject.set(subject, versions);
      return id;
    },
    async latestId(subject) {
      const id = bySubject.get(subject)?.at(-1);
      if (id === undefined) throw new TributaryError('TRB_SCHEMA', `no schema for subject ${subject}`, { context: { subject } });
      return id;
    },
    async codec(id) {
      const entry = byId.get(id);
      if (!entry) throw new TributaryError('TRB_SCHEMA', `unknown schema id ${id}`, { context: { schemaId: id } });
      return entry.codec;
    },
    subjects: () => [...bySubject.keys()],
  };
}
