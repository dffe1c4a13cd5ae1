/**
 * Lineage and drift on the embedded engine: `explainView` (and the read API's /-/explain) names the
 * document, each projection row in it with its source position, and the trigger that last rebuilt
 * it; `verifyViews` finds every damaged view (changed, missing, extra), samples deterministically,
 * ignores a view rewritten meanwhile, and `retriggerDrifted` lets the aggregate stage repair them.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { basic, type Row } from '../../src/fastdata/cdc/index.js';
import { fastData } from '../../src/fastdata/fast-data.js';
import { field } from '../../src/fastdata/projection/fields.js';
import { projection } from '../../src/fastdata/projection/projection.js';
import { retriggerDrifted, verifyViews } from '../../src/fastdata/refresh/verify-views.js';
import { explainView, lineageId, upgradeLineage, viewKeyFromText } from '../../src/fastdata/singleview/lineage.js';
import { MemoryDocumentStore } from '../../src/store/memory/memory-store.js';
import { hasMany, hasOne } from '../../src/fastdata/singleview/relations.js';
import { singleView } from '../../src/fastdata/singleview/single-view.js';
import { createLogger } from '../../src/ops/logger.js';
import { createReadApi } from '../../src/serve/index.js';
import { json } from '../../src/stream/serdes/json.js';
import { memoryTransport } from '../../src/stream/transport/memory/memory-transport.js';
import { TestDriver } from '../../src/testing/index.js';
import { pets } from './fixtures/people-pets.js';

const people = projection({
  name: 'pr_people',
  source: { topic: 'hr.people', adapter: basic() },
  primaryKey: ['person_id'],
  fields: { person_id: field.string(), name: field.string(), team_id: field.integer({ nullable: true }) },
});
const teams = projection({
  name: 'pr_teams',
  source: { topic: 'hr.teams', adapter: basic() },
  primaryKey: ['team_id'],
  fields: { team_id: field.integer(), title: field.string() },
});
const view = singleView({
  name: 'sv_people',
  base: people,
  include: { pets: hasMany(pets, { owner_id: 'person_id' }), team: hasOne(teams, { team_id: 'team_id' }) },
  map: ({ base, pets: list, team }) => ({ person_id: base.person_id, name: base.name, team: team?.title ?? null, pets: list.map((p) => p.species) }),
});
const t = fastData({ name: 'lineage', projections: [people, pets, teams], singleViews: [view] });
const serdes = { key: json<Row>(), value: json<Row | null>() };

async function seeded(): Promise<TestDriver> {
  const driver = await TestDriver.start(t);
  await driver.pipeInput('hr.teams', [{ key: { team_id: 7 }, value: { team_id: 7, title: 'Ops' } }], serdes);
  await driver.pipeInput('hr.people', ['p1', 'p2', 'p3', 'p4'].map((id) => ({ key: { person_id: id }, value: { person_id: id, name: `Name ${id}`, team_id: id === 'p1' ? 7 : null } })), serdes);
  await driver.idle();
  await driver.pipeInput('hr.pets', [{ key: { pet_id: 'x' }, value: { pet_id: 'x', owner_id: 'p1', species: 'cat' } }, { key: { pet_id: 'y' }, value: { pet_id: 'y', owner_id: 'p1', species: 'dog' } }], serdes);
  await driver.idle();
  return driver;
}

describe('explain: the lineage of a view document', () => {
  it('names the document, every projection row in it with its source position, and the last trigger', async () => {
    const driver = await seeded();
    try {
      const e = await explainView(view, { person_id: 'p1' }, driver.store);
      assert.deepEqual(e.document && { ...e.document, createdAt: undefined, updatedAt: undefined }, { person_id: 'p1', name: 'Name p1', team: 'Ops', pets: ['cat', 'dog'], __STATE__: 'PUBLIC', createdAt: undefined, updatedAt: undefined });
      assert.deepEqual(
        e.sources.map((s) => [s.path, s.projection, s.primaryKey, s.position.topic, s.position.partition, s.position.counterType]),
        [
          ['$base', 'pr_people', { person_id: 'p1' }, 'hr.people', 0, 'timestamp'],
          ['pets', 'pr_pets', { pet_id: 'x' }, 'hr.pets', 0, 'timestamp'],
          ['pets', 'pr_pets', { pet_id: 'y' }, 'hr.pets', 0, 'timestamp'],
          ['team', 'pr_teams', { team_id: 7 }, 'hr.teams', 0, 'timestamp'],
        ],
      );
      assert.deepEqual(e.sources.map((s) => s.position.offset), ['0', '0', '1', '0']);
      assert.ok(e.sources.every((s) => typeof s.position.counter === 'number' && s.updatedAt instanceof Date));
      // The last trigger of p1 came from its second pet (same batch as the first: the newest change wins).
      const trigger = e.lineage?.['trigger'] as Row;
      assert.equal(trigger['projection'], 'pr_pets');
      assert.deepEqual(trigger['identifier'], { pet_id: 'y' });
      assert.deepEqual([(trigger['kafkaInfo'] as Row)['topic'], (trigger['kafkaInfo'] as Row)['offset']], ['hr.pets', '1']);
      assert.deepEqual([e.lineage?.['outcome'], e.lineage?.['definition']], ['upsert', view.version]);

      // A deleted view keeps the lineage of the trigger that deleted it.
      await driver.pipeInput('hr.people', [{ key: { person_id: 'p2' }, value: null }], serdes);
      await driver.idle();
      const gone = await explainView(view, { person_id: 'p2' }, driver.store);
      assert.deepEqual([gone.document, gone.lineage?.['outcome'], gone.sources], [null, 'delete', []]);
    } finally {
      await driver.close();
    }
  });

  it('the read API answers /-/explain/<view>?<key fields> when asked to (explain: true), 404 for an unknown view, 400 for a missing key field', async () => {
    const driver = await seeded();
    const api = await createReadApi({ topology: t, store: driver.store, logger: createLogger({ level: 'silent' }), explain: true });
    try {
      const ok = await api.app.inject('/-/explain/sv_people?person_id=p1');
      assert.equal(ok.statusCode, 200, ok.body);
      const body = JSON.parse(ok.body) as { document: Row; sources: unknown[]; lineage: Row };
      assert.deepEqual([body.document['name'], body.sources.length, (body.lineage['trigger'] as Row)['projection']], ['Name p1', 4, 'pr_pets']);
      assert.equal((await api.app.inject('/-/explain/sv_nothing?person_id=p1')).statusCode, 404);
      assert.equal((await api.app.inject('/-/explain/sv_people')).statusCode, 400);
      const plain = await createReadApi({ topology: t, store: driver.store, logger: createLogger({ level: 'silent' }) });
      try {
        assert.equal((await plain.app.inject('/-/explain/sv_people?person_id=p1')).statusCode, 404, 'off by default: it shows whole documents');
      } finally {
        await plain.close();
      }
    } finally {
      await api.close();
      await driver.close();
    }
  });

  it('reads a key from text: JSON, or the bare value of a one-field key, numbers cast by the base field', () => {
    assert.deepEqual(viewKeyFromText(view, 'p1'), { person_id: 'p1' });
    assert.deepEqual(viewKeyFromText(view, '{"person_id":"p1"}'), { person_id: 'p1' });
    const byTeam = singleView({ name: 'sv_teams', base: teams, include: {}, map: ({ base }) => ({ team_id: base.team_id }) });
    assert.deepEqual(viewKeyFromText(byTeam, '7'), { team_id: 7 });
    assert.deepEqual(viewKeyFromText(byTeam, { team_id: '7' }), { team_id: 7 });
    assert.throws(() => viewKeyFromText(view, '{"nope":1}'), /person_id is missing/);
  });

  it('keys each lineage record by _id: the value of a one-field key, the fields in key order for a longer one', async () => {
    const driver = await seeded();
    try {
      const records = await driver.store.collection('sv_people-lineage').find({}, { sort: { _id: 1 } });
      assert.deepEqual(records.map((r) => [r['_id'], r['person_id'], r['outcome']]), [['p1', 'p1', 'upsert'], ['p2', 'p2', 'upsert'], ['p3', 'p3', 'upsert'], ['p4', 'p4', 'upsert']]);
    } finally {
      await driver.close();
    }
    const byPair = singleView({ name: 'sv_pairs', base: people, key: { team: 'team_id', person: 'person_id' }, include: {}, map: ({ base }) => ({ person: base.person_id, team: base.team_id }) });
    assert.deepEqual(lineageId(byPair, { person: 'p1', team: 7 }), { team: 7, person: 'p1' });
    assert.deepEqual(Object.keys(lineageId(byPair, { person: 'p1', team: 7 }) as Row), ['team', 'person']);
  });

  it('drops a lineage collection of the earlier layout (ObjectId _id, a unique key index) at start, and keeps a current or empty one', async () => {
    const store = new MemoryDocumentStore();
    const lineage = store.collection('sv_people-lineage');
    assert.equal(await upgradeLineage(view, store), false, 'nothing there: nothing to drop');
    await lineage.createIndexes([{ name: 'sv_key_index', fields: { person_id: 1 }, unique: true }]);
    await lineage.bulkWrite([{ kind: 'replace', filter: { person_id: 'p1' }, document: { person_id: 'p1', outcome: 'upsert' } }]);
    assert.equal(await upgradeLineage(view, store), true);
    assert.equal(await lineage.count(), 0);
    // With the old unique key index gone, a record of the new layout for the same key can be written twice.
    const driver = await TestDriver.start(t, { store });
    try {
      await driver.pipeInput('hr.people', [{ key: { person_id: 'p1' }, value: { person_id: 'p1', name: 'A', team_id: null } }], serdes);
      await driver.idle();
      await driver.pipeInput('hr.people', [{ key: { person_id: 'p1' }, value: { person_id: 'p1', name: 'B', team_id: null } }], serdes);
      await driver.idle();
      assert.deepEqual((await lineage.find({})).map((r) => r['_id']), ['p1']);
      assert.equal((await explainView(view, { person_id: 'p1' }, store)).lineage?.['outcome'], 'upsert');
      assert.equal(await upgradeLineage(view, store), false, 'the current layout is kept');
      assert.equal(await lineage.count(), 1);
    } finally {
      await driver.close();
    }
  });

  it('a rolling update: a worker of the earlier version builds the unique key index again and writes its own record; the next lineage write of that key replaces it (no stuck stage)', async () => {
    const driver = await seeded();
    try {
      const lineage = driver.store.collection('sv_people-lineage');
      // What an earlier worker does at its start and at its next aggregation of p9.
      await lineage.createIndexes([{ name: 'sv_key_index', fields: { person_id: 1 }, unique: true }]);
      await lineage.bulkWrite([{ kind: 'replace', filter: { person_id: 'p9' }, document: { person_id: 'p9', outcome: 'upsert' } }]);
      await driver.pipeInput('hr.people', [{ key: { person_id: 'p9' }, value: { person_id: 'p9', name: 'Late', team_id: null } }], serdes);
      await driver.idle();
      const records = await lineage.find({ person_id: 'p9' });
      assert.deepEqual(records.map((r) => [r['_id'], r['definition']]), [['p9', view.version]]);
      assert.ok(driver.running.health().ok, 'the aggregate stage is not stuck');
    } finally {
      await driver.close();
    }
  });
});

describe('verify: drift between stored views and their definition', () => {
  it('reports every damaged view (changed with its fields, missing, extra) and the aggregate stage repairs them when re-triggered', async () => {
    const driver = await seeded();
    try {
      const views = driver.store.collection('sv_people');
      const clean = await verifyViews({ topology: t, view: 'sv_people', store: driver.store, ratePerSecond: 0, recheckMs: 0 });
      assert.deepEqual([clean.checked, clean.drifted, clean.complete], [4, 0, true]);

      // Damage behind the pipeline's back.
      await views.bulkWrite([
        { kind: 'upsert', filter: { person_id: 'p1' }, set: { name: 'stale', team: 'Ops' } },
        { kind: 'delete', filter: { person_id: 'p3' } },
        { kind: 'replace', filter: { person_id: 'ghost' }, document: { person_id: 'ghost', name: 'no base', __STATE__: 'PUBLIC' } },
      ]);
      await driver.store.collection('pr_people').bulkWrite([{ kind: 'upsert', filter: { person_id: 'p4' }, set: { __STATE__: 'DELETED' } }]);
      const report = await verifyViews({ topology: t, view: 'sv_people', store: driver.store, ratePerSecond: 0, recheckMs: 0 });
      const found = report.drifts.map((d) => [d.kind, d.key['person_id'], d.fields]).sort((a, b) => String(a[1]).localeCompare(String(b[1])));
      assert.deepEqual(found, [['extra', 'ghost', []], ['changed', 'p1', ['name']], ['missing', 'p3', []], ['extra', 'p4', []]]);
      assert.equal(report.drifted, 4);

      // Re-triggered: the running aggregate stage rebuilds (or removes) them.
      const producer = await memoryTransport(driver.broker).producer();
      assert.equal(await retriggerDrifted(t, 'sv_people', report.drifts, producer), 4);
      await driver.idle();
      const after = await verifyViews({ topology: t, view: 'sv_people', store: driver.store, ratePerSecond: 0, recheckMs: 0 });
      assert.equal(after.drifted, 0, JSON.stringify(after.drifts));
      const lineage = await explainView(view, { person_id: 'p3' }, driver.store);
      assert.equal(((lineage.lineage?.['trigger'] as Row)['kafkaInfo'] as Row)['topic'], 'tributary-verify');
    } finally {
      await driver.close();
    }
  });

  it('samples the same views for the same seed, and a view rewritten before the recheck is not drift', async () => {
    const driver = await seeded();
    try {
      // Every view damaged: the drifted views of a sampled run are exactly the views it checked.
      const names = await driver.store.collection('sv_people').find({});
      await driver.store.collection('sv_people').bulkWrite(names.map((d) => ({ kind: 'upsert' as const, filter: { person_id: d['person_id'] }, set: { name: 'damaged' } })));
      const sampled = async (seed: string) => {
        const r = await verifyViews({ topology: t, view: 'sv_people', store: driver.store, sample: 0.5, seed, ratePerSecond: 0, recheckMs: 0 });
        assert.equal(r.drifted, r.checked);
        return r.drifts.map((d) => d.key['person_id']).sort().join(',');
      };
      assert.equal(await sampled('s1'), await sampled('s1'), 'the same seed checks the same views');
      const samples = new Set(await Promise.all(['s1', 's2', 's3', 's4', 's5', 's6'].map(sampled)));
      assert.ok(samples.size > 1, 'other seeds check other views');
      const retriggered = await verifyViews({ topology: t, view: 'sv_people', store: driver.store, ratePerSecond: 0, recheckMs: 0 });
      await retriggerDrifted(t, 'sv_people', retriggered.drifts, await memoryTransport(driver.broker).producer());
      await driver.idle();

      await driver.store.collection('sv_people').bulkWrite([{ kind: 'upsert', filter: { person_id: 'p2' }, set: { name: 'in flight' } }]);
      // The "live stage" rewrites p2 while verify waits to recheck it.
      const report = await verifyViews({
        topology: t,
        view: 'sv_people',
        store: driver.store,
        ratePerSecond: 0,
        sleep: async () => void (await driver.store.collection('sv_people').bulkWrite([{ kind: 'upsert', filter: { person_id: 'p2' }, set: { name: 'Name p2' } }])),
      });
      assert.equal(report.drifted, 0);
    } finally {
      await driver.close();
    }
  });
});
