import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryDocumentStore } from '../../src/testing/index.js';
import { createReadApi, type ReadApi } from '../../src/serve/index.js';
import type { DocumentStore } from '../../src/runtime.js';
import { createLogger } from '../../src/ops/logger.js';
import topology from '../../topologies/customer-360.js';

const logger = createLogger({ level: 'silent' });

async function seedCustomers(store: DocumentStore, n: number): Promise<void> {
  const now = new Date();
  await store.collection('pr_customers').bulkWrite(
    Array.from({ length: n }, (_, i) => ({
      kind: 'upsert' as const,
      filter: { customer_id: `m${String(i).padStart(4, '0')}` },
      set: { name: `Customer ${i}`, tier: 'silver', __STATE__: 'PUBLIC', createdAt: now, updatedAt: now },
    })),
  );
}

/** Walks every page, calling `between` after each one (the "CDC keeps writing" part). */
async function walk(api: ReadApi, first: string, between: (page: number) => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  let url: string | undefined = first;
  for (let page = 0; url && page < 1000; page += 1) {
    const r: { statusCode: number; body: string; headers: Record<string, unknown> } = await api.app.inject(url);
    assert.equal(r.statusCode, 200, r.body);
    const docs = JSON.parse(r.body) as Array<{ customer_id: string }>;
    seen.push(...docs.map((d) => d.customer_id));
    const next = r.headers['x-next-cursor'];
    url = typeof next === 'string' ? `${first.split('_after=')[0]}_after=${next}` : undefined;
    await between(page);
  }
  return seen;
}

describe('keyset paging (_after) while updates keep arriving', () => {
  for (const sort of ['', '_s=customer_id&', '_s=-customer_id&']) {
    it(`returns every document exactly once (${sort || 'default _id order'})`, async () => {
      const store = new MemoryDocumentStore();
      await store.connect();
      await seedCustomers(store, 230);
      const api = await createReadApi({ topology, store, logger });
      let inserted = 0;
      const seen = await walk(api, `/pr-customers/?${sort}_l=20&_after=`, async (page) => {
        // Updates to every document already read and still to read, plus inserts sorting on both sides.
        await store.collection('pr_customers').bulkWrite([
          ...Array.from({ length: 30 }, (_, k) => ({ kind: 'upsert' as const, filter: { customer_id: `m${String((page * 37 + k * 7) % 230).padStart(4, '0')}` }, set: { tier: `t${page}`, updatedAt: new Date() } })),
          { kind: 'upsert', filter: { customer_id: `a${page}` }, set: { name: 'new', __STATE__: 'PUBLIC', createdAt: new Date(), updatedAt: new Date() } },
          { kind: 'upsert', filter: { customer_id: `z${page}` }, set: { name: 'new', __STATE__: 'PUBLIC', createdAt: new Date(), updatedAt: new Date() } },
        ]);
        inserted += 2;
      });
      const original = seen.filter((id) => id.startsWith('m'));
      assert.equal(original.length, 230, 'each original document once');
      assert.equal(new Set(original).size, 230);
      assert.equal(new Set(seen).size, seen.length, 'no document twice, inserted ones included');
      assert.ok(inserted > 0);
      await api.close();
    });
  }

  it('_sk/_l paging repeats documents under the same inserts (why _after exists)', async () => {
    const store = new MemoryDocumentStore();
    await store.connect();
    await seedCustomers(store, 100);
    const api = await createReadApi({ topology, store, logger });
    const seen: string[] = [];
    for (let skip = 0; skip < 200; skip += 20) {
      const docs = JSON.parse((await api.app.inject(`/pr-customers/?_s=customer_id&_l=20&_sk=${skip}`)).body) as Array<{ customer_id: string }>;
      if (docs.length === 0) break;
      seen.push(...docs.map((d) => d.customer_id));
      await store.collection('pr_customers').bulkWrite([{ kind: 'upsert', filter: { customer_id: `a${skip}` }, set: { __STATE__: 'PUBLIC', createdAt: new Date(), updatedAt: new Date() } }]);
    }
    assert.ok(seen.length > new Set(seen).size, 'skip-based paging saw some document twice');
    await api.close();
  });

  it('a cursor is bound to its sort, and a forged one is refused', async () => {
    const store = new MemoryDocumentStore();
    await store.connect();
    await seedCustomers(store, 30);
    const api = await createReadApi({ topology, store, logger });
    const r = await api.app.inject('/pr-customers/?_s=name&_l=10');
    const cursor = r.headers['x-next-cursor'] as string;
    assert.equal((await api.app.inject(`/pr-customers/?_s=name&_l=10&_after=${cursor}`)).statusCode, 200);
    const other = await api.app.inject(`/pr-customers/?_s=tier&_l=10&_after=${cursor}`);
    assert.equal(other.statusCode, 400);
    assert.match(other.body, /issued for _s=name,_id/);
    const forged = Buffer.from(JSON.stringify({ s: ['name', '_id'], v: [{ $where: '1' }, 'x'] })).toString('base64url');
    assert.equal((await api.app.inject(`/pr-customers/?_s=name&_after=${forged}`)).statusCode, 400);
    await api.close();
  });
});
