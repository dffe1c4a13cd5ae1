/**
 * Kafka transactions beyond the happy path, for each Kafka transport (run by
 * test/integration/transport-kafka-transactions.test.ts): a worker killed mid-transaction leaves
 * nothing visible and its successor (same transactional id) goes on; a failed transaction is
 * aborted with nothing visible and no offset committed, and the producer works afterwards; a zombie
 * producer (an older one with the same id) is fenced: its sends fail and nothing of it is visible,
 * while the newer one commits. Visibility is checked the way consumers see it: read_committed.
 */
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { OutgoingMessage, RawMessage, Transport } from '../../src/stream/transport/types.js';
import { isTributaryError } from '../../src/errors.js';
import { services, uniqueName } from '../integration/services.js';
import { cleanups, waitFor } from './helpers.js';

const FIXTURE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'integration', 'fixtures', 'die-mid-transaction.ts');

/**
 * What a read_committed consumer reads from `topic` (partition 0): a plain end marker is appended
 * and everything before it is returned. The marker becomes readable only once no transaction before
 * it is still open, so a transaction left hanging fails this (it would stall every such consumer).
 */
async function readCommitted(transport: Transport, topic: string): Promise<string[]> {
  const producer = await transport.producer({ idempotent: true });
  await producer.send([{ topic, key: null, value: Buffer.from('END'), partition: 0 }]);
  await producer.disconnect();
  const seen: RawMessage[] = [];
  const consumer = transport.consumer({ groupId: uniqueName('g-read-committed'), topics: [topic], readCommitted: true, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 500 });
  await consumer.run({
    async onBatch(batch) {
      seen.push(...batch.messages);
      const last = batch.messages.at(-1)!;
      return { commit: { topic, partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() } };
    },
  });
  try {
    await waitFor(`read_committed reader reached the end marker of ${topic}`, () => seen.some((m) => m.value?.toString() === 'END'), { timeoutMs: 60_000, detail: () => seen.map((m) => m.value?.toString()) });
  } finally {
    await consumer.stop();
  }
  const values = seen.map((m) => m.value?.toString() ?? '');
  return values.slice(0, values.indexOf('END'));
}

export function transactionsContract(name: string, makeTransport: () => Transport): void {
  describe(`transactions: ${name}`, () => {
    const setup = async (t: TestContext) => {
      const defer = cleanups(t);
      const transport = makeTransport();
      defer(() => transport.disconnect());
      await transport.connect();
      const input = uniqueName('tx-in');
      const output = uniqueName('tx-out');
      await transport.admin.createTopics([
        { topic: input, partitions: 1 },
        { topic: output, partitions: 1 },
      ]);
      return { defer, transport, input, output, groupId: uniqueName('g-tx') };
    };
    const records = (topic: string, prefix: string, n: number): OutgoingMessage[] =>
      Array.from({ length: n }, (_, i) => ({ topic, key: Buffer.from(`${prefix}-${i}`), value: Buffer.from(`${prefix}-${i}`), partition: 0 }));

    it('a worker killed mid-transaction leaves nothing visible and no offset; its successor with the same id commits', async (t) => {
      const { defer, transport, input, output, groupId } = await setup(t);
      const transactionalId = uniqueName('txid-killed');
      const killed = await promisify(execFile)(process.execPath, ['--import', 'tsx', FIXTURE, services.kafkaBrokers.join(','), transactionalId, output, groupId, input, '7', '25']).then(
        () => assert.fail('the worker was expected to die by SIGKILL'),
        (error: { signal?: string; stdout?: string }) => error,
      );
      assert.equal(killed.signal, 'SIGKILL');
      assert.match(killed.stdout ?? '', /sent/, 'the worker produced inside its transaction before it was killed');

      const successor = await transport.transactionalProducer(transactionalId);
      defer(() => successor.disconnect());
      await successor.sendAndCommit(records(output, 'after', 5), groupId, [{ topic: input, partition: 0, offset: '3' }]);

      assert.deepEqual((await readCommitted(transport, output)).sort(), ['after-0', 'after-1', 'after-2', 'after-3', 'after-4'], 'only the successor\'s records are visible');
      const committed = await transport.admin.committedOffsets(groupId, input);
      assert.equal(committed.find((o) => o.partition === 0)?.offset, '3', 'the offset is the successor\'s, not the killed transaction\'s 7');
    });

    it('a transaction that fails part-way is aborted: nothing visible, no offset, and the producer commits the next one', async (t) => {
      const { defer, transport, input, output, groupId } = await setup(t);
      const producer = await transport.transactionalProducer(uniqueName('txid-abort'));
      defer(() => producer.disconnect());
      // 300 small records go out first, then one over the broker's 1 MiB message.max.bytes fails the transaction.
      const failing = [...records(output, 'aborted', 300), { topic: output, key: null, value: Buffer.alloc(2 * 1024 * 1024), partition: 0 }];
      await assert.rejects(producer.sendAndCommit(failing, groupId, [{ topic: input, partition: 0, offset: '9' }]), (error) => isTributaryError(error));
      const none = await transport.admin.committedOffsets(groupId, input);
      assert.ok(none.every((o) => o.offset === '-1'), `no offset committed by the aborted transaction: ${JSON.stringify(none)}`);

      await producer.sendAndCommit(records(output, 'kept', 3), groupId, [{ topic: input, partition: 0, offset: '4' }]);
      assert.deepEqual((await readCommitted(transport, output)).sort(), ['kept-0', 'kept-1', 'kept-2'], 'the aborted records stay invisible');
      assert.equal((await transport.admin.committedOffsets(groupId, input)).find((o) => o.partition === 0)?.offset, '4');
    });

    it('a zombie producer is fenced by a newer one with the same id: its transaction fails and stays invisible', async (t) => {
      const { defer, transport, input, output, groupId } = await setup(t);
      const transactionalId = uniqueName('txid-zombie');
      const other = makeTransport();
      defer(() => other.disconnect());
      await other.connect();
      const zombie = await transport.transactionalProducer(transactionalId);
      defer(() => zombie.disconnect().catch(() => undefined));
      await zombie.sendAndCommit(records(output, 'zombie-before', 2), groupId, [{ topic: input, partition: 0, offset: '2' }]);

      // The new owner's first transaction initialises the id with a newer epoch: the zombie is fenced.
      const owner = await other.transactionalProducer(transactionalId);
      defer(() => owner.disconnect());
      await owner.sendAndCommit(records(output, 'owner', 2), groupId, [{ topic: input, partition: 0, offset: '5' }]);
      await assert.rejects(zombie.sendAndCommit(records(output, 'zombie-after', 2), groupId, [{ topic: input, partition: 0, offset: '9' }]), (error) => isTributaryError(error) && /fenced/.test(error.message) && error.retriable, 'the fenced zombie cannot commit, and says why (retriable: it stops when its partition is revoked)');
      // and the zombie stays fenced: retrying does not take the id back from the owner
      await assert.rejects(zombie.sendAndCommit(records(output, 'zombie-retry', 1), groupId, [{ topic: input, partition: 0, offset: '9' }]));
      await owner.sendAndCommit(records(output, 'owner-again', 1), groupId, [{ topic: input, partition: 0, offset: '6' }]);

      assert.deepEqual((await readCommitted(transport, output)).sort(), ['owner-0', 'owner-1', 'owner-again-0', 'zombie-before-0', 'zombie-before-1']);
      assert.equal((await transport.admin.committedOffsets(groupId, input)).find((o) => o.partition === 0)?.offset, '6', 'offsets are the owner\'s');
    });
  });
}
