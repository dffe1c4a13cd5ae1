/**
 * The kafkajs transport's admin reads go on through retriable broker errors that kafkajs' admin
 * gives up on (NOT_LEADER_OR_FOLLOWER from ListOffsets right after a topic was created: red once
 * in CI), and stop at once on anything else. No I/O: the reads are stand-ins.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { retriableRead } from '../../src/stream/transport/kafka/kafka-transport.js';

const brokerError = (retriable: boolean) => Object.assign(new Error('This server is not the leader for that topic-partition'), { retriable, type: 'NOT_LEADER_FOR_PARTITION' });

describe('kafkajs admin reads', () => {
  it('are attempted again while the error is retriable, refreshing between attempts', async () => {
    let attempts = 0;
    let refreshes = 0;
    const value = await retriableRead(
      async () => {
        attempts++;
        if (attempts < 3) throw brokerError(true);
        return 'offsets';
      },
      async () => {
        refreshes++;
      },
    );
    assert.equal(value, 'offsets');
    assert.equal(attempts, 3);
    assert.equal(refreshes, 2);
  });

  it('stop at the first error that is not retriable', async () => {
    let attempts = 0;
    await assert.rejects(
      retriableRead(async () => {
        attempts++;
        throw brokerError(false);
      }),
      /not the leader/,
    );
    assert.equal(attempts, 1);
  });
});
