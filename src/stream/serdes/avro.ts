import { TributaryError } from '../../errors.js';
import type { AvroSchema, SchemaRegistryClient } from './registry.js';
import type { Serde, SerdeContext } from './types.js';

export interface AvroSerdeOptions {
  /** Register this schema (once) and write with it. Without it, the subject's latest is used. */
  readonly schema?: AvroSchema;
  /** Subject name; default `<topic>-key` / `<topic>-value` (Confluent TopicNameStrategy). */
  readonly subject?: string;
}

const MAGIC = 0;

function registryOf(context: SerdeContext): SchemaRegistryClient {
  if (!context.registry) {
    throw new TributaryError('TRB_CONFIG', `avro serde on ${context.topic} needs a schema registry (set SCHEMA_REGISTRY_URL or pass registry)`);
  }
  return context.registry;
}

/**
 * Avro in the Confluent wire format: byte 0 = magic 0, bytes 1-4 = schema id (big endian), then
 * the Avro binary body. Reading resolves any id through the registry (cached); a wrong magic byte or
 * truncated frame is `TRB_DECODE`, an unknown id `TRB_SCHEMA`. A tombstone decodes to `null`, which
 * the type admits.
 */
export function avro<T>(options: AvroSerdeOptions = {}): Serde<T | null> {
  const writerIds = new Map<string, Promise<number>>();

  function writerId(context: SerdeContext): Promise<number> {
    const subject = options.subject ?? `${context.topic}-${context.part}`;
    let id = writerIds.get(subject);
    if (!id) {
      const registry = registryOf(context);
      id = options.schema ? registry.register(subject, options.schema) : registry.latestId(subject);
      id.catch(() => writerIds.delete(subject)); // retry the lookup next time, do not cache a failure
      writerIds.set(subject, id);
    }
    return id;
  }

  return {
    name: 'avro',
    needsRegistry: true,
    async deserialize(bytes, context) {
      // A zero-length value is an absent one, as for json() (Fast Data deletes by key on it).
      if (bytes === null || bytes.length === 0) return null;
      const where = { topic: context.topic, part: context.part };
      if (bytes.length < 5 || bytes.readUInt8(0) !== MAGIC) {
        throw new TributaryError('TRB_DECODE', `not Confluent-framed Avro in ${context.part} of ${context.topic} (magic byte ${bytes.length ? bytes.readUInt8(0) : 'missing'})`, { context: where });
      }
      const id = bytes.readInt32BE(1);
      const codec = await registryOf(context).codec(id);
      try {
        return codec.fromBuffer(bytes.subarray(5)) as T;
      } catch (error) {
        throw new TributaryError('TRB_DECODE', `bad Avro body for schema ${id} in ${context.part} of ${context.topic}: ${(error as Error).message}`, {
          cause: error,
          context: { ...where, schemaId: id },
        });
      }
    },
    async serialize(value, context) {
      if (value === null || value === undefined) return null;
      const id = await writerId(context);
      const codec = await registryOf(context).codec(id);
      let body: Buffer;
      try {
        body = codec.toBuffer(value);
      } catch (error) {
        throw new TributaryError('TRB_ENCODE', `value does not match Avro schema ${id} for ${context.topic}: ${(error as Error).message}`, { cause: error });
      }
      const frame = Buffer.allocUnsafe(5 + body.length);
      frame.writeUInt8(MAGIC, 0);
      frame.writeInt32BE(id, 1);
      body.copy(frame, 5);
      return frame;
    },
  };
}
