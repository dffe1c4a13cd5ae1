/**
 * The platformatic consumer's per-partition bookkeeping without a broker: the topic/partition lists
 * it reports, and commits that go out in order, cover failed ones, and are owed until sent.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { newPartitionState, isPaused, topicPartitions } from '../../src/stream/transport/platformatic/partition-state.js';
import { partitionCommits, type OffsetToCommit } from '../../src/stream/transport/platformatic/partition-commits.js';

describe('platformatic partition state', () => {
  it('groups partitions by topic in first-seen order, sorted within a topic, keeping only those asked for', () => {
    const states = [newPartitionState('orders', 2, false), newPartitionState('lines', 1, true), newPartitionState('orders', 0, false)];
    assert.deepEqual(topicPartitions(states, () => true), [
      { topic: 'orders', partitions: [0, 2] },
      { topic: 'lines', partitions: [1] },
    ]);
    assert.deepEqual(topicPartitions(states, isPaused), [{ topic: 'lines', partitions: [1] }]);
    states[0]!.pausedByBatch = true;
    assert.deepEqual(topicPartitions(states, isPaused), [{ topic: 'orders', partitions: [2] }, { topic: 'lines', partitions: [1] }]);
  });
});

describe('platformatic partition commits', () => {
  const settle = () => new Promise((resolve) => setImmediate(resolve));

  it('sends the commits of a partition in order, those of one turn in one request, and reports each', async () => {
    const sent: OffsetToCommit[][] = [];
    const committed: string[] = [];
    const commits = partitionCommits(async (offsets) => void sent.push([...offsets]), (c) => committed.push(`${c.topic}:${c.partition}@${c.offset}`));
    const a = newPartitionState('t', 0, false);
    const b = newPartitionState('t', 1, false);
    commits.commitInOrder(a, { topic: 't', partition: 0, offset: '10' }, 3);
    commits.commitInOrder(b, { topic: 't', partition: 1, offset: '7' }, 3);
    commits.commitInOrder(a, { topic: 't', partition: 0, offset: '20' }, 3);
    await a.commits;
    await b.commits;
    assert.deepEqual(sent[0]!.map((o) => `${o.partition}@${o.offset}`), ['0@10', '1@7'], 'the first commit of each partition in one request');
    assert.deepEqual(sent[1]!.map((o) => `${o.partition}@${o.offset}`), ['0@20'], 'the second one after the first');
    assert.deepEqual(committed, ['t:0@10', 't:1@7', 't:0@20']);
    assert.equal(a.pendingCommits, 0);
  });

  it('remembers a failed commit as owed, covers it with a later one, and sends an owed one again only when idle', async () => {
    let fail = true;
    const sent: string[] = [];
    const commits = partitionCommits(async (offsets) => {
      if (fail) throw new Error('coordinator moved');
      for (const o of offsets) sent.push(`${o.partition}@${o.offset}`);
    }, () => undefined);
    const p = newPartitionState('t', 0, false);
    commits.commitInOrder(p, { topic: 't', partition: 0, offset: '10' }, 1);
    await p.commits;
    assert.deepEqual(p.uncommitted, { offset: '10', leaderEpoch: 1 });
    fail = false;
    p.inFlight = true;
    commits.recommitOwed([p]);
    await settle();
    assert.deepEqual(sent, [], 'a batch in flight will cover it');
    p.inFlight = false;
    commits.recommitOwed([p]);
    await p.commits;
    assert.deepEqual(sent, ['0@10']);
    assert.equal(p.uncommitted, undefined);
    p.revoked = true;
    p.uncommitted = { offset: '30', leaderEpoch: 1 };
    commits.commitOwed(p);
    await p.commits;
    assert.deepEqual(sent, ['0@10'], 'a revoked partition commits nothing: the new owner re-reads');
  });
});
