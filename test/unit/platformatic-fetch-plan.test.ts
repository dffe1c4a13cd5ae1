import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { holdMs, planFetch, topsUp, type FetchCandidate } from '../../src/stream/transport/platformatic/fetch-plan.js';

interface Partition extends FetchCandidate {
  readonly name: string;
  readonly paused?: boolean;
}

const NOW = 1_000;
/** Free: nothing in flight, nothing waiting, its last fetch long ago. */
const free = (name: string, extra: Partial<Partition> = {}): Partition => ({ name, fetchPosition: 0n, inFlight: false, atEnd: true, revoked: false, lastFetchAt: 0, lastFetched: 0, ...extra });
/** Busy: a batch in flight and `waiting` records fetched after it, `agoMs` ago. */
const busy = (name: string, waiting: number, agoMs: number, extra: Partial<Partition> = {}): Partition =>
  free(name, { inFlight: true, prefetched: { messages: { length: waiting } }, lastFetchAt: NOW - agoMs, ...extra });
const plan = (states: Partition[], held = 0, budget = 10_000) => planFetch(states, { held, budget, topUpLimit: 500, topUpWaitMs: 10, now: NOW, paused: (p) => p.paused === true });
const names = (list: readonly Partition[]) => list.map((p) => p.name).sort();

describe('platformatic fetch plan: what one turn of the fetch loop asks for', () => {
  it('a free partition and a waiting batch due for a top-up are fetched together; the fetch is not held', () => {
    const result = plan([free('a'), busy('b', 3, 12)]);
    assert.deepEqual(names(result.fetch), ['a', 'b']);
    assert.equal(result.topUpsOnly, false, 'a partition with nothing waiting must get its first record at once');
  });

  it('when every partition only tops up, the fetch is held (the broker gathers what trickles in)', () => {
    const result = plan([busy('b', 3, 12), busy('c', 1, 10)]);
    assert.deepEqual(names(result.fetch), ['b', 'c']);
    assert.equal(result.topUpsOnly, true);
  });

  it('partitions that are all free and at the end of the log: the fetch is held for the max wait (only new records can end it)', () => {
    const result = plan([free('a'), free('b')]);
    assert.deepEqual(names(result.fetch), ['a', 'b']);
    assert.equal(result.holdBriefly, false);
  });

  it('only top-ups: held briefly (the top-up pace), not for the max wait', () => {
    assert.equal(plan([busy('b', 3, 12), busy('c', 1, 10)]).holdBriefly, true);
  });

  it('a caught-up partition fetched while another catches up: held briefly, or the one catching up would stand idle for the max wait once its batch ends', () => {
    const result = plan([free('a'), busy('d', 500, 50, { atEnd: false })]);
    assert.deepEqual(names(result.fetch), ['a']);
    assert.equal(result.holdBriefly, true);
  });

  it('a free partition left out by the budget: the fetch of the others is held briefly (room comes back when a batch ends)', () => {
    const result = plan([free('a', { lastFetched: 4_000, lastFetchAt: 1 }), free('b', { lastFetched: 4_000, lastFetchAt: 2 }), free('c', { lastFetched: 4_000, lastFetchAt: 3 })], 0, 10_000);
    assert.deepEqual(names(result.fetch), ['a', 'b']);
    assert.equal(result.holdBriefly, true);
  });

  it('how long the broker holds it: the max wait, the top-up pace, or a brief hold doubling while nothing progresses', () => {
    const options = { maxWaitMs: 500, topUpWaitMs: 10 };
    assert.equal(holdMs({ holdBriefly: false, topUpsOnly: false }, { ...options, quietHolds: 3 }), 500);
    assert.equal(holdMs({ holdBriefly: true, topUpsOnly: true }, { ...options, quietHolds: 5 }), 10, 'top-ups keep their pace');
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6, 40].map((quietHolds) => holdMs({ holdBriefly: true, topUpsOnly: false }, { ...options, quietHolds })),
      [10, 20, 40, 80, 160, 320, 500, 500],
    );
  });

  it('a paused or revoked partition outside the fetch does not shorten the hold', () => {
    const result = plan([free('a'), busy('p', 500, 50, { atEnd: false, paused: true }), busy('r', 500, 50, { atEnd: false, revoked: true })]);
    assert.deepEqual(names(result.fetch), ['a']);
    assert.equal(result.holdBriefly, false);
  });

  it('a top-up made less than the pace ago waits: the loop sleeps until it is due', () => {
    const result = plan([busy('c', 3, 4)]);
    assert.deepEqual(result.fetch, []);
    assert.equal(result.waitMs, 6);
  });

  it('a partition catching up (its waiting batch did not reach the end of the log) is never topped up', () => {
    const result = plan([busy('b', 3, 50, { atEnd: false })]);
    assert.deepEqual(result.fetch, []);
    assert.equal(result.waitMs, 200, 'nothing to fetch until a batch finishes');
  });

  it('a waiting batch that holds the batch size is not topped up', () => {
    assert.equal(topsUp(busy('b', 500, 50), 500), false);
    assert.equal(topsUp(busy('b', 499, 50), 500), true);
    assert.deepEqual(plan([busy('b', 500, 50)]).fetch, []);
  });

  it('a waiting batch whose partition has nothing in flight (it waits for a slot) is not topped up', () => {
    assert.deepEqual(plan([busy('b', 3, 50, { inFlight: false })]).fetch, []);
  });

  it('paused, revoked and not yet positioned partitions are left out', () => {
    const { fetchPosition: _unknown, ...notPositioned } = free('c');
    const result = plan([free('a', { paused: true }), free('b', { revoked: true }), notPositioned, free('d')]);
    assert.deepEqual(names(result.fetch), ['d']);
  });

  it('with the budget held, nothing is fetched and a due top-up does not wake the loop early', () => {
    const result = plan([busy('b', 3, 4), free('a')], 10_000, 10_000);
    assert.deepEqual(result.fetch, []);
    assert.equal(result.waitMs, 200);
  });
});
