/**
 * `$set` with MongoDB's positional operators, for the embedded store's `updateMany`:
 *
 *   { 'orders.$[].lines.$[l].name': 'Tea' }, arrayFilters [{ 'l.sku': 'T1' }]
 *     --> every order, every line whose sku is 'T1': name = 'Tea'
 *
 * As MongoDB: an array a positional segment walks must exist (else the write is refused, and a
 * batch stops there), `$[id]` needs exactly one arrayFilters entry naming `id`, and a filter that
 * names an identifier no path uses is refused too.
 */
import type { Document, Filter } from '../types.js';
import { compileFilter, type Matcher } from './query.js';
import { refused } from './update.js';
import { cloneDocument, cloneValue, isPlainObject, type PlainObject } from './values.js';

const ALL = '$[]';
const IDENTIFIED = /^\$\[([a-z][A-Za-z0-9]*)\]$/;

export function positionallyUpdated(document: PlainObject, set: Document, arrayFilters: readonly Filter[]): PlainObject {
  const filters = compileArrayFilters(arrayFilters);
  const used = new Set<string>();
  const next = cloneDocument(document);
  const paths = Object.keys(set).sort();
  for (const path of paths) {
    const segments = path.split('.');
    if (segments.some((s) => s === '' || (s.startsWith('$') && s !== ALL && !IDENTIFIED.test(s)))) throw refused(`invalid update path "${path}"`, { path });
    if (segments[0] === '_id') throw refused("the write would modify the immutable field '_id'");
    for (const s of segments) {
      const id = IDENTIFIED.exec(s)?.[1];
      if (id !== undefined) {
        if (!filters.has(id)) throw refused(`no array filter found for identifier '${id}' in path '${path}'`, { path });
        used.add(id);
      }
    }
    assign(next, segments, 0, cloneValue(set[path]), filters, path);
  }
  for (const id of filters.keys()) if (!used.has(id)) throw refused(`the array filter for identifier '${id}' was not used in the update`, { identifier: id });
  return next;
}

function compileArrayFilters(arrayFilters: readonly Filter[]): Map<string, Matcher> {
  const out = new Map<string, Matcher>();
  for (const filter of arrayFilters) {
    const ids = new Set(Object.keys(filter).map((k) => k.split('.')[0] as string));
    if (ids.size !== 1) throw refused('an array filter must name exactly one identifier');
    const id = [...ids][0] as string;
    if (out.has(id)) throw refused(`two array filters for identifier '${id}'`, { identifier: id });
    const onElement = Object.fromEntries(Object.entries(filter).map(([k, v]) => [k.slice(id.length + 1), v]));
    if (Object.keys(onElement).some((k) => k === '')) throw refused(`array filters on whole elements ('${id}') are not supported by the memory store`);
    out.set(id, compileFilter(onElement));
  }
  return out;
}

function assign(node: unknown, segments: readonly string[], index: number, value: unknown, filters: ReadonlyMap<string, Matcher>, path: string): void {
  const segment = segments[index] as string;
  const last = index === segments.length - 1;
  const identified = IDENTIFIED.exec(segment)?.[1];
  if (segment === ALL || identified !== undefined) {
    if (!Array.isArray(node)) throw refused(`the path '${segments.slice(0, index).join('.')}' must exist in the document in order to apply array updates`, { path });
    const matches = identified === undefined ? undefined : (filters.get(identified) as Matcher);
    node.forEach((element, i) => {
      if (matches && !(isPlainObject(element) && matches(element))) return;
      if (last) node[i] = value;
      else assign(element, segments, index + 1, value, filters, path);
    });
    return;
  }
  if (!isPlainObject(node)) throw refused(`cannot create field "${segment}" of "${path}": its parent is not a document`, { path });
  if (last) {
    node[segment] = value;
    return;
  }
  const nextIsPositional = segments[index + 1] === ALL || IDENTIFIED.test(segments[index + 1] as string);
  if (!Object.hasOwn(node, segment)) {
    if (nextIsPositional) throw refused(`the path '${segments.slice(0, index + 1).join('.')}' must exist in the document in order to apply array updates`, { path });
    node[segment] = {};
  }
  assign(node[segment], segments, index + 1, value, filters, path);
}
