/**
 * The transport contract on the embedded broker (no I/O), plus what only the embedded broker can
 * get wrong: its delivery loop must not starve the event loop.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBroker, memoryTransport } from '../../src/stream/transport/memory/memory-transport.js';
import { transportContract } from '../contract/transport-contract.js';
import { cleanups, waitFor } from '../contract/helpers.js';

const broker = new MemoryBroker();
transportContract('memory', () => memoryTransport(broker));

it('memory: a handler that keeps refusing a batch does not starve timers and I/O', async (t) => {
  const defer = cleanups(t);
  const transport = memoryTransport(new MemoryBroker());
  await transport.admin.createTopics([{ topic: 'spin', partitions: 1 }]);
  const producer = await transport.producer();
  await producer.send([{ topic: 'spin', key: null, value: Buffer.from('x') }]);
  let timerFired = false;
  let refusals = 0;
  const consumer = transport.consumer({ groupId: 'spin-group', topics: ['spin'] });
  defer(() => consumer.stop());
  await consumer.run({
    async onBatch(batch) {
      // Refuse until a timer had the chance to run (cap so a broken loop ends instead of hanging).
      if (!timerFired && refusals < 20_000) {
        refusals++;
        return { commit: null };
      }
      return { commit: { topic: batch.topic, partition: batch.partition, offset: '1' } };
    },
  });
  setTimeout(() => (timerFired = true), 10);
  await waitFor('the batch was finally committed', async () => (await transport.admin.committedOffsets('spin-group', 'spin'))[0]?.offset === '1');
  assert.ok(refusals < 20_000, `a 10 ms timer fired while the batch was being redelivered (${refusals} redeliveries first)`);
});
