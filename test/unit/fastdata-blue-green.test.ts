/**
 * Blue/green single-view definitions on the embedded engine: a shadow build beside the live view
 * (diff, validation failures, live untouched and still updating), a promote that catches up,
 * switches in one rename and emits sv-updates, the fence that stops the old definition from writing
 * after the switch (its trigger is redelivered to the new one, nothing lost), and abandon.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Row } from '../../src/fastdata/cdc/index.js';
import { fastData } from '../../src/fastdata/fast-data.js';
import { abandonShadow, buildShadow, promoteShadow } from '../../src/fastdata/refresh/blue-green.js';
import { definitionStatus, emptyDefinitions, fenceReason, readDefinitions } from '../../src/fastdata/singleview/definitions.js';
import { createDashboard } from '../../src/dashboard/index.js';
import { createLogger } from '../../src/ops/logger.js';
import { createReadApi } from '../../src/serve/index.js';
import { singleView } from '../../src/fastdata/singleview/single-view.js';
import { MemoryDocumentStore } from '../../src/store/memory/memory-store.js';
import { json } from '../../src/stream/serdes/json.js';
import { MemoryBroker, memoryTransport } from '../../src/stream/transport/memory/memory-transport.js';
import { computeViews, storedViews, TestDriver } from '../../src/testing/index.js';
import { include, people, pets } from './fixtures/people-pets.js';


/** Definition A (live) and B (the new one: other fields, and p4 'Nobody' no longer valid). */
function topologyOf(definition: 'A' | 'B') {
  const view =
    definition === 'A'
      ? singleView({ name: 'sv_people', base: people, include, map: ({ base, pets: list }) => ({ person_id: base.person_id, name: base.name, pets: list.map((p) => p.species) }) })
      : singleView({
          name: 'sv_people',
          base: people,
          include,
          map: ({ base, pets: list }) => ({ person_id: base.person_id, displayName: base.name.toUpperCase(), petCount: list.length }),
          validate: (v) => v.displayName !== 'NOBODY',
        });
  return Object.assign(fastData({ name: 'bluegreen', projections: [people, pets], singleViews: [view] }), { view });
}

const person = (id: string, name: string) => ({ key: { person_id: id }, value: { person_id: id, name } });
const pet = (id: string, owner: string, species: string) => ({ key: { pet_id: id }, value: { pet_id: id, owner_id: owner, species } });
const serdes = { key: json<Row>(), value: json<Row>() };

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('blue/green single-view definitions', () => {
  it('shadow build, promote with catch-up and sv-updates, the old definition fenced, the new one picks up its trigger', async () => {
    const store = new MemoryDocumentStore();
    const broker = new MemoryBroker();
    const a = topologyOf('A');
    const b = topologyOf('B');
    assert.notEqual(a.view.version, b.view.version, 'the two definitions have different versions');
    let driverA: TestDriver | undefined = await TestDriver.start(a, { store, broker });
    let driverB: TestDriver | undefined;
    try {
      await driverA.pipeInput('hr.people', [person('p1', 'Ann'), person('p2', 'Bo'), person('p3', 'Cy'), person('p4', 'Nobody')], serdes);
      await driverA.pipeInput('hr.pets', [pet('x', 'p1', 'cat'), pet('y', 'p1', 'dog'), pet('z', 'p2', 'eel')], serdes);
      await driverA.idle();
      const liveBefore = await storedViews(a.view, store);
      assert.equal(liveBefore.size, 4);

      // --shadow: built beside the live view, which is untouched.
      const built = await buildShadow({ topology: b, view: 'sv_people', store, ratePerSecond: 0, clockMarginMs: 0 });
      assert.equal(built.complete, true);
      assert.equal(built.version, b.view.version);
      assert.equal(built.built, 3);
      assert.deepEqual(built.failures.counts, { VALIDATION_ERROR: 1 });
      assert.deepEqual(built.failures.samples.map((f) => f.key), [{ person_id: 'p4' }]);
      assert.deepEqual({ ...built.diff, samples: undefined }, { live: 4, shadow: 3, unchanged: 0, changed: 3, added: 0, removed: 1, samples: undefined });
      assert.deepEqual(built.diff.samples.removed[0]?.key, { person_id: 'p4' });
      const changed = built.diff.samples.changed.find((d) => d.key['person_id'] === 'p1');
      assert.deepEqual([changed?.live?.['pets'], changed?.shadow?.['petCount']], [['cat', 'dog'], 2]);
      assert.deepEqual(await storedViews(a.view, store), liveBefore, 'the live view is untouched');
      assert.equal((await readDefinitions(store, 'sv_people')).shadow?.version, b.view.version);

      // The live view keeps updating while the shadow exists.
      await driverA.pipeInput('hr.people', [person('p1', 'Anna')], serdes);
      await driverA.idle();
      assert.equal((await storedViews(a.view, store)).get(JSON.stringify({ person_id: 'p1' }))?.['name'], 'Anna');

      // --promote: caught up (p1's new name), switched, sv-updates for what changed.
      const producer = await memoryTransport(broker).producer();
      const promoted = await promoteShadow({ topology: b, view: 'sv_people', store, producer, graceMs: 0, clockMarginMs: 0, ratePerSecond: 0 });
      assert.equal(promoted.version, b.view.version);
      assert.ok(promoted.caughtUp >= 1);
      assert.deepEqual([promoted.diff.changed, promoted.diff.removed, promoted.diff.added], [3, 1, 0]);
      assert.deepEqual(await storedViews(b.view, store), await computeViews(b.view, store), 'the live view is the new definition, caught up');
      assert.equal(await store.collection('sv_people__shadow').count(), 0, 'the shadow became the live collection');
      const definitions = await readDefinitions(store, 'sv_people');
      assert.deepEqual([definitions.live?.version, definitions.shadow, definitions.switching], [b.view.version, null, null]);
      const updates = await driverA.readOutput('sv_people.sv-update', serdes);
      const fromPromote = updates.filter((u) => (u.value?.['__internal__kafkaInfo'] as Row)['topic'] === 'tributary-promote');
      assert.deepEqual(fromPromote.map((u) => [u.key?.['person_id'], u.value?.['operationType']]).sort(), [['p1', 'UPDATE'], ['p2', 'UPDATE'], ['p3', 'UPDATE'], ['p4', 'DELETE']]);

      // The old definition, still running, is fenced: it neither writes its shape nor commits.
      await driverA.pipeInput('hr.people', [person('p2', 'Bob')], serdes);
      const runningA = driverA;
      await waitFor('the old aggregate stage to be fenced', () => runningA.running.status().some((s) => s.name === 'aggregate:sv_people' && s.lastError?.code === 'TRB_FENCED'));
      assert.deepEqual((await storedViews(b.view, store)).get(JSON.stringify({ person_id: 'p2' })), { person_id: 'p2', displayName: 'BO', petCount: 1 });
      await driverA.close();
      driverA = undefined;

      // The new definition deployed: the trigger the old one could not commit is redelivered to it.
      driverB = await TestDriver.start(b, { store, broker });
      await driverB.idle();
      assert.deepEqual((await storedViews(b.view, store)).get(JSON.stringify({ person_id: 'p2' })), { person_id: 'p2', displayName: 'BOB', petCount: 1 });
      assert.deepEqual(await storedViews(b.view, store), await computeViews(b.view, store));
    } finally {
      await driverA?.close();
      await driverB?.close();
    }
  });

  it('abandon drops the shadow and leaves the live view and its writers alone', async () => {
    const store = new MemoryDocumentStore();
    const a = topologyOf('A');
    const b = topologyOf('B');
    const driver = await TestDriver.start(a, { store });
    try {
      await driver.pipeInput('hr.people', [person('p1', 'Ann')], serdes);
      await driver.idle();
      await buildShadow({ topology: b, view: 'sv_people', store, ratePerSecond: 0 });
      assert.equal(await store.collection('sv_people__shadow').count(), 1);
      assert.deepEqual(await abandonShadow({ topology: b, view: 'sv_people', store }), { dropped: 'sv_people__shadow' });
      assert.equal(await store.collection('sv_people__shadow').count(), 0);
      const definitions = await readDefinitions(store, 'sv_people');
      assert.deepEqual([definitions.shadow, definitions.switching, definitions.live], [null, null, null]);
      await driver.pipeInput('hr.people', [person('p1', 'Anna')], serdes);
      await driver.idle();
      assert.equal((await storedViews(a.view, store)).get(JSON.stringify({ person_id: 'p1' }))?.['name'], 'Anna');
      await assert.rejects(promoteShadow({ topology: b, view: 'sv_people', store, graceMs: 0 }), /no shadow to promote/);
    } finally {
      await driver.close();
    }
  });

  it('the fence: who may write while a shadow exists, during a switch, and after it', () => {
    const none = emptyDefinitions('sv');
    const at = new Date();
    assert.equal(fenceReason(none, 'A'), null, 'a view never refreshed blue/green fences nothing');
    const building = { ...none, shadow: { version: 'B', collection: 'sv__shadow', startedAt: at, caughtUpFrom: at, report: null } };
    assert.equal(fenceReason(building, 'A'), null, 'the running definition keeps writing while the shadow builds');
    assert.match(fenceReason(building, 'B') ?? '', /not promoted yet/, 'the new definition deployed early waits');
    const switching = { ...building, switching: { version: 'B', startedAt: at, renamedAt: null } };
    assert.match(fenceReason(switching, 'A') ?? '', /being switched in/);
    assert.match(fenceReason(switching, 'B') ?? '', /being switched in/);
    const live = { ...none, live: { version: 'B', promotedAt: at } };
    assert.equal(fenceReason(live, 'B'), null);
    assert.match(fenceReason(live, 'A') ?? '', /definition B is live and this process runs A/);
  });

  it('the read API (/-/definitions) and the dashboard (/dashboard/definitions) show which definition is live', async () => {
    const store = new MemoryDocumentStore();
    const b = topologyOf('B');
    await store.collection('pr_people').bulkWrite([{ kind: 'replace', filter: { person_id: 'p1' }, document: { person_id: 'p1', name: 'Ann', __STATE__: 'PUBLIC' } }]);
    await buildShadow({ topology: b, view: 'sv_people', store, ratePerSecond: 0 });
    await promoteShadow({ topology: b, view: 'sv_people', store, graceMs: 0 });
    const api = await createReadApi({ topology: b, store, logger: createLogger({ level: 'silent' }) });
    try {
      const [served] = JSON.parse((await api.app.inject('/-/definitions')).body) as Array<Record<string, unknown>>;
      assert.equal(served?.['view'], 'sv_people');
      assert.equal((served?.['live'] as Row)['version'], b.view.version);
      assert.equal(served?.['declared'], b.view.version);
    } finally {
      await api.close();
    }
    const a = topologyOf('A');
    const dashboard = createDashboard(a, () => undefined, { definitions: () => definitionStatus(a.fastData.singleViews, store) });
    try {
      const route = dashboard.routes.find((r: { path: string }) => r.path === '/dashboard/definitions');
      const response = await route?.handler({ body: undefined, query: new URLSearchParams() });
      const [shown] = response?.body as Array<Record<string, unknown>>;
      assert.deepEqual([shown?.['declared'], shown?.['writes']], [a.view.version, false], 'a process running the old definition is shown fenced');
      assert.match(String(shown?.['fenced']), /is live and this process runs/);
    } finally {
      dashboard.close();
    }
  });

  it('a promote refuses a file whose definition is not the shadow one', async () => {
    const store = new MemoryDocumentStore();
    await store.collection('pr_people').bulkWrite([{ kind: 'replace', filter: { person_id: 'p1' }, document: { person_id: 'p1', name: 'Ann', __STATE__: 'PUBLIC' } }]);
    await buildShadow({ topology: topologyOf('B'), view: 'sv_people', store, ratePerSecond: 0 });
    await assert.rejects(promoteShadow({ topology: topologyOf('A'), view: 'sv_people', store, graceMs: 0 }), /holds definition .* but this file defines/);
  });
});
