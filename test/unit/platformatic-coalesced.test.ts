/**
 * `coalesced` (src/stream/transport/platformatic/coalesced.ts): the offset commits of partitions
 * whose combined batch finished together go out as one request; later ones as the next.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { coalesced } from '../../src/stream/transport/platformatic/coalesced.js';

describe('coalesced calls', () => {
  it('items given in one turn of the event loop are sent as one call; an item given later starts the next', async () => {
    const sent: string[][] = [];
    const commit = coalesced<string>(async (items) => {
      sent.push([...items]);
    });
    await Promise.all([commit('p0@12'), commit('p3@40'), commit('p5@7')]);
    await commit('p0@13');
    assert.deepEqual(sent, [['p0@12', 'p3@40', 'p5@7'], ['p0@13']]);
  });

  it('a failed call rejects every item that was in it, and the next call is sent anew', async () => {
    let calls = 0;
    const commit = coalesced<string>(async () => {
      calls++;
      if (calls === 1) throw new Error('coordinator moved');
    });
    const results = await Promise.allSettled([commit('a'), commit('b')]);
    assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
    await commit('a');
    assert.equal(calls, 2);
  });
});
