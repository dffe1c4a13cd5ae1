/**
 * The CRUD Service ACL headers beyond the golden requests: GET /:id, configurable header names,
 * the validation rules `acl_rows` shares with `_q`, and the OpenAPI document listing the headers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MemoryDocumentStore } from '../../src/testing/index.js';
import { createReadApi, type ReadApi } from '../../src/serve/index.js';
import { isTributaryError } from '../../src/errors.js';
import { createLogger } from '../../src/ops/logger.js';
import topology from '../../topologies/customer-360.js';
import { seed, seedOrders } from '../fixtures/serve/data.js';
import { ordersWithCustomer } from '../fixtures/serve/views.js';

const logger = createLogger({ level: 'silent' });
type Doc = Record<string, unknown>;
type OpenApi = { paths: Record<string, Record<string, { parameters?: Array<{ name: string; in: string }> }>> };

describe('ACL headers (memory store)', () => {
  const store = new MemoryDocumentStore();
  let api: ReadApi;
  let custom: ReadApi;
  let ids: Record<string, string>;
  before(async () => {
    await store.connect();
    await seed(store);
    await seedOrders(store);
    api = await createReadApi({ topology, views: [ordersWithCustomer], store, logger });
    custom = await createReadApi({ topology, views: [ordersWithCustomer], store, logger, aclHeaders: { rows: 'X-Acl-Rows', readColumns: 'x-acl-read-columns' } });
    const all = JSON.parse((await api.app.inject('/pr-customers/?_st=PUBLIC,DRAFT')).body) as Doc[];
    ids = Object.fromEntries(all.map((d) => [d['customer_id'] as string, d['_id'] as string]));
  });
  after(async () => {
    await api.close();
    await custom.close();
  });

  const get = (app: ReadApi, url: string, headers: Record<string, string> = {}) => app.app.inject({ url, headers });

  it('GET /:id: a document acl_rows filters out is 404; acl_read_columns limits its fields, with _p too', async () => {
    assert.equal((await get(api, `/pr-customers/${ids['c1']}`, { acl_rows: '{"tier":"gold"}' })).statusCode, 200);
    const hidden = await get(api, `/pr-customers/${ids['c2']}`, { acl_rows: '{"tier":"gold"}' });
    assert.equal(hidden.statusCode, 404);
    assert.equal((JSON.parse(hidden.body) as Doc)['code'], 'TRB_NOT_FOUND');
    assert.deepEqual(JSON.parse((await get(api, `/pr-customers/${ids['c1']}`, { acl_read_columns: 'name,tier' })).body), { _id: ids['c1'], name: 'Ada Lovelace', tier: 'gold' });
    assert.deepEqual(JSON.parse((await get(api, `/pr-customers/${ids['c1']}?_p=name,email`, { acl_read_columns: '["name","tier"]' })).body), { _id: ids['c1'], name: 'Ada Lovelace' });
    // acl_rows does not widen what _st selects: a DRAFT document stays hidden without _st.
    assert.equal((await get(api, `/pr-customers/${ids['c4']}`, { acl_rows: '{"tier":"bronze"}' })).statusCode, 404);
  });

  it('GET /:id on a view: acl_rows on a joined field', async () => {
    const [o1, o4] = (JSON.parse((await get(api, '/orders-with-customer/?_s=order_id')).body) as Doc[]).filter((d) => d['order_id'] === 'o1' || d['order_id'] === 'o4');
    const gold = { acl_rows: '{"customer.tier":"gold"}' };
    assert.equal((await get(api, `/orders-with-customer/${o1?.['_id']}`, gold)).statusCode, 200);
    assert.equal((await get(api, `/orders-with-customer/${o4?.['_id']}`, gold)).statusCode, 404);
  });

  it('header names are configurable; then the default names are ordinary headers, and errors name the configured header', async () => {
    const gold = JSON.stringify({ tier: 'gold' });
    assert.equal((await get(custom, '/pr-customers/count', { 'x-acl-rows': gold })).body, '2');
    assert.equal((await get(custom, '/pr-customers/count', { acl_rows: gold })).body, '4');
    const rows = JSON.parse((await get(custom, '/pr-customers/?_s=customer_id', { 'x-acl-read-columns': 'customer_id' })).body) as Doc[];
    assert.deepEqual(Object.keys(rows[0] as Doc).sort(), ['_id', 'customer_id']);
    const refused = await get(custom, '/pr-customers/', { 'x-acl-rows': '{"$where":"1"}' });
    assert.equal(refused.statusCode, 400);
    assert.equal((JSON.parse(refused.body) as Doc)['path'], 'X-Acl-Rows.$where');
    assert.equal((JSON.parse((await get(custom, '/pr-customers/', { 'x-acl-read-columns': '["name"' })).body) as Doc)['path'], 'x-acl-read-columns');
  });

  it('configured header names are checked at start', async () => {
    for (const aclHeaders of [{ rows: 'acl rows' }, { rows: 'x-acl', readColumns: 'X-ACL' }]) {
      await assert.rejects(createReadApi({ topology, store, logger, aclHeaders }), (e: unknown) => isTributaryError(e) && e.code === 'TRB_CONFIG');
    }
  });

  it('acl_rows follows the _q rules: operators, fields, depth, size; each refusal is a coded 400', async () => {
    const refused = async (value: string) => {
      const r = await get(api, '/pr-customers/', { acl_rows: value });
      assert.equal(r.statusCode, 400, value);
      const body = JSON.parse(r.body) as Doc;
      assert.match(String(body['code']), /^TRB_QUERY_(INVALID|UNSUPPORTED)$/);
      return body;
    };
    assert.equal((await refused('{"tier":{"$function":{}}}'))['path'], 'acl_rows.tier.$function');
    assert.equal((await refused('{"password":"x"}'))['path'], 'acl_rows.password');
    assert.equal((await refused('[{"tier":"gold"}, 3]'))['path'], 'acl_rows[1]');
    assert.match(String((await refused(JSON.stringify({ $and: [{ $and: [{ $and: [{ $and: [{ tier: 'gold' }] }] }] }] })))['message']), /deeper than 8/);
    assert.equal((await refused(JSON.stringify({ customer_id: { $in: Array.from({ length: 900 }, (_, i) => `customer-${i}`) } })))['path'], 'acl_rows');
    assert.equal((await refused('{"$text":{"$search":"ada"}}'))['code'], 'TRB_QUERY_UNSUPPORTED');
  });

  it('OpenAPI lists both ACL headers on list, get, count and export of collections and views, under the configured names', async () => {
    for (const [app, names] of [
      [api, ['acl_rows', 'acl_read_columns']],
      [custom, ['X-Acl-Rows', 'x-acl-read-columns']],
    ] as const) {
      const doc = JSON.parse((await app.app.inject('/documentation/json')).body) as OpenApi;
      for (const ep of ['/pr-customers', '/sv-customers', '/orders-with-customer']) {
        for (const route of ['/', '/{id}', '/count', '/export']) {
          const headers = (doc.paths[`${ep}${route}`]?.['get']?.parameters ?? []).filter((p) => p.in === 'header').map((p) => p.name);
          for (const name of names) assert.ok(headers.includes(name), `${ep}${route} lists ${name}`);
        }
        assert.ok(!(doc.paths[`${ep}/schema`]?.['get']?.parameters ?? []).some((p) => p.in === 'header'), `${ep}/schema has no ACL`);
      }
    }
  });
});
