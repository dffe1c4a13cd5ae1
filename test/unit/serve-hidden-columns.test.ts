/**
 * Columns hidden by `acl_read_columns` leak through no path (filters, sorts, cursors, `_st`, the
 * watermark) on collections and views, and cursors are signed, bound and tamper-evident — on the
 * memory store (test/integration/serve.test.ts runs the same lists on the real store).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MemoryDocumentStore } from '../../src/testing/index.js';
import { createReadApi, type ReadApi } from '../../src/serve/index.js';
import { isTributaryError } from '../../src/errors.js';
import { createLogger } from '../../src/ops/logger.js';
import topology from '../../topologies/customer-360.js';
import { seed, seedOrders } from '../fixtures/serve/data.js';
import { checkCursors, hiddenColumnRequests, type Inject } from '../fixtures/serve/hidden-columns.js';
import { allViews } from '../fixtures/serve/views.js';

const logger = createLogger({ level: 'silent' });
const KEY = 'a-cursor-key-of-at-least-32-characters';
const injector = (api: ReadApi): Inject => async (url, headers = {}) => {
  const r = await api.app.inject({ url, headers });
  return { status: r.statusCode, headers: r.headers, body: r.body };
};

describe('hidden columns and signed cursors (memory store)', () => {
  const store = new MemoryDocumentStore();
  let api: ReadApi;
  let replica: ReadApi;
  let restarted: ReadApi;
  before(async () => {
    await store.connect();
    await seed(store);
    await seedOrders(store);
    api = await createReadApi({ topology, views: allViews, store, logger, cursorKey: KEY });
    replica = await createReadApi({ topology, views: allViews, store, logger, env: { SERVE_CURSOR_KEY: KEY } });
    restarted = await createReadApi({ topology, views: allViews, store, logger, env: {} });
  });
  after(async () => {
    for (const a of [api, replica, restarted]) await a.close();
  });

  for (const golden of hiddenColumnRequests) {
    it(golden.name, async () => {
      const r = await api.app.inject({ method: golden.method ?? 'GET', url: golden.url, headers: golden.headers ?? {} });
      assert.equal(r.statusCode, golden.status, r.body);
      golden.check?.({ status: r.statusCode, headers: r.headers, body: r.body });
    });
  }

  it('cursors: signed, bound to collection and sort, refused when altered; a replica with the same key (SERVE_CURSOR_KEY) continues the walk', async () => {
    await checkCursors(injector(api), { inject: injector(replica), sameKey: true });
  });

  it('cursors: without a configured key, another process (a restart, another replica) refuses them', async () => {
    await checkCursors(injector(api), { inject: injector(restarted), sameKey: false });
  });

  it('cursor keys: rotation (the first signs, every one verifies); keys shorter than 32 characters are refused at start', async () => {
    const rotated = await createReadApi({ topology, store, logger, cursorKey: ['a-new-cursor-key-of-32-characters-or-more', KEY] });
    try {
      const cursor = String((await api.app.inject('/pr-customers/?_s=customer_id&_l=2&_after=')).headers['x-next-cursor']);
      assert.equal((await rotated.app.inject(`/pr-customers/?_s=customer_id&_l=2&_after=${cursor}`)).statusCode, 200, 'the old key still verifies');
      const fresh = String((await rotated.app.inject('/pr-customers/?_s=customer_id&_l=2&_after=')).headers['x-next-cursor']);
      assert.equal((await api.app.inject(`/pr-customers/?_s=customer_id&_l=2&_after=${fresh}`)).statusCode, 400, 'the new key signs');
    } finally {
      await rotated.close();
    }
    for (const options of [{ cursorKey: 'short' }, { env: { SERVE_CURSOR_KEY: 'x'.repeat(31) } }]) {
      await assert.rejects(createReadApi({ topology, store, logger, ...options }), (e: unknown) => isTributaryError(e) && e.code === 'TRB_CONFIG' && /at least 32 characters/.test(e.message));
    }
  });

  it('without a cursor key the start logs the consequence (and a configured key is never logged)', async () => {
    const lines: string[] = [];
    const capture = createLogger({ level: 'info', destination: { write: (line: string) => lines.push(line) } });
    await (await createReadApi({ topology, store, logger: capture, env: {} })).close();
    const warning = lines.map((l) => JSON.parse(l) as { level: number; msg: string }).find((l) => /cursor key/.test(l.msg));
    assert.ok(warning, lines.join(''));
    assert.equal(warning.level, 40);
    assert.match(warning.msg, /do not survive a restart and other replicas refuse them/);
    lines.length = 0;
    await (await createReadApi({ topology, store, logger: capture, cursorKey: KEY })).close();
    assert.ok(!lines.some((l) => /cursor key/.test(l) || l.includes(KEY)), lines.join(''));
  });
});
