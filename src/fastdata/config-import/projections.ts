/**
 * Projection field definitions --> `projection()` declarations, exactly as written by hand.
 *
 * Two input shapes are accepted:
 *
 * 1. A Console-style definition (one projection):
 *      { "name": "pr_registry", "source": { "topic": "crm.registry", "adapter": "basic" },
 *        "fields": [ { "name": "ID_USER", "type": "String", "castFunction": "defaultCastToString",
 *                      "required": true, "nullable": false, "primaryKey": true } ] }
 *    --> projection({ name: 'pr_registry', source: { topic: 'crm.registry', adapter: basic() },
 *                     primaryKey: ['ID_USER'], fields: { ID_USER: field.string({ cast, required: true }) } })
 *
 * 2. A Projection Storer config (`version: 2`, `settings`, `projections`, §2.7): every entry of
 *    `projections` becomes one projection; `fieldsMapping` keys are source fields (`from`),
 *    `targetField` the projection field, `primaryKeys` source field names.
 */
import type { CdcAdapter } from '../cdc/change-event.js';
import { basic, db2 } from '../cdc/basic.js';
import { debezium } from '../cdc/debezium.js';
import { goldenGate } from '../cdc/golden-gate.js';
import { casts, psCasts, type CastFunction } from '../projection/casts.js';
import { field, type FieldKind, type FieldOptions, type FieldSpec } from '../projection/fields.js';
import { projection, type Projection, type ProjectionOptions } from '../projection/projection.js';
import { configError, describeValue, expectArray, expectObject, expectString, onlyKeys, optionalBoolean, type Where, type Json } from './where.js';

export interface ProjectionImportOptions {
  /** Custom cast functions by the name used in `castFunction` (Fast Data custom casts). */
  readonly castFunctions?: Readonly<Record<string, CastFunction>>;
  /** Ingestion topic of a definition without `source.topic` (default `<projection>.ingestion`). */
  readonly ingestionTopic?: (projection: string) => string;
  /** Adapters by name, for `source.adapter` / `dataSourceAdapter.type` values beyond the built-ins. */
  readonly adapters?: Readonly<Record<string, CdcAdapter>>;
}

const BUILTIN_ADAPTERS: Record<string, () => CdcAdapter> = { basic, db2, debezium: () => debezium(), 'golden-gate': () => goldenGate() };

/** Console field type (case-insensitive) --> field kind and Fast Data default cast. */
export const CONSOLE_TYPES: Record<string, { kind: FieldKind; cast: CastFunction }> = {
  string: { kind: 'string', cast: casts.defaultCastToString },
  number: { kind: 'number', cast: casts.defaultCastToFloat },
  boolean: { kind: 'boolean', cast: casts.defaultCastStringToBoolean },
  date: { kind: 'date', cast: casts.defaultCastToDate },
  object: { kind: 'object', cast: casts.defaultCastToObject },
  'array of object': { kind: 'arrayOfObject', cast: casts.defaultCastToArrayOfObject },
  'array of number': { kind: 'arrayOfNumber', cast: casts.defaultIdentity },
  'array of string': { kind: 'arrayOfString', cast: casts.defaultIdentity },
  objectid: { kind: 'string', cast: casts.defaultIdentity },
  geopoint: { kind: 'any', cast: casts.defaultIdentity },
};

/** Field kind implied by a built-in cast (used for Projection Storer mappings, which have no type). */
const KIND_OF_CAST = new Map<CastFunction, FieldKind>([
  [casts.defaultCastToString, 'string'],
  [casts.defaultCastToInteger, 'integer'],
  [casts.defaultCastToFloat, 'number'],
  [casts.defaultCastUnitTimestampToISOString, 'isoTimestamp'],
  [casts.defaultCastStringToBoolean, 'boolean'],
  [casts.defaultCastToDate, 'date'],
  [casts.defaultCastToObject, 'object'],
  [casts.defaultCastToArrayOfObject, 'arrayOfObject'],
]);

export interface ProjectionInput {
  readonly json: unknown;
  readonly where: Where;
}

export function importProjections(inputs: readonly ProjectionInput[], options: ProjectionImportOptions = {}): Projection<object>[] {
  const out: Projection<object>[] = [];
  const seen = new Map<string, Where>();
  for (const { json, where } of inputs) {
    const object = expectObject(json, where, 'a projection definition { name, fields } or a Projection Storer config { version, settings, projections }');
    const found = 'projections' in object && 'settings' in object ? fromProjectionStorer(object, where, options) : [fromConsole(object, where, options)];
    for (const p of found) {
      const first = seen.get(p.name);
      if (first) throw configError(where, `projection '${p.name}' is defined twice (first in ${first.toString()})`, 'one definition per projection');
      seen.set(p.name, where);
      out.push(p);
    }
  }
  return out;
}

function resolveCast(name: unknown, where: Where, options: ProjectionImportOptions): CastFunction {
  const id = expectString(name, where, 'a cast function name');
  const custom = options.castFunctions?.[id];
  if (custom) return custom;
  const builtin = (casts as Record<string, CastFunction>)[id] ?? (psCasts as Record<string, CastFunction>)[id];
  if (builtin) return builtin;
  throw configError(where, `unknown cast function '${id}'; pass custom casts as castFunctions.${id}`, [...Object.keys(casts), ...Object.keys(psCasts)].join(', '));
}

function resolveAdapter(name: unknown, where: Where, options: ProjectionImportOptions): CdcAdapter {
  const id = expectString(name, where, 'an adapter name');
  const custom = options.adapters?.[id];
  if (custom) return custom;
  const builtin = BUILTIN_ADAPTERS[id];
  if (builtin) return builtin();
  throw configError(where, `unknown adapter '${id}'; pass custom adapters as adapters.${id}`, [...Object.keys(BUILTIN_ADAPTERS), ...Object.keys(options.adapters ?? {})].join(', '));
}

function spec(kind: FieldKind, cast: CastFunction, flags: { from?: string; required: boolean; nullable: boolean }): FieldSpec<unknown> {
  const make = field[kind] as (options: FieldOptions) => FieldSpec<unknown>;
  return make({ cast, required: flags.required, nullable: flags.nullable, ...(flags.from === undefined ? {} : { from: flags.from }) });
}

function fromConsole(def: Json, where: Where, options: ProjectionImportOptions): Projection<object> {
  onlyKeys(def, where, ['name', 'description', 'source', 'fields', 'deleteMode', 'systemOfRecord']);
  const name = expectString(def['name'], where.key('name'), 'a projection name');
  const source = def['source'] === undefined ? {} : expectObject(def['source'], where.key('source'), 'an object { topic?, adapter? }');
  onlyKeys(source, where.key('source'), ['topic', 'adapter']);
  const topic = source['topic'] === undefined ? (options.ingestionTopic?.(name) ?? `${name}.ingestion`) : expectString(source['topic'], where.key('source').key('topic'), 'a topic name');
  const adapter = resolveAdapter(source['adapter'] ?? 'basic', where.key('source').key('adapter'), options);
  const fields: Record<string, FieldSpec<unknown>> = {};
  const primaryKey: string[] = [];
  const list = expectArray(def['fields'], where.key('fields'), 'an array of field definitions');
  for (const [i, raw] of list.entries()) {
    const at = where.key('fields').key(i);
    const f = expectObject(raw, at, 'a field definition { name, type, castFunction?, required?, nullable?, primaryKey? }');
    onlyKeys(f, at, ['name', 'description', 'type', 'castFunction', 'required', 'nullable', 'primaryKey']);
    const fieldName = expectString(f['name'], at.key('name'), 'a field name');
    if (fieldName in fields) throw configError(at.key('name'), `field '${fieldName}' is defined twice`);
    const typeName = expectString(f['type'], at.key('type'), 'a Console field type');
    const type = CONSOLE_TYPES[typeName.toLowerCase()];
    if (!type) throw configError(at.key('type'), `unknown field type '${typeName}'`, 'String, Number, Boolean, Date, Object, Array of object, Array of number, Array of string, ObjectId, GeoPoint');
    const cast = f['castFunction'] === undefined ? type.cast : resolveCast(f['castFunction'], at.key('castFunction'), options);
    const kind = type.kind === 'number' && cast === casts.defaultCastToInteger ? 'integer' : type.kind === 'string' && cast === casts.defaultCastUnitTimestampToISOString ? 'isoTimestamp' : type.kind;
    const isKey = optionalBoolean(f['primaryKey'], at.key('primaryKey'), false);
    fields[fieldName] = spec(kind, cast, { required: optionalBoolean(f['required'], at.key('required'), isKey), nullable: optionalBoolean(f['nullable'], at.key('nullable'), false) });
    if (isKey) primaryKey.push(fieldName);
  }
  if (primaryKey.length === 0) throw configError(where.key('fields'), `projection '${name}' has no field with "primaryKey": true`, 'at least one primary key field');
  const deleteMode = def['deleteMode'];
  if (deleteMode !== undefined && deleteMode !== 'soft' && deleteMode !== 'hard') throw configError(where.key('deleteMode'), `expected 'soft' or 'hard', got ${describeValue(deleteMode)}`, "'soft', 'hard'");
  const systemOfRecord = def['systemOfRecord'] === undefined ? undefined : expectString(def['systemOfRecord'], where.key('systemOfRecord'));
  return build(where, { name, source: { topic, adapter }, primaryKey, fields, ...(deleteMode ? { deleteMode } : {}), ...(systemOfRecord ? { systemOfRecord } : {}) });
}

function fromProjectionStorer(config: Json, where: Where, options: ProjectionImportOptions): Projection<object>[] {
  const settings = expectObject(config['settings'], where.key('settings'));
  const adapterSetting = settings['dataSourceAdapter'] === undefined ? { type: 'db2' } : expectObject(settings['dataSourceAdapter'], where.key('settings').key('dataSourceAdapter'));
  const adapterWhere = where.key('settings').key('dataSourceAdapter').key('type');
  const softDelete = optionalBoolean(settings['enableSoftDelete'], where.key('settings').key('enableSoftDelete'), true);
  const systemOfRecord = settings['systemOfRecords'] === undefined ? undefined : expectString(settings['systemOfRecords'], where.key('settings').key('systemOfRecords'));
  const projections = expectObject(config['projections'], where.key('projections'));
  return Object.entries(projections).map(([id, raw]) => {
    const at = where.key('projections').key(id);
    const p = expectObject(raw, at, 'a projection { topics, primaryKeys, fieldsMapping }');
    const name = p['customStorageNamespace'] === undefined ? id : expectString(p['customStorageNamespace'], at.key('customStorageNamespace'));
    const topics = expectObject(p['topics'], at.key('topics'), 'an object { ingestion: { name } }');
    const topic = expectString(expectObject(topics['ingestion'], at.key('topics').key('ingestion'))['name'], at.key('topics').key('ingestion').key('name'), 'a topic name');
    const prUpdate = topics['prUpdate'] === undefined ? undefined : expectString(expectObject(topics['prUpdate'], at.key('topics').key('prUpdate'))['name'], at.key('topics').key('prUpdate').key('name'), 'a topic name');
    const mapping = expectObject(p['fieldsMapping'], at.key('fieldsMapping'), 'an object { <source field>: { targetField, castFunction } }');
    const fields: Record<string, FieldSpec<unknown>> = {};
    const targetOf = new Map<string, string>();
    for (const [sourceField, rawField] of Object.entries(mapping)) {
      const fAt = at.key('fieldsMapping').key(sourceField);
      const f = expectObject(rawField, fAt, 'an object { targetField, castFunction }');
      const target = f['targetField'] === undefined ? sourceField : expectString(f['targetField'], fAt.key('targetField'), 'a field name');
      const cast = f['castFunction'] === undefined ? casts.defaultIdentity : resolveCast(f['castFunction'], fAt.key('castFunction'), options);
      fields[target] = spec(KIND_OF_CAST.get(cast) ?? 'any', cast, { ...(target === sourceField ? {} : { from: sourceField }), required: false, nullable: true });
      targetOf.set(sourceField, target);
    }
    const keys = expectArray(p['primaryKeys'], at.key('primaryKeys'), 'an array of source field names');
    const primaryKey = keys.map((k, i) => {
      const sourceField = expectString(k, at.key('primaryKeys').key(i), 'a source field name');
      const target = targetOf.get(sourceField);
      if (!target) throw configError(at.key('primaryKeys').key(i), `primary key '${sourceField}' is not a key of fieldsMapping`, [...targetOf.keys()].join(', '));
      return target;
    });
    return build(at, {
      name,
      source: { topic, adapter: resolveAdapter(adapterSetting['type'], adapterWhere, options) },
      primaryKey,
      fields,
      deleteMode: softDelete ? 'soft' : 'hard',
      ...(systemOfRecord ? { systemOfRecord } : {}),
      ...(prUpdate ? { prUpdate: { topic: prUpdate } } : {}),
    });
  });
}

function build(where: Where, options: ProjectionOptions<Record<string, FieldSpec<unknown>>>): Projection<object> {
  try {
    return projection(options) as Projection<object>;
  } catch (error) {
    throw configError(where, error instanceof Error ? error.message : String(error));
  }
}
