/**
 * `sameTurn` (src/stream/transport/same-turn.ts): calls made in one turn of the event loop are
 * handled as one (the consumers' offset commits through `inOneCall`, the runtime's partition batches);
 * each caller gets its own item's result.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inOneCall, sameTurn } from '../../src/stream/transport/same-turn.js';

describe('sameTurn', () => {
  it('items given in one turn of the event loop are handled as one call; an item given later starts the next', async () => {
    const sent: string[][] = [];
    const commit = sameTurn<string, void>((items) => {
      sent.push([...items]);
      const done = Promise.resolve();
      return items.map(() => done);
    });
    await Promise.all([commit('p0@12'), commit('p3@40'), commit('p5@7')]);
    await commit('p0@13');
    assert.deepEqual(sent, [['p0@12', 'p3@40', 'p5@7'], ['p0@13']]);
  });

  it('each caller gets its own result, settled when its own promise is', async () => {
    let release: () => void = () => undefined;
    const late = new Promise<void>((resolve) => (release = resolve));
    const double = sameTurn<number, number>((items) => items.map((n) => (n === 2 ? late.then(() => n * 2) : Promise.resolve(n * 2))));
    const order: number[] = [];
    const all = [1, 2, 3].map((n) => double(n).then((r) => (order.push(n), r)));
    // Two turns, not a timer: a 10 ms timer could fire before the handling's setImmediate when the loop was busy (seen in CI).
    for (let turn = 0; turn < 2; turn++) await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(order, [1, 3], 'the items whose result is ready do not wait for the slow one');
    release();
    assert.deepEqual(await Promise.all(all), [2, 4, 6]);
  });

  it('a failed call rejects every item that was in it (also a handler that throws), and the next call is handled anew', async () => {
    let calls = 0;
    const commit = sameTurn<string, void>((items) => {
      calls++;
      if (calls === 1) throw new Error('coordinator moved');
      const failed = calls === 2 ? Promise.reject(new Error('not the coordinator')) : Promise.resolve();
      failed.catch(() => undefined);
      return items.map(() => failed);
    });
    assert.deepEqual((await Promise.allSettled([commit('a'), commit('b')])).map((r) => r.status), ['rejected', 'rejected']);
    assert.deepEqual((await Promise.allSettled([commit('a'), commit('b')])).map((r) => r.status), ['rejected', 'rejected']);
    await commit('a');
    assert.equal(calls, 3);
  });
});

describe('inOneCall', () => {
  it('sends the items of one turn in one call, and each caller gets the outcome of that call', async () => {
    const sends: string[][] = [];
    let fail = false;
    const commit = inOneCall<string>(async (items) => {
      sends.push([...items]);
      if (fail) throw new Error('coordinator moved');
    });
    await Promise.all([commit('p0@12'), commit('p3@40')]);
    fail = true;
    assert.deepEqual((await Promise.allSettled([commit('p0@13'), commit('p5@7')])).map((r) => r.status), ['rejected', 'rejected']);
    assert.deepEqual(sends, [['p0@12', 'p3@40'], ['p0@13', 'p5@7']]);
  });
});
