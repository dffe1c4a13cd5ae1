/**
 * Async `map` and the single-view error kinds (Fast Data §4.8): an async map is awaited with
 * bounded concurrency per batch, its failures go through the view's error path (error record,
 * retry through the sv-trigger topic, dead letter), a map that produces nothing is NO_SV_GENERATED
 * (not retried), one that outlives `maxAggregationMs` is SINGLE_VIEW_AGGREGATION_MAX_TIME (retried),
 * and `fastData({ errors: 'fail' })` stops instead of dead-lettering.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Row } from '../../src/fastdata/cdc/index.js';
import { fastData } from '../../src/fastdata/fast-data.js';
import { aggregateViews } from '../../src/fastdata/singleview/aggregate-views.js';
import type { SvTrigger } from '../../src/fastdata/singleview/events.js';
import { singleView, type SingleView } from '../../src/fastdata/singleview/single-view.js';
import { MemoryDocumentStore } from '../../src/store/memory/memory-store.js';
import type { DocumentStore } from '../../src/store/types.js';
import { DEAD_LETTER_HEADERS } from '../../src/stream/runtime/dead-letter.js';
import { json } from '../../src/stream/serdes/json.js';
import { topology } from '../../src/stream/topology.js';
import { TestDriver } from '../../src/testing/test-driver.js';
import { include, people, pets } from './fixtures/people-pets.js';

const TRIGGERS = 'sv_people.sv-trigger';
const UPDATES = 'sv_people.sv-update';
const ERRORS = 'sv_people-errors';


async function seed(store: DocumentStore): Promise<void> {
  await store.collection('pr_people').bulkWrite(['p1', 'p2', 'p3', 'p4'].map((id, i) => ({ kind: 'replace', filter: { person_id: id }, document: { person_id: id, name: `Person ${i + 1}`, __STATE__: 'PUBLIC' } })));
  await store.collection('pr_pets').bulkWrite([{ kind: 'replace', filter: { pet_id: 'x' }, document: { pet_id: 'x', owner_id: 'p1', species: 'cat', __STATE__: 'PUBLIC' } }]);
}

function trigger(id: string): { key: Row; value: SvTrigger } {
  const key = { person_id: id };
  return {
    key,
    value: {
      type: 'aggregation',
      singleViewName: 'sv_people',
      singleViewIdentifier: key,
      change: { projectionName: 'pr_people', projectionIdentifier: key, data: null },
      __internal__kafkaInfo: { topic: 'hr.people', partition: 0, offset: '1', timestamp: '2026-01-01T00:00:00.000Z', key },
    },
  };
}

async function aggregator(view: SingleView<object>, store: DocumentStore, errors?: 'fail'): Promise<TestDriver> {
  const t = topology('async-map-test');
  t.stream(TRIGGERS, { key: json<unknown>(), value: json<unknown>(), name: 'aggregate', ...(errors ? { errors } : {}) }).pipe(
    aggregateViews(view, { triggerTopic: TRIGGERS, svUpdateTopic: UPDATES, errorsCollection: ERRORS, source: 'hr' }),
  );
  return TestDriver.start(t, { store });
}

async function aggregate(driver: TestDriver, ...ids: string[]): Promise<void> {
  await driver.pipeInput(TRIGGERS, ids.map(trigger), { key: json<Row>(), value: json<SvTrigger>() });
  await driver.idle();
}

const deadLetters = (driver: TestDriver) => driver.broker.partitions(`${TRIGGERS}.dlq`).flat();
const errorTypes = async (store: DocumentStore) => (await store.collection(ERRORS).find({})).map((e) => [e['errorType'], (e['identifier'] as Row)['person_id']]);
const stored = async (store: DocumentStore) => new Map((await store.collection('sv_people').find({})).map((d) => [String(d['person_id']), d]));

/** Fails the test on an unhandled rejection while `fn` runs (Node would only print it, or crash later). */
async function noUnhandledRejection(fn: () => Promise<void>): Promise<void> {
  const seen: unknown[] = [];
  const listener = (reason: unknown) => void seen.push(reason);
  process.on('unhandledRejection', listener);
  try {
    await fn();
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('unhandledRejection', listener);
  }
  assert.deepEqual(seen, [], 'no unhandled rejection');
}

describe('async map', () => {
  it('is awaited: the stored view holds what the promise resolved to', async () => {
    const store = new MemoryDocumentStore();
    await seed(store);
    const view = singleView({
      name: 'sv_people',
      base: people,
      include,
      map: async ({ base, pets: list }) => {
        await new Promise((resolve) => setImmediate(resolve));
        return { person_id: base.person_id, name: base.name.toUpperCase(), species: list.map((p) => p.species) };
      },
      validate: (v) => v.name.length > 0, // typed from the resolved value
    });
    const driver = await aggregator(view, store);
    try {
      await aggregate(driver, 'p1', 'p2');
      const views = await stored(store);
      assert.equal(views.get('p1')?.['name'], 'PERSON 1');
      assert.deepEqual(views.get('p1')?.['species'], ['cat']);
      assert.deepEqual(views.get('p2')?.['species'], []);
      assert.deepEqual(await errorTypes(store), []);
      const updates = await driver.readOutput(UPDATES, { key: json<Row>(), value: json<Row>() });
      assert.deepEqual(updates.map((u) => u.value?.['operationType']), ['INSERT', 'INSERT']);
    } finally {
      await driver.close();
    }
  });

  it('a rejection records UNKNOWN_ERROR, is retried through the trigger topic, then dead-lettered — never unhandled', async () => {
    const store = new MemoryDocumentStore();
    await seed(store);
    const view = singleView({
      name: 'sv_people',
      base: people,
      include,
      maxAttempts: 1,
      map: async ({ base }) => {
        await new Promise((resolve) => setImmediate(resolve));
        if (base.person_id === 'p1') throw new Error('enrichment service down');
        return { person_id: base.person_id, name: base.name };
      },
    });
    await noUnhandledRejection(async () => {
      const driver = await aggregator(view, store);
      try {
        await aggregate(driver, 'p1', 'p2');
        assert.deepEqual([...(await stored(store)).keys()], ['p2'], 'no key-only view for p1');
        assert.deepEqual(await errorTypes(store), [['UNKNOWN_ERROR', 'p1'], ['UNKNOWN_ERROR', 'p1']], 'first try and its one retry');
        const triggers = await driver.readOutput(TRIGGERS, { key: json<Row>(), value: json<SvTrigger>() });
        assert.deepEqual(triggers.map((t) => t.value?.retry?.attempts ?? 0), [0, 0, 1]);
        assert.equal(triggers[2]?.value?.retry?.lastError.message, 'enrichment service down');
        assert.equal(deadLetters(driver).length, 1);
        assert.equal(deadLetters(driver)[0]?.headers[DEAD_LETTER_HEADERS.code], 'TRB_PROCESS');
      } finally {
        await driver.close();
      }
    });
  });

  it('runs at most mapConcurrency maps at once, and writes in key order whatever the completion order', async () => {
    const store = new MemoryDocumentStore();
    await seed(store);
    let running = 0;
    let peak = 0;
    const view = singleView({
      name: 'sv_people',
      base: people,
      include,
      mapConcurrency: 2,
      svUpdate: { beforeAfter: true },
      map: async ({ base }) => {
        running++;
        peak = Math.max(peak, running);
        // p1 finishes last: completion order is not key order.
        for (let i = base.person_id === 'p1' ? 20 : 1; i > 0; i--) await new Promise((resolve) => setImmediate(resolve));
        running--;
        return { person_id: base.person_id, name: base.name };
      },
    });
    const driver = await aggregator(view, store);
    try {
      await aggregate(driver, 'p1', 'p2', 'p3', 'p4');
      assert.equal(peak, 2);
      const updates = await driver.readOutput(UPDATES, { key: json<Row>(), value: json<Row>() });
      assert.deepEqual(updates.map((u) => u.key?.['person_id']), ['p1', 'p2', 'p3', 'p4']);
    } finally {
      await driver.close();
    }
  });
});

describe('single-view error kinds', () => {
  it('a map that produces nothing is NO_SV_GENERATED: recorded, not retried, dead-lettered; the stored view is left as it was', async () => {
    const store = new MemoryDocumentStore();
    await seed(store);
    let produce = true;
    const view = singleView({
      name: 'sv_people',
      base: people,
      include,
      map: async ({ base }) => (produce ? { person_id: base.person_id, name: base.name } : (undefined as unknown as { person_id: string; name: string })),
    });
    const driver = await aggregator(view, store);
    try {
      await aggregate(driver, 'p1');
      produce = false;
      await aggregate(driver, 'p1');
      assert.equal((await stored(store)).get('p1')?.['name'], 'Person 1');
      assert.deepEqual(await errorTypes(store), [['NO_SV_GENERATED', 'p1']]);
      const triggers = await driver.readOutput(TRIGGERS, { key: json<Row>(), value: json<SvTrigger>() });
      assert.equal(triggers.length, 2, 'not re-published: retrying cannot help');
      assert.equal(deadLetters(driver).length, 1);
    } finally {
      await driver.close();
    }
  });

  it('a map slower than maxAggregationMs is SINGLE_VIEW_AGGREGATION_MAX_TIME, aborted through its signal and retried', async () => {
    const store = new MemoryDocumentStore();
    await seed(store);
    const aborted: string[] = [];
    const view = singleView({
      name: 'sv_people',
      base: people,
      include,
      maxAttempts: 1,
      maxAggregationMs: 20,
      map: ({ base }, { signal }) =>
        new Promise<{ person_id: string }>((resolve) => {
          if (base.person_id !== 'p1') return resolve({ person_id: base.person_id });
          signal.addEventListener('abort', () => aborted.push(base.person_id)); // never resolves otherwise
        }),
    });
    const driver = await aggregator(view, store);
    try {
      await aggregate(driver, 'p1', 'p2');
      assert.deepEqual([...(await stored(store)).keys()], ['p2']);
      assert.deepEqual(await errorTypes(store), [['SINGLE_VIEW_AGGREGATION_MAX_TIME', 'p1'], ['SINGLE_VIEW_AGGREGATION_MAX_TIME', 'p1']]);
      assert.deepEqual(aborted, ['p1', 'p1']);
      const triggers = await driver.readOutput(TRIGGERS, { key: json<Row>(), value: json<SvTrigger>() });
      assert.equal(triggers[2]?.value?.retry?.lastError.type, 'SINGLE_VIEW_AGGREGATION_MAX_TIME');
      assert.equal(deadLetters(driver).length, 1);
    } finally {
      await driver.close();
    }
  });

  it("with the stream's 'fail' policy a failed aggregation stops the partition instead of dead-lettering", async () => {
    const store = new MemoryDocumentStore();
    await seed(store);
    const view = singleView({ name: 'sv_people', base: people, include, maxAttempts: 0, map: (): { person_id: string } => { throw new Error('bad'); } });
    const driver = await aggregator(view, store, 'fail');
    try {
      await driver.pipeInput(TRIGGERS, [trigger('p1')], { key: json<Row>(), value: json<SvTrigger>() });
      await assert.rejects(driver.idle(), /failed/);
      assert.equal(deadLetters(driver).length, 0);
      assert.deepEqual(await errorTypes(store), [['UNKNOWN_ERROR', 'p1']], 'the error record is written before the stream stops');
    } finally {
      await driver.close().catch(() => undefined);
    }
  });
});

describe('fastData({ errors })', () => {
  const view = singleView({ name: 'sv_people', base: people, include, map: ({ base }) => ({ person_id: base.person_id }) });
  const policies = (t: ReturnType<typeof fastData>) => Object.fromEntries(t.streams().map((s) => [s.name, s.errors]));

  it("applies one policy to every stage, or one per stage (default 'dead-letter')", () => {
    assert.deepEqual(policies(fastData({ name: 'a', projections: [people, pets], singleViews: [view] })), {
      'ingest:pr_people': 'dead-letter',
      'ingest:pr_pets': 'dead-letter',
      'trigger:sv_people': 'dead-letter',
      'aggregate:sv_people': 'dead-letter',
    });
    assert.deepEqual(policies(fastData({ name: 'b', projections: [people, pets], singleViews: [view], errors: 'fail' })), {
      'ingest:pr_people': 'fail',
      'ingest:pr_pets': 'fail',
      'trigger:sv_people': 'fail',
      'aggregate:sv_people': 'fail',
    });
    assert.deepEqual(policies(fastData({ name: 'c', projections: [people, pets], singleViews: [view], errors: { ingest: 'fail', aggregate: 'skip' } })), {
      'ingest:pr_people': 'fail',
      'ingest:pr_pets': 'fail',
      'trigger:sv_people': 'dead-letter',
      'aggregate:sv_people': 'skip',
    });
  });
});
