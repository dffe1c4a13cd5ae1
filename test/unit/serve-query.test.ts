import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ObjectId } from 'mongodb';
import { buildEndpoints, type Endpoint } from '../../src/serve/model.js';
import { parseParams } from '../../src/serve/query/params.js';
import { parseQ } from '../../src/serve/query/filter-q.js';
import { afterFilter, cursorCodec } from '../../src/serve/query/cursor.js';
import { compileMatcher } from '../../src/store/memory/match.js';
import { csvCell, exportFormat } from '../../src/serve/export.js';
import topology from '../../topologies/customer-360.js';

const endpoints = buildEndpoints(topology.fastData);
const customers = endpoints.find((e) => e.collection === 'pr_customers') as Endpoint;
const view = endpoints.find((e) => e.collection === 'sv_customers') as Endpoint;

describe('serve: endpoint model', () => {
  it('maps names to kebab-case paths and types fields from the declarations', () => {
    assert.deepEqual(endpoints.map((e) => e.path), ['/pr-customers', '/pr-orders', '/pr-order-lines', '/pr-preferences', '/sv-customers']);
    assert.equal(customers.fields['signup']?.type, 'isoTimestamp');
    assert.equal(customers.fields['customer_id']?.required, true);
    assert.equal(view.strict, false, 'a single view without declared fields is not strict');
    assert.equal(view.fields['customer_id']?.type, 'string', 'its key is typed from the base projection');
  });

  it('refuses clashing endpoint paths', () => {
    assert.throws(() => buildEndpoints(topology.fastData, { endpointBasePaths: { pr_orders: 'pr-customers' } }), /both map to/);
  });
});

describe('serve: query parameters', () => {
  it('builds one filter: state equality, field filters cast by type, _q in $and', () => {
    const plan = parseParams(endpoints[1] as Endpoint, 'list', { total: '12.5', _q: '{"status":{"$in":["paid"]}}', _l: '10', _s: '-total' }, {});
    assert.deepEqual(plan.filter, { __STATE__: 'PUBLIC', total: 12.5, status: { $in: ['paid'] } });
    assert.deepEqual(plan.sort, [['total', -1], ['_id', 1]]);
    assert.equal(plan.limit, 10);
    assert.equal(plan.keyset, true);
  });

  it('_st lists become $in; defaults: _l 25, natural order', () => {
    const plan = parseParams(customers, 'list', { _st: 'PUBLIC,DRAFT' }, {});
    assert.deepEqual(plan.filter, { __STATE__: { $in: ['PUBLIC', 'DRAFT'] } });
    assert.equal(plan.limit, 25);
    assert.deepEqual(plan.sort, []);
  });

  it('casts dates and ObjectIds in _q, numbers in field filters', () => {
    const f = parseQ('{"updatedAt":{"$gte":"2026-01-01T00:00:00Z"},"_id":{"$in":["0123456789abcdef01234567"]}}', customers);
    assert.ok((f['updatedAt'] as { $gte: unknown }).$gte instanceof Date);
    assert.ok((f['_id'] as { $in: unknown[] }).$in[0] instanceof ObjectId);
    assert.throws(() => parseParams(endpoints[1] as Endpoint, 'list', { total: 'abc' }, {}), /must be a number/);
    assert.throws(() => parseParams(endpoints[2] as Endpoint, 'list', { quantity: '1.5' }, {}), /must be an integer/);
  });

  it('names the path and the allowed list on refusal', () => {
    try {
      parseQ('{"tier":{"$where":"1"}}', customers);
      assert.fail('accepted');
    } catch (error) {
      const e = error as { code: string; context: { path: string; allowed: string[] } };
      assert.equal(e.code, 'TRB_QUERY_INVALID');
      assert.equal(e.context.path, '_q.tier.$where');
      assert.ok(e.context.allowed.includes('$regex'));
    }
  });

  it('enforces the limits: $regex length, $in size, depth, bytes', () => {
    assert.throws(() => parseQ(JSON.stringify({ name: { $regex: 'a'.repeat(257) } }), customers), /longer than 256/);
    assert.throws(() => parseQ(JSON.stringify({ name: { $in: Array.from({ length: 1001 }, (_, i) => i) } }), customers, { limits: { maxDepth: 8, maxBytes: 1e6, maxRegexLength: 256, maxInValues: 1000 } }), /more than 1000/);
    assert.throws(() => parseQ(JSON.stringify({ name: { $regex: '(' } }), customers), /not a valid regular expression/);
    assert.throws(() => parseQ('{"name":{"$options":"i"}}', customers), /needs \$regex/);
  });

  it('a single view without declared fields accepts plain paths but never operators as names', () => {
    assert.deepEqual(parseQ('{"orders.status":"paid"}', view), { 'orders.status': 'paid' });
    assert.throws(() => parseQ('{"orders.$where":"1"}', view), /unknown field/);
  });
});

describe('serve: keyset cursor', () => {
  it('round-trips dates and ObjectIds, and builds the strictly-after filter', () => {
    const id = new ObjectId();
    const at = new Date('2026-01-01T00:00:00Z');
    const sort = [['updatedAt', -1], ['_id', 1]] as const;
    const codec = cursorCodec(['k'.repeat(32)]);
    const cursor = codec.encode('pr_customers', sort, { updatedAt: at, _id: id });
    const values = codec.decode('pr_customers', cursor, sort);
    assert.deepEqual(values, [at, id]);
    assert.deepEqual(afterFilter(sort, values), { $or: [{ updatedAt: { $lt: at } }, { updatedAt: at, _id: { $gt: id } }] });
    assert.deepEqual(afterFilter([['tier', 1], ['_id', 1]], [null, id]), { $or: [{ tier: { $ne: null } }, { tier: null, _id: { $gt: id } }] });
  });
});

describe('serve: in-process matcher (memory store)', () => {
  const doc = { name: 'Ada', tags: ['a', 'b'], orders: [{ total: 5, status: 'paid' }, { total: 12, status: 'cancelled' }], at: new Date('2026-01-01') };
  const cases: Array<[Record<string, unknown>, boolean]> = [
    [{ name: 'Ada' }, true],
    [{ name: { $regex: '^a', $options: 'i' } }, true],
    [{ $or: [{ name: 'Bob' }, { tags: 'b' }] }, true],
    [{ $nor: [{ name: 'Ada' }] }, false],
    [{ tags: { $all: ['a', 'b'] } }, true],
    [{ tags: { $size: 3 } }, false],
    [{ 'orders.total': { $gt: 10 } }, true],
    [{ orders: { $elemMatch: { total: { $gt: 10 }, status: 'paid' } } }, false],
    [{ at: { $gte: new Date('2025-12-31') } }, true],
    [{ missing: null }, true],
    [{ missing: { $exists: true } }, false],
    [{ name: { $nin: ['Ada'] } }, false],
    [{ name: { $gt: 5 } }, false],
  ];
  for (const [filter, expected] of cases) it(`${JSON.stringify(filter)} → ${expected}`, () => assert.equal(compileMatcher(filter)(doc), expected));
});

describe('serve: export helpers', () => {
  it('picks the format from Accept', () => {
    assert.equal(exportFormat(undefined), 'ndjson');
    assert.equal(exportFormat('text/csv;q=0.9'), 'csv');
    assert.equal(exportFormat('application/json'), 'json');
    assert.equal(exportFormat('application/vnd.ms-excel'), undefined);
  });
  it('quotes CSV cells', () => {
    assert.equal(csvCell('a;b', ';'), '"a;b"');
    assert.equal(csvCell({ a: 1 }, ','), '"{""a"":1}"');
    assert.equal(csvCell(null, ','), '');
  });
});

describe('serve: watermark cache', () => {
  it('reads once, then serves the last value while refreshing in the background after the TTL', async () => {
    const { watermarks } = await import('../../src/serve/watermark.js');
    let reads = 0;
    let newest = new Date('2026-01-01T00:00:00Z');
    let clock = 0;
    const executor = {
      find: async () => ((reads += 1), [{ updatedAt: newest }]),
      count: async () => 0,
    };
    const w = watermarks(executor, 1000, () => clock);
    assert.equal(await w.get('c'), '2026-01-01T00:00:00.000Z');
    assert.equal(await w.get('c'), '2026-01-01T00:00:00.000Z');
    assert.equal(reads, 1);
    newest = new Date('2026-01-02T00:00:00Z');
    clock = 1500;
    assert.equal(await w.get('c'), '2026-01-01T00:00:00.000Z', 'stale value at once, refresh started');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(reads, 2);
    assert.equal(await w.get('c'), '2026-01-02T00:00:00.000Z');
  });
});
