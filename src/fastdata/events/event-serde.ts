/**
 * Serdes for the events Tributary emits (pr-update, sv-trigger, sv-update), as JSON or as Avro
 * through the schema registry (schemas/*.avsc). Projections and views have no fixed Avro schema, so
 * in Avro the documents inside an event (before, after, identifiers) travel as JSON text; reading
 * turns them back into objects, so consumers inside Tributary see the same value either way.
 *
 *   {operation, before: {a: 1}, ...}  --avro-->  0x00 <id> {operation, before: '{"a":1}', ...}
 *   readers accept both: a leading 0x00 byte is Avro (JSON text never starts with it), else JSON.
 */
import { readFileSync } from 'node:fs';
import { avro } from '../../stream/serdes/avro.js';
import { json } from '../../stream/serdes/json.js';
import type { AvroSchema } from '../../stream/serdes/registry.js';
import type { Serde } from '../../stream/serdes/types.js';

export type EventKind = 'pr-update-v1.0.0' | 'pr-update-v2.0.0' | 'sv-trigger-v1.0.0' | 'sv-update-v1.0.0' | 'sv-update-v2.0.0';
export type EventFormat = 'json' | 'avro';

/** Fields carried as JSON text in Avro, per event kind. */
const JSON_FIELDS: Record<EventKind, readonly string[]> = {
  'pr-update-v1.0.0': ['before', 'after', '__internal__kafkaInfo'],
  'pr-update-v2.0.0': ['before', 'after'],
  'sv-trigger-v1.0.0': ['singleViewIdentifier', 'change', '__internal__kafkaInfo', 'retry'],
  'sv-update-v1.0.0': ['before', 'after', '__internal__kafkaInfo'],
  'sv-update-v2.0.0': ['before', 'after'],
};

const FILES: Record<EventKind, string> = {
  'pr-update-v1.0.0': 'pr-update-v1.avsc',
  'pr-update-v2.0.0': 'pr-update-v2.avsc',
  'sv-trigger-v1.0.0': 'sv-trigger-v1.avsc',
  'sv-update-v1.0.0': 'sv-update-v1.avsc',
  'sv-update-v2.0.0': 'sv-update-v2.avsc',
};

const schemas = new Map<EventKind, AvroSchema>();

/** The Avro schema of an event kind, read from schemas/ once per process. */
export function eventSchema(kind: EventKind): AvroSchema {
  let schema = schemas.get(kind);
  if (!schema) {
    schema = JSON.parse(readFileSync(new URL(`../../../schemas/${FILES[kind]}`, import.meta.url), 'utf8')) as AvroSchema;
    schemas.set(kind, schema);
  }
  return schema;
}

type Obj = Record<string, unknown>;

function toAvroShape(kind: EventKind, value: Obj): Obj {
  const out: Obj = { ...value };
  for (const f of JSON_FIELDS[kind]) out[f] = value[f] === undefined || value[f] === null ? null : JSON.stringify(value[f]);
  return out;
}

function fromAvroShape(value: Obj): Obj {
  // avsc decodes records into class instances; events are plain JSON data everywhere else.
  const out = JSON.parse(JSON.stringify(value)) as Obj;
  for (const fields of Object.values(JSON_FIELDS)) {
    for (const f of fields) if (typeof out[f] === 'string') out[f] = JSON.parse(out[f] as string) as unknown;
  }
  return out;
}

/**
 * Writes `kind` in `format`; reads either format. Build one per topology and kind (see
 * {@link EventSerdes}): an Avro serde registers its schema once per instance.
 */
export function eventSerde<T extends object = Obj>(kind: EventKind, format: EventFormat = 'json'): Serde<T> {
  const jsonSerde = json<Obj>();
  const avroSerde = avro<Obj>({ schema: eventSchema(kind) });
  return {
    name: format === 'avro' ? `avro(${kind})` : `json(${kind})`,
    needsRegistry: format === 'avro',
    deserialize: async (bytes, context) => (await readEvent(bytes, context, jsonSerde, avroSerde)) as T,
    serialize: (value, context) => (format === 'avro' ? avroSerde.serialize(toAvroShape(kind, value as Obj), context) : jsonSerde.serialize(value as Obj, context)),
  };
}

/** The event serdes of one topology, each built on first use and then shared by every stage that writes that kind. */
export class EventSerdes {
  readonly #built = new Map<string, Serde<Obj>>();
  constructor(readonly format: EventFormat = 'json') {}

  /** The serde writing `kind` in `format` (default: the topology's). */
  of<T extends object = Obj>(kind: EventKind, format: EventFormat = this.format): Serde<T> {
    const id = `${kind}/${format}`;
    let serde = this.#built.get(id);
    if (!serde) {
      serde = eventSerde(kind, format);
      this.#built.set(id, serde);
    }
    return serde as Serde<T>;
  }
}

/** Reads any Tributary event in JSON or Avro (for streams that consume several kinds or producers). */
export function anyEvent(): Serde<Obj | null> {
  const jsonSerde = json<Obj>();
  const avroSerde = avro<Obj>();
  return {
    name: 'json|avro',
    deserialize: (bytes, context) => readEvent(bytes, context, jsonSerde, avroSerde),
    serialize: (value, context) => jsonSerde.serialize(value, context),
  };
}

async function readEvent(bytes: Buffer | null, context: Parameters<Serde<Obj>['deserialize']>[1], jsonSerde: Serde<Obj | null>, avroSerde: Serde<Obj | null>): Promise<Obj | null> {
  if (bytes !== null && bytes.length > 0 && bytes[0] === 0) return fromAvroShape((await avroSerde.deserialize(bytes, context)) as Obj);
  return jsonSerde.deserialize(bytes, context);
}
