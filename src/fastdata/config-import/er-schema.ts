/**
 * erSchema.json (§3.5) --> named, oriented conditions.
 *
 *   { "version": "1.0.0", "config": { "pr_registry": { "outgoing": { "pr_orders": { "conditions": {
 *       "reg_to_order": { "condition": { "ID_USER_ORDER": "ID_USER" }, "oneToMany": true } } } } } } }
 *   --> reg_to_order: source pr_registry, target pr_orders, fields { ID_USER_ORDER: 'ID_USER' } (target field → source field)
 *
 * Values may be constants (`__string__[x]`, …): `{ "TYPE": "__string__[home]" }` --> constants { TYPE: 'home' }
 * (the target document must hold that value). `$and` of such objects is flattened. `$or` and other
 * MongoDB operators are not supported (TRB_CONFIG naming the path).
 */
import { CONSTANT_FORMS, constantValue } from './constants.js';
import { configError, describeValue, expectObject, isObject, onlyKeys, optionalBoolean, versioned, type Where } from './where.js';

export interface ErCondition {
  readonly name: string;
  readonly source: string;
  readonly target: string;
  readonly oneToMany: boolean;
  /** target field → source field */
  readonly fields: Readonly<Record<string, string>>;
  /** target field → constant value */
  readonly constants: Readonly<Record<string, unknown>>;
  readonly where: Where;
}

export interface ErSchema {
  readonly conditions: readonly ErCondition[];
  /** The condition called `name` (TRB_CONFIG at `where` when missing or ambiguous). */
  named(name: string, where: Where): ErCondition;
  /** Every condition from `source` to `target`. */
  between(source: string, target: string): ErCondition[];
}

export function parseErSchema(document: unknown, where: Where): ErSchema {
  const config = versioned(document, where, ['1.0.0']);
  const conditions: ErCondition[] = [];
  for (const [source, rawNode] of Object.entries(config)) {
    const nodeAt = where.key('config').key(source);
    const node = expectObject(rawNode, nodeAt, 'an object { outgoing }');
    onlyKeys(node, nodeAt, ['outgoing']);
    const outgoing = node['outgoing'] === undefined ? {} : expectObject(node['outgoing'], nodeAt.key('outgoing'));
    for (const [target, rawEdge] of Object.entries(outgoing)) {
      const edgeAt = nodeAt.key('outgoing').key(target);
      const edge = expectObject(rawEdge, edgeAt, 'an object { conditions }');
      onlyKeys(edge, edgeAt, ['conditions']);
      const named = expectObject(edge['conditions'], edgeAt.key('conditions'), 'an object of named conditions');
      for (const [name, rawCondition] of Object.entries(named)) {
        const at = edgeAt.key('conditions').key(name);
        const c = expectObject(rawCondition, at, 'an object { condition, oneToMany? }');
        onlyKeys(c, at, ['condition', 'oneToMany']);
        const fields: Record<string, string> = {};
        const constants: Record<string, unknown> = {};
        flatten(expectObject(c['condition'], at.key('condition'), 'a condition object { <target field>: <source field or constant> }'), at.key('condition'), fields, constants);
        // Fast Data cleans empty conditions away; a condition with nothing in it cannot join.
        if (Object.keys(fields).length === 0) {
          throw configError(at.key('condition'), 'a condition needs at least one field-to-field equality (target field: source field); constants alone cannot join', `{ "<target field>": "<source field>" } plus optional constants (${CONSTANT_FORMS})`);
        }
        conditions.push({ name, source, target, oneToMany: optionalBoolean(c['oneToMany'], at.key('oneToMany'), false), fields, constants, where: at });
      }
    }
  }
  return {
    conditions,
    named(name, at) {
      const found = conditions.filter((c) => c.name === name);
      if (found.length === 0) throw configError(at, `condition '${name}' is not defined in ${where.file}`, conditions.map((c) => `'${c.name}'`).join(', ') || 'no condition is defined');
      if (found.length > 1) throw configError(at, `condition name '${name}' is defined ${found.length} times in ${where.file} (${found.map((c) => c.where.path).join(', ')})`, 'a unique condition name');
      return found[0] as ErCondition;
    },
    between: (source, target) => conditions.filter((c) => c.source === source && c.target === target),
  };
}

function flatten(condition: Record<string, unknown>, at: Where, fields: Record<string, string>, constants: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(condition)) {
    const here = at.key(key);
    if (key === '$and') {
      if (!Array.isArray(value)) throw configError(here, `'$and' expects an array of conditions, got ${describeValue(value)}`);
      value.forEach((part, i) => flatten(expectObject(part, here.key(i), 'a condition object'), here.key(i), fields, constants));
      continue;
    }
    if (key.startsWith('$')) {
      throw configError(here, `operator '${key}' is not supported by the Tributary import`, `plain equalities { "<target field>": "<source field>" }, constants (${CONSTANT_FORMS}) and '$and'`);
    }
    if (typeof value !== 'string' || value === '') {
      const hint = isObject(value) ? 'MongoDB operators on a field are not supported' : `got ${describeValue(value)}`;
      throw configError(here, `the value of '${key}' must be a source field name or a constant; ${hint}`, `a source field name, ${CONSTANT_FORMS}`);
    }
    const constant = constantValue(value, here);
    if (constant) constants[key] = constant.value;
    else fields[key] = value;
  }
}
