/**
 * What the read API serves, derived once from the declarations: one endpoint per projection and
 * single view, each with the typed fields a query may name. Everything else in `serve/` (query
 * parsing, casting, schemas, OpenAPI) reads this model, so the declarations stay the one source.
 */
import { TributaryError } from '../errors.js';
import type { FieldKind, FieldSpec } from '../fastdata/projection/fields.js';
import type { Projection } from '../fastdata/projection/projection.js';
import type { SingleView } from '../fastdata/singleview/single-view.js';
import type { View } from './views/view.js';

/** A field's type as the read API sees it: the declared kind, plus the store's own `_id`. */
export type ServedType = FieldKind | 'objectId';

export interface ServedField {
  readonly type: ServedType;
  readonly nullable: boolean;
  readonly required: boolean;
}

export interface Endpoint {
  /** Collection name. */
  readonly collection: string;
  /** URL prefix without the trailing slash, e.g. `/pr-customers`. */
  readonly path: string;
  readonly kind: 'projection' | 'single-view' | 'view';
  readonly fields: Readonly<Record<string, ServedField>>;
  /**
   * false when the document shape is not declared (a single view's `map` output): queries may then
   * name any plain field path (uncast), and the schema allows additional properties.
   */
  readonly strict: boolean;
}

/** What `createReadApi` accepts instead of a whole topology. */
export interface ReadDeclarations {
  readonly projections?: ReadonlyArray<Projection<object>>;
  readonly singleViews?: ReadonlyArray<SingleView<object>>;
  /** On-demand views (joined at query time). */
  readonly views?: ReadonlyArray<View>;
}

export interface EndpointOptions {
  /** Collection name → URL prefix (default: the kebab-case name, `pr_customers` → `/pr-customers`). */
  readonly endpointBasePaths?: Readonly<Record<string, string>>;
  /**
   * Declared fields of single views (`map` output), by view name: makes the view strict, typed and
   * castable like a projection.
   */
  readonly singleViewFields?: Readonly<Record<string, Readonly<Record<string, FieldSpec<unknown>>>>>;
}

/** Fields every served document carries (written by the pipeline; CRUD-Service compatible). */
export const METADATA_FIELDS: Readonly<Record<string, ServedField>> = {
  _id: { type: 'objectId', nullable: false, required: true },
  __STATE__: { type: 'string', nullable: false, required: true },
  createdAt: { type: 'date', nullable: false, required: true },
  updatedAt: { type: 'date', nullable: false, required: true },
};

/** Pipeline bookkeeping never shown to readers. */
export const INTERNAL_FIELDS = ['__internal__counter', '__internal__counterType', '__internal__kafkaInfo'] as const;

export function kebabCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/[_\s]+/g, '-')
    .toLowerCase();
}

function served(spec: FieldSpec<unknown>, required: boolean): ServedField {
  return { type: spec.kind, nullable: spec.nullable, required: required || spec.required };
}

export function buildEndpoints(declarations: ReadDeclarations, options: EndpointOptions = {}): Endpoint[] {
  const out: Endpoint[] = [];
  const pathOf = (name: string) => normalisePath(options.endpointBasePaths?.[name] ?? `/${kebabCase(name)}`);
  for (const p of declarations.projections ?? []) {
    const fields: Record<string, ServedField> = { ...METADATA_FIELDS };
    for (const [name, spec] of Object.entries(p.options.fields)) fields[name] = served(spec, p.primaryKey.includes(name));
    out.push({ collection: p.name, path: pathOf(p.name), kind: 'projection', fields, strict: true });
  }
  for (const v of declarations.singleViews ?? []) {
    const declared = options.singleViewFields?.[v.name];
    const fields: Record<string, ServedField> = { ...METADATA_FIELDS };
    const baseFields = v.tree.projection.options.fields;
    for (const [viewField, baseField] of Object.entries(v.key)) {
      const spec = baseFields[baseField];
      fields[viewField] = spec ? served(spec, true) : { type: 'any', nullable: false, required: true };
    }
    if (declared) for (const [name, spec] of Object.entries(declared)) fields[name] = served(spec, name in v.key);
    out.push({ collection: v.name, path: pathOf(v.name), kind: 'single-view', fields, strict: declared !== undefined });
  }
  for (const v of declarations.views ?? []) {
    const base = out.find((e) => e.collection === v.base.name);
    const fields: Record<string, ServedField> = { ...(base?.fields ?? METADATA_FIELDS) };
    for (const [name, relation] of Object.entries(v.include)) {
      fields[name] = relation.cardinality === 'one' ? { type: 'object', nullable: true, required: true } : { type: 'arrayOfObject', nullable: false, required: true };
    }
    out.push({ collection: v.name, path: pathOf(v.name), kind: 'view', fields, strict: (base?.strict ?? false) && v.map === undefined });
  }
  const seen = new Map<string, string>();
  for (const e of out) {
    const other = seen.get(e.path);
    if (other) throw new TributaryError('TRB_CONFIG', `read API: '${e.collection}' and '${other}' both map to ${e.path}/`, { context: { path: e.path } });
    if (e.path.startsWith('/-') || e.path === '/documentation') throw new TributaryError('TRB_CONFIG', `read API: ${e.path}/ of '${e.collection}' clashes with a helper route`);
    seen.set(e.path, e.collection);
  }
  return out;
}

function normalisePath(path: string): string {
  const trimmed = `/${path.replace(/^\/+|\/+$/g, '')}`;
  if (!/^\/[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*$/.test(trimmed)) throw new TributaryError('TRB_CONFIG', `read API: invalid endpoint path '${path}'`);
  return trimmed;
}

/** The declared field a (possibly dotted) path starts in, and whether the rest may go below it. */
export function fieldOf(endpoint: Endpoint, path: string): { field: ServedField | undefined; nested: boolean } | null {
  const [head, ...rest] = path.split('.');
  if (head === undefined || head === '') return null;
  const field = endpoint.fields[head];
  if (!field) {
    // Undeclared shapes (single views without declared fields) accept plain paths, uncast.
    return endpoint.strict || !SAFE_PATH.test(path) ? null : { field: undefined, nested: rest.length > 0 };
  }
  if (rest.length === 0) return { field, nested: false };
  const container = field.type === 'object' || field.type === 'arrayOfObject' || field.type === 'any';
  return container && SAFE_PATH.test(path) ? { field, nested: true } : null;
}

const SAFE_PATH = /^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$/;
