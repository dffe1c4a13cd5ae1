/**
 * Typed projection fields. Each declaration says where a field comes from (`from`, default: the
 * same name), how its value is cast (default: the Fast Data cast of its type), and carries the
 * TypeScript type of the stored value, so a projection's document type is inferred:
 *
 *   const fields = { id: field.string({ from: 'ID' }), n: field.integer({ required: true, nullable: true }), note: field.string() };
 *   type Doc = FieldsOf<typeof fields>;   // { id: string | null | undefined; n: number | null; note: string | null | undefined }
 *   projection({ primaryKey: ['id'], fields, … })  // documents typed { id: string; n: number | null; note: string | null | undefined }
 *
 *   applyFields(fields, { ID: 7, n: '3.5', extra: 1 }, { projection: 'pr_x' })
 *     --> { document: { id: '7', n: 3 }, unmapped: ['extra'], uncastable: [] }
 */
import { TributaryError } from '../../errors.js';
import type { Row } from '../cdc/change-event.js';
import { casts, type CastFunction } from './casts.js';

export type FieldKind =
  | 'string'
  | 'number'
  | 'integer'
  | 'boolean'
  | 'date'
  | 'isoTimestamp'
  | 'object'
  | 'arrayOfObject'
  | 'arrayOfString'
  | 'arrayOfNumber'
  | 'any';

export interface FieldOptions {
  /** Source field name, when it differs from the projection field name (rename). */
  readonly from?: string;
  /** Replaces the default cast of the field's kind. */
  readonly cast?: CastFunction;
  /**
   * Fast Data's Required flag, enforced: a row written without the field (or with it null, unless
   * `nullable`) is dead-lettered with TRB_MISSING_FIELD. Without it a field may be absent or null
   * whatever its type says (a missing column, a value its cast cannot convert).
   */
  readonly required?: boolean;
  /** Fast Data's Nullable flag: the field's type gains `| null`. */
  readonly nullable?: boolean;
}

/** A declared field. `T` is the stored value's type (phantom: never set at run time). */
export interface FieldSpec<T> {
  readonly kind: FieldKind;
  readonly from?: string;
  /** The cast in use: the declared one or the default of `kind`. */
  readonly cast: CastFunction;
  readonly required: boolean;
  readonly nullable: boolean;
  readonly __type?: T;
}

export type FieldType<S> = S extends FieldSpec<infer T> ? T : never;

/** The document type of a projection: one property per declared field, with its value type. */
export type FieldsOf<F extends Record<string, FieldSpec<unknown>>> = { [K in keyof F]: FieldType<F[K]> };

/** A projection's document type: its fields, the primary-key ones always present (a row without one is dead-lettered, TRB_MISSING_KEY). */
export type KeyedFieldsOf<F extends Record<string, FieldSpec<unknown>>, Key extends keyof F> = { [K in keyof F]: K extends Key ? NonNullable<FieldType<F[K]>> : FieldType<F[K]> };

type RequiredNullable = FieldOptions & { readonly required: true; readonly nullable: true };
type RequiredNonNullable = FieldOptions & { readonly required: true; readonly nullable?: false };

/**
 * The field type says what the ingest guarantees: `required: true` gives `T` (`T | null` with
 * `nullable: true`); without it the field may be absent or null whatever the source says, so `T | null | undefined`.
 */
export interface FieldFactory<T> {
  (options: RequiredNullable): FieldSpec<T | null>;
  (options: RequiredNonNullable): FieldSpec<T>;
  (options?: FieldOptions): FieldSpec<T | null | undefined>;
}

export interface ObjectFieldFactory {
  <T extends object = Row>(options: RequiredNullable): FieldSpec<T | null>;
  <T extends object = Row>(options: RequiredNonNullable): FieldSpec<T>;
  <T extends object = Row>(options?: FieldOptions): FieldSpec<T | null | undefined>;
}

export interface ArrayOfObjectFieldFactory {
  <T extends object = Row>(options: RequiredNullable): FieldSpec<T[] | null>;
  <T extends object = Row>(options: RequiredNonNullable): FieldSpec<T[]>;
  <T extends object = Row>(options?: FieldOptions): FieldSpec<T[] | null | undefined>;
}

export interface AnyFieldFactory {
  <T = unknown>(options: RequiredNullable): FieldSpec<T | null>;
  <T = unknown>(options: RequiredNonNullable): FieldSpec<T>;
  <T = unknown>(options?: FieldOptions): FieldSpec<T | null | undefined>;
}

const DEFAULT_CASTS: Record<FieldKind, CastFunction> = {
  string: casts.defaultCastToString,
  number: casts.defaultCastToFloat,
  integer: casts.defaultCastToInteger,
  boolean: casts.defaultCastStringToBoolean,
  date: casts.defaultCastToDate,
  isoTimestamp: casts.defaultCastUnitTimestampToISOString,
  object: casts.defaultCastToObject,
  arrayOfObject: casts.defaultCastToArrayOfObject,
  arrayOfString: casts.defaultIdentity,
  arrayOfNumber: casts.defaultIdentity,
  any: casts.defaultIdentity,
};

function factory(kind: FieldKind): (options?: FieldOptions) => FieldSpec<never> {
  return (options = {}) => ({
    kind,
    ...(options.from === undefined ? {} : { from: options.from }),
    cast: options.cast ?? DEFAULT_CASTS[kind],
    required: options.required ?? false,
    nullable: options.nullable ?? false,
  });
}

export interface FieldBuilders {
  /** defaultCastToString: 12 --> '12', { a: 1 } --> '{"a":1}' */
  readonly string: FieldFactory<string>;
  /** defaultCastToFloat: '12.5' --> 12.5 */
  readonly number: FieldFactory<number>;
  /** defaultCastToInteger: '12.7' --> 12 */
  readonly integer: FieldFactory<number>;
  /** defaultCastStringToBoolean: 'true' --> true */
  readonly boolean: FieldFactory<boolean>;
  /** defaultCastToDate: '2024-01-02' --> Date */
  readonly date: FieldFactory<Date>;
  /** defaultCastUnitTimestampToISOString: 0 --> '1970-01-01T00:00:00.000Z' */
  readonly isoTimestamp: FieldFactory<string>;
  /** defaultCastToObject: '{"a":1}' --> { a: 1 } */
  readonly object: ObjectFieldFactory;
  /** defaultCastToArrayOfObject: '[{"a":1}]' --> [{ a: 1 }] */
  readonly arrayOfObject: ArrayOfObjectFieldFactory;
  /** defaultIdentity */
  readonly arrayOfString: FieldFactory<string[]>;
  /** defaultIdentity */
  readonly arrayOfNumber: FieldFactory<number[]>;
  /** defaultIdentity, any declared type */
  readonly any: AnyFieldFactory;
}

export const field: FieldBuilders = {
  string: factory('string'),
  number: factory('number'),
  integer: factory('integer'),
  boolean: factory('boolean'),
  date: factory('date'),
  isoTimestamp: factory('isoTimestamp'),
  object: factory('object'),
  arrayOfObject: factory('arrayOfObject'),
  arrayOfString: factory('arrayOfString'),
  arrayOfNumber: factory('arrayOfNumber'),
  any: factory('any'),
};

export interface AppliedFields {
  /** Projection field names. A source field that is absent stays absent; one that does not cast is null. */
  readonly document: Row;
  /** Source fields no declaration reads (Fast Data's UNKNOWN_FIELD). */
  readonly unmapped: string[];
  /** Projection fields whose non-null source value did not cast (Fast Data's UNCASTABLE_FIELD). */
  readonly uncastable: string[];
}

export interface FieldContext {
  readonly projection: string;
}

/**
 * A source row (source field names) --> the projection document (projection field names, cast).
 * A cast that throws --> TributaryError TRB_PROCESS naming the projection and the field.
 */
export function applyFields(fields: Readonly<Record<string, FieldSpec<unknown>>>, row: Row, context: FieldContext): AppliedFields {
  const plan = planOf(fields);
  const uncastable: string[] = [];
  const document = castWith(plan, row, context, uncastable);
  const unmapped = Object.keys(row).filter((k) => !plan.sources.has(k));
  return { document, unmapped, uncastable };
}

/**
 * applyFields' document alone, for the ingest path, which reads neither list (no per-row
 * allocation beyond the document itself):
 *
 *   castRow(fields, { ID: 7, n: '3.5', extra: 1 }, { projection: 'pr_x' })  -->  { id: '7', n: 3 }
 */
export function castRow(fields: Readonly<Record<string, FieldSpec<unknown>>>, row: Row, context: FieldContext): Row {
  return castWith(planOf(fields), row, context, null);
}

/** A fields declaration as a list, built once per declaration object (it is immutable once declared). */
interface FieldsPlan {
  readonly fields: ReadonlyArray<{ readonly name: string; readonly source: string; readonly cast: FieldSpec<unknown>['cast'] }>;
  readonly sources: ReadonlySet<string>;
}
const plans = new WeakMap<object, FieldsPlan>();

function planOf(fields: Readonly<Record<string, FieldSpec<unknown>>>): FieldsPlan {
  let plan = plans.get(fields);
  if (!plan) {
    const list = Object.entries(fields).map(([name, spec]) => ({ name, source: spec.from ?? name, cast: spec.cast }));
    plan = { fields: list, sources: new Set(list.map((f) => f.source)) };
    plans.set(fields, plan);
  }
  return plan;
}

function castWith(plan: FieldsPlan, row: Row, context: FieldContext, uncastable: string[] | null): Row {
  const document: Row = {};
  for (const { name, source, cast } of plan.fields) {
    const raw = row[source];
    if (raw === undefined) continue;
    let value: unknown;
    try {
      value = cast(raw, source);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new TributaryError('TRB_PROCESS', `projection '${context.projection}': cast of field '${name}'${renamed(name, source)} failed: ${reason}`, {
        cause: error,
        context: { projection: context.projection, field: name, sourceField: source },
      });
    }
    if (value === undefined && raw !== null) uncastable?.push(name);
    document[name] = value === undefined ? null : value;
  }
  return document;
}

/**
 * The primary key of a projection document, in projection field names:
 *   (['id'], { id: '7', name: 'Ann' }) --> { id: '7' }
 * null, undefined and '' count as missing --> TributaryError TRB_MISSING_KEY naming the fields.
 */
export function extractPrimaryKey(
  fields: Readonly<Record<string, FieldSpec<unknown>>>,
  primaryKey: readonly string[],
  document: Row,
  context: FieldContext,
): Row {
  const key: Row = {};
  const missing: string[] = [];
  for (const name of primaryKey) {
    const value = document[name];
    if (value === null || value === undefined || value === '') missing.push(name);
    else key[name] = value;
  }
  if (missing.length > 0) {
    const names = missing.map((name) => `'${name}'${renamed(name, fields[name]?.from ?? name)}`).join(', ');
    throw new TributaryError('TRB_MISSING_KEY', `projection '${context.projection}': primary key field${missing.length > 1 ? 's' : ''} ${names} missing`, {
      context: { projection: context.projection, missing },
    });
  }
  return key;
}

function renamed(name: string, source: string): string {
  return source === name ? '' : ` (source field '${source}')`;
}
