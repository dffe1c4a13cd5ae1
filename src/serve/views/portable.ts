/**
 * The portable executor of on-demand views (the memory store, any view with `map`, a store without views):
 * no `$lookup`, only plain queries, a fixed number per page whatever its size:
 *
 *   1. filter terms on joined fields (`customer.tier`) → one semi-join query per relation that
 *      yields the join keys, added to the base filter as `$in` (capped: TRB_VIEW_FILTER_TOO_BROAD);
 *   2. one page query on the base collection (sorting on joined fields: TRB_VIEW_SORT_UNSUPPORTED);
 *   3. one batched `$in` query per relation for the page's keys, grouped in memory and attached
 *      (`hasOne` → object or null, `hasMany` → array ordered by `_id`);
 *   4. `map`, then the `_p` projection.
 *
 * Implemented as a ReadExecutor, so list, get, count, export and `_after` work unchanged.
 */
import { TributaryError } from '../../errors.js';
import type { Relation } from '../../fastdata/singleview/relations.js';
import { compileProjection } from '../../store/memory/query.js';
import { canonicalKey, compareValues } from '../../store/memory/values.js';
import type { Document } from '../../store/types.js';
import type { FindPlan, ReadExecutor } from '../executor.js';
import { INTERNAL_FIELDS } from '../model.js';
import type { View } from './view.js';

/** Operators whose meaning is "some related document matches": the only ones a semi-join preserves. */
const SEMI_JOIN_OPERATORS = new Set(['$eq', '$gt', '$gte', '$lt', '$lte', '$in', '$regex', '$options', '$all', '$size', '$elemMatch']);
const HIDDEN = Object.fromEntries(INTERNAL_FIELDS.map((f) => [f, 0 as const]));

export function portableViewExecutor(view: View, base: ReadExecutor): ReadExecutor {
  const baseCollection = view.base.name;
  const relations = Object.entries(view.include);

  const relationOf = (path: string): string | undefined => {
    const head = path.split('.')[0] as string;
    return Object.hasOwn(view.include, head) ? head : undefined;
  };

  /** Step 1: relation terms → `$in` on the base join fields. */
  async function baseFilter(filter: Record<string, unknown>): Promise<Record<string, unknown>> {
    const baseTerms: Record<string, unknown>[] = [];
    const byRelation = new Map<string, Record<string, unknown>>();
    const visit = (term: Record<string, unknown>) => {
      for (const [key, value] of Object.entries(term)) {
        if (key === '$and') {
          for (const inner of value as Record<string, unknown>[]) visit(inner);
          continue;
        }
        if (key === '$or' || key === '$nor') {
          if (mentions(value, (k) => relationOf(k) !== undefined)) {
            throw new TributaryError('TRB_QUERY_UNSUPPORTED', `${key} over joined fields is not supported by view '${view.name}'; filter joined fields with AND terms`, { context: { path: `_q.${key}` } });
          }
          baseTerms.push({ [key]: value });
          continue;
        }
        const relation = relationOf(key);
        if (relation === undefined) {
          baseTerms.push({ [key]: value });
          continue;
        }
        const path = key.slice(relation.length + 1);
        if (path === '' || !isSemiJoinCondition(value)) {
          throw new TributaryError('TRB_QUERY_UNSUPPORTED', `view '${view.name}': only positive conditions on fields of '${relation}' can be filtered (e.g. {"${relation}.field": value})`, { context: { path: `_q.${key}` } });
        }
        const terms = byRelation.get(relation) ?? {};
        terms[path] = value;
        byRelation.set(relation, terms);
      }
    };
    visit(filter);
    for (const [name, terms] of byRelation) {
      const relation = view.include[name] as Relation;
      const pairs = Object.entries(relation.on);
      if (pairs.length !== 1) throw new TributaryError('TRB_QUERY_UNSUPPORTED', `view '${view.name}': filters on '${name}' need a single-field join`, { context: { path: name } });
      const [targetField, parentField] = pairs[0] as [string, string];
      const matches = await base.find(relation.target.name, {
        filter: { ...terms, __STATE__: stateFilter(relation) },
        sort: [],
        projection: { [targetField]: 1, _id: 0 },
        limit: view.maxSemiJoinKeys + 1,
      });
      if (matches.length > view.maxSemiJoinKeys) {
        throw new TributaryError('TRB_VIEW_FILTER_TOO_BROAD', `view '${view.name}': the filter on '${name}' matches more than ${view.maxSemiJoinKeys} documents; filter the base fields too, or declare a single view`, { context: { path: name } });
      }
      baseTerms.push({ [parentField]: { $in: [...new Map(matches.map((m) => [canonicalKey(m[targetField]), m[targetField]])).values()] } });
    }
    return baseTerms.length === 1 ? (baseTerms[0] as Record<string, unknown>) : { $and: baseTerms };
  }

  /** Step 3: one `$in` query per relation for the whole page. */
  async function attach(page: Document[]): Promise<Document[]> {
    const rows = page.map((d) => ({ ...d }));
    for (const [name, relation] of relations) {
      const pairs = Object.entries(relation.on);
      const keyOf = (doc: Document, side: 0 | 1) => canonicalKey(pairs.map((p) => doc[p[side]] ?? null));
      const filter: Record<string, unknown> = { __STATE__: stateFilter(relation) };
      for (const [targetField, parentField] of pairs) {
        filter[targetField] = { $in: [...new Map(page.map((d) => [canonicalKey(d[parentField] ?? null), d[parentField] ?? null])).values()] };
      }
      const related = page.length === 0 ? [] : await base.find(relation.target.name, { filter, sort: [], projection: HIDDEN });
      related.sort((a, b) => compareValues(a['_id'], b['_id']));
      const groups = new Map<string, Document[]>();
      for (const r of related) {
        const key = keyOf(r, 0);
        groups.set(key, [...(groups.get(key) ?? []), r]);
      }
      for (const row of rows) {
        const group = groups.get(keyOf(row, 1)) ?? [];
        row[name] = relation.cardinality === 'one' ? (group[0] ?? null) : group;
      }
    }
    return rows;
  }

  const shape = (plan: FindPlan) => {
    const project = plan.projection ? compileProjection(plan.projection) : (d: Document) => d;
    return (row: Document): Document => {
      // The output always carries the base metadata: without __STATE__ a row would vanish from CRUD-style reads.
      const mapped = view.map ? { _id: row['_id'], __STATE__: row['__STATE__'], createdAt: row['createdAt'], updatedAt: row['updatedAt'], ...view.map(row) } : row;
      return project(mapped);
    };
  };

  return {
    async find(collection, plan) {
      if (collection !== view.name) return base.find(collection, plan);
      const joinedSort = plan.sort.find(([f]) => relationOf(f) !== undefined);
      if (joinedSort) {
        throw new TributaryError('TRB_VIEW_SORT_UNSUPPORTED', `view '${view.name}' cannot sort on the joined field '${joinedSort[0]}'; sort on base fields or declare a single view`, { context: { path: '_s' } });
      }
      const page = await base.find(baseCollection, { ...plan, filter: await baseFilter(plan.filter), projection: HIDDEN });
      return (await attach(page)).map(shape(plan));
    },
    async count(collection, filter) {
      if (collection !== view.name) return base.count(collection, filter);
      return base.count(baseCollection, await baseFilter(filter));
    },
  };
}

function stateFilter(relation: Relation): unknown {
  return relation.onStates.length === 1 ? relation.onStates[0] : { $in: [...relation.onStates] };
}

function isSemiJoinCondition(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Date) return true;
  const keys = Object.keys(value);
  if (!keys.some((k) => k.startsWith('$'))) return true;
  return keys.every((k) => SEMI_JOIN_OPERATORS.has(k) || (k === '$exists' && (value as Record<string, unknown>)[k] === true));
}

/** Whether any field name inside a filter value satisfies `test` (operators are looked through). */
function mentions(value: unknown, test: (field: string) => boolean): boolean {
  if (Array.isArray(value)) return value.some((v) => mentions(v, test));
  if (typeof value !== 'object' || value === null || value instanceof Date) return false;
  return Object.entries(value).some(([k, v]) => (!k.startsWith('$') && test(k)) || mentions(v, test));
}
