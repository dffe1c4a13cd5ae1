/**
 * The TestDriver with a virtual clock: time is a test input. Documents and events are stamped with
 * the clock, records piped in carry its time, and a retry backoff waits until the test advances it,
 * so a minute-long backoff takes no wall time and the outcome before and after it is exact.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TributaryError } from '../../src/errors.js';
import { basic } from '../../src/fastdata/cdc/index.js';
import { fastData } from '../../src/fastdata/fast-data.js';
import { field } from '../../src/fastdata/projection/fields.js';
import { projection } from '../../src/fastdata/projection/projection.js';
import { RETRIES_TOTAL } from '../../src/ops/metric-names.js';
import { mapAsync, toTopic } from '../../src/stream/operators/index.js';
import { json, string } from '../../src/stream/serdes/index.js';
import { topology } from '../../src/stream/topology.js';
import { TestDriver, virtualClock } from '../../src/testing/index.js';
import { waitFor } from '../contract/helpers.js';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');

describe('TestDriver with a virtual clock', () => {
  it('stamps projections and events with the clock, and only with it', async () => {
    const people = projection({ name: 'pr_people', source: { topic: 'hr.people', adapter: basic() }, primaryKey: ['id'], fields: { id: field.string(), name: field.string() } });
    const clock = virtualClock(T0);
    const driver = await TestDriver.start(fastData({ name: 'clocked', projections: [people] }), { clock });
    try {
      await driver.pipeInput('hr.people', [{ key: { id: 'p1' }, value: { id: 'p1', name: 'Ann' } }], { key: json(), value: json() });
      await driver.idle();
      clock.advance(3_600_000);
      await driver.pipeInput('hr.people', [{ key: { id: 'p1' }, value: { id: 'p1', name: 'Anna' } }], { key: json(), value: json() });
      await driver.idle();
      const [doc] = await driver.store.collection('pr_people').find({ id: 'p1' });
      assert.equal((doc?.['createdAt'] as Date).toISOString(), '2026-01-01T00:00:00.000Z');
      assert.equal((doc?.['updatedAt'] as Date).toISOString(), '2026-01-01T01:00:00.000Z');
      const updates = await driver.readOutput('pr_people.pr-update', { key: json(), value: json<{ operation: { timestamp: string } }>() });
      assert.deepEqual(updates.map((u) => u.value?.operation.timestamp), ['2026-01-01T00:00:00.000Z', '2026-01-01T01:00:00.000Z']);
      const source = await driver.readOutput('hr.people', { key: json(), value: json() });
      assert.deepEqual(source.map((r) => r.offset), ['0', '1']);
    } finally {
      await driver.close();
    }
  });

  it('a retry backoff of a minute waits for clock.advance(), not for the wall clock', async () => {
    const clock = virtualClock(T0);
    let attempts = 0;
    const t = topology('clocked-retry');
    t.stream('in', { key: string(), value: json<{ n: number }>(), name: 'in', retry: { initialMs: 60_000, maxMs: 60_000 } }).pipe(
      mapAsync(async (r) => {
        if (attempts++ === 0) throw new TributaryError('TRB_STORE_READ', 'store away');
        return { key: r.key, value: r.value };
      }),
      toTopic('out', { key: string(), value: json<{ n: number }>() }),
    );
    const driver = await TestDriver.start(t, { clock });
    try {
      await driver.pipeInput('in', [{ key: 'k', value: { n: 1 } }], { key: string(), value: json() });
      await waitFor('the first attempt to fail and its retry to be scheduled', async () => (await driver.running.metrics.value(RETRIES_TOTAL, { stream: 'in' })) === 1);
      assert.equal(driver.running.status()[0]?.state, 'retrying');
      assert.equal(attempts, 1, 'the backoff holds the second attempt: virtual time has not moved');
      assert.deepEqual(await driver.readOutput('out', { key: string(), value: json() }), []);
      clock.advance(72_001); // the longest backoff of attempt 1: 60 s + 20 % jitter
      await driver.idle();
      assert.equal(attempts, 2);
      assert.deepEqual((await driver.readOutput('out', { key: string(), value: json<{ n: number }>() })).map((r) => r.value), [{ n: 1 }]);
    } finally {
      await driver.close();
    }
  });
});
