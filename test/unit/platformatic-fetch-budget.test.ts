import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withinBudget } from '../../src/stream/transport/platformatic/fetch-budget.js';

const p = (name: string, lastFetchAt: number, lastFetched?: number) => ({ name, lastFetchAt, ...(lastFetched === undefined ? {} : { lastFetched }) });
const names = (list: readonly { name: string }[]) => list.map((x) => x.name);

describe('platformatic fetch budget: which ready partitions a fetch asks for', () => {
  it('takes partitions, least recently fetched first, while what is held plus what they bring stays within the budget', () => {
    assert.deepEqual(names(withinBudget([p('c', 3, 4000), p('a', 1, 4000), p('b', 2, 4000)], 0, 10_000)), ['a', 'b']);
  });

  it('takes one partition at least, even when its last fetch alone was over the budget', () => {
    assert.deepEqual(names(withinBudget([p('a', 1, 50_000), p('b', 2, 50_000)], 0, 10_000)), ['a']);
    assert.deepEqual(names(withinBudget([p('a', 1, 4000)], 9_000, 10_000)), ['a']);
  });

  it('takes none while the consumer holds the budget already: it waits for batches to finish', () => {
    assert.deepEqual(withinBudget([p('a', 1, 0)], 10_000, 10_000), []);
  });

  it('a caught-up partition (its last fetch brought nothing) costs nothing: a tailing consumer fetches them all at once', () => {
    const ready = Array.from({ length: 18 }, (_, i) => p(`p${i}`, i, 0));
    assert.equal(withinBudget(ready, 0, 10_000).length, 18);
  });

  it('a partition never fetched counts as a quarter of the budget, so the first fetch of a backlog is not all of it', () => {
    const ready = Array.from({ length: 18 }, (_, i) => p(`p${i}`, 0));
    assert.equal(withinBudget(ready, 0, 10_000).length, 4);
  });

  it('skips a partition that does not fit and takes a smaller one after it', () => {
    assert.deepEqual(names(withinBudget([p('a', 1, 3000), p('b', 2, 9000), p('c', 3, 2000)], 1000, 10_000)), ['a', 'c']);
  });
});
