/**
 * The aggregate stage inserts a view it has never stored and replaces one it has (a DocumentDB
 * insert costs about half an upsert), and a view another writer inserted between the stage's read
 * and its write is not lost: the unique key index refuses the insert, the batch is retried, and the
 * retry replaces the view.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { basic, type Row } from '../../src/fastdata/cdc/index.js';
import { field } from '../../src/fastdata/projection/fields.js';
import { projection } from '../../src/fastdata/projection/projection.js';
import { aggregateViews } from '../../src/fastdata/singleview/aggregate-views.js';
import type { SvTrigger } from '../../src/fastdata/singleview/events.js';
import { singleView } from '../../src/fastdata/singleview/single-view.js';
import type { Collection, Filter, FindOptions, WriteOperation } from '../../src/store/types.js';
import { json } from '../../src/stream/serdes/json.js';
import { topology } from '../../src/stream/topology.js';
import { TestDriver } from '../../src/testing/test-driver.js';
import { CountingStore } from '../contract/counting-store.js';

const TRIGGERS = 'sv_customers.sv-trigger';
const NOW = new Date('2026-03-04T05:06:07.000Z');
const KEY_INDEX = { name: 'sv_key_index', fields: { customer_id: 1 as const }, unique: true };

const customers = projection({
  name: 'pr_customers',
  source: { topic: 'crm.customers', adapter: basic() },
  primaryKey: ['customer_id'],
  fields: { customer_id: field.string(), name: field.string() },
});
const view = singleView({ name: 'sv_customers', base: customers, include: {}, map: ({ base }) => ({ customer_id: base.customer_id, name: base.name }) });

function trigger(customerId: string): { key: Row; value: SvTrigger } {
  const key = { customer_id: customerId };
  return { key, value: { type: 'aggregation', singleViewIdentifier: key, change: { projectionName: 'pr_customers', projectionIdentifier: key } } as unknown as SvTrigger };
}

async function started(store: CountingStore): Promise<TestDriver> {
  await store.inner.collection('sv_customers').createIndexes([KEY_INDEX]);
  await store.inner.collection('pr_customers').bulkWrite(['c1', 'c2'].map((id) => ({ kind: 'replace', filter: { customer_id: id }, document: { customer_id: id, name: `name of ${id}`, __STATE__: 'PUBLIC' } })));
  const t = topology('view-insert-test');
  t.stream(TRIGGERS, { key: json<unknown>(), value: json<unknown>(), name: 'aggregate' }).pipe(
    aggregateViews(view, { triggerTopic: TRIGGERS, svUpdateTopic: 'sv_customers.sv-update', errorsCollection: 'sv_customers-errors', source: 'crm', now: () => NOW }),
  );
  return TestDriver.start(t, { store });
}

async function aggregate(driver: TestDriver, ...ids: string[]): Promise<void> {
  await driver.pipeInput(TRIGGERS, ids.map(trigger), { key: json<Row>(), value: json<SvTrigger>() });
  await driver.idle();
}

const viewWrites = (store: CountingStore) => store.calls.filter((c) => c.collection === 'sv_customers' && c.method === 'bulkWrite').map((c) => (c.arg as WriteOperation[]).map((w) => w.kind));

describe('aggregate stage: a view never stored is inserted', () => {
  it('inserts the views it has not stored, replaces the ones it has', async () => {
    const store = new CountingStore();
    const driver = await started(store);
    try {
      await aggregate(driver, 'c1');
      await aggregate(driver, 'c1', 'c2');
      assert.deepEqual(viewWrites(store), [['insert'], ['replace', 'insert']]);
      const stored = await store.inner.collection('sv_customers').find({}, { sort: { customer_id: 1 } });
      assert.deepEqual(stored.map((d) => [d['customer_id'], d['name'], d['__STATE__']]), [['c1', 'name of c1', 'PUBLIC'], ['c2', 'name of c2', 'PUBLIC']]);
    } finally {
      await driver.close();
    }
  });

  it('a view inserted by another writer after the read is not lost: the refused insert is retried as a replace', async () => {
    // The other writer's view lands right after the stage read the stored views (none), once.
    class RacedStore extends CountingStore {
      raced = false;
      override collection(name: string): Collection {
        const collection = super.collection(name);
        if (name !== 'sv_customers') return collection;
        return {
          ...collection,
          find: async (filter: Filter, options?: FindOptions) => {
            const found = await collection.find(filter, options);
            if (!this.raced) {
              this.raced = true;
              await this.inner.collection(name).bulkWrite([{ kind: 'insert', document: { customer_id: 'c1', name: 'the other writer', __STATE__: 'PUBLIC', createdAt: NOW, updatedAt: NOW } }]);
            }
            return found;
          },
        };
      }
    }
    const store = new RacedStore();
    const driver = await started(store);
    try {
      await aggregate(driver, 'c1');
      assert.deepEqual(viewWrites(store), [['insert'], ['replace']], 'the refused insert, then the retry');
      const stored = await store.inner.collection('sv_customers').find({});
      assert.equal(stored.length, 1);
      assert.equal(stored[0]?.['name'], 'name of c1', 'the retry wrote the aggregated view');
      assert.equal(driver.broker.partitions(`${TRIGGERS}.dlq`).flat().length, 0, 'nothing dead-lettered');
    } finally {
      await driver.close();
    }
  });
});
