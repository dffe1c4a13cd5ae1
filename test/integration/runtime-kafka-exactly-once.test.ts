/**
 * exactlyOnce through the runtime when the worker dies mid-transaction (fixtures/exactly-once-worker.ts),
 * on both Kafka clients: the first worker opens the transaction of its batch, sends the outputs, adds
 * the input offsets and is SIGKILLed before the commit; the restarted worker (same transactional id,
 * `<group>.<topic>.<partition>`) aborts the dead transaction, processes the batch again and commits.
 * A read_committed reader then sees every output exactly once, and the group's offset is at the end.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cleanups, waitFor } from '../contract/helpers.js';
import { kafkaIo } from './kafka-env.js';
import { services, uniqueName } from './services.js';

function worker(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/integration/fixtures/exactly-once-worker.ts'], { env: { ...process.env, KAFKA_BROKERS: services.kafkaBrokers.join(','), ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => void (out += chunk.toString()));
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
  return { child, exited, output: () => out };
}

for (const client of ['platformatic', 'kafkajs'] as const) {
  it(`${client}: a worker SIGKILLed mid-transaction leaves no duplicate and no loss after its restart`, async (t) => {
    const defer = cleanups(t);
    const io = await kafkaIo();
    defer(() => io.close());
    const input = uniqueName('eo-in');
    const output = uniqueName('eo-out');
    const group = uniqueName('eo-group');
    await io.control.admin.createTopics([{ topic: input, partitions: 1 }, { topic: output, partitions: 1 }]);
    const values = Array.from({ length: 10 }, (_, i) => (i === 5 ? 'DIE-5' : `v-${i}`));
    await io.produce(values.map((v, i) => ({ topic: input, key: Buffer.from(`k${i}`), value: Buffer.from(v), partition: 0 })));
    const env = { EO_CLIENT: client, EO_INPUT: input, EO_OUTPUT: output, EO_GROUP: group };

    const dying = worker({ ...env, EO_DIE: '1' });
    defer(async () => void dying.child.kill('SIGKILL'));
    assert.equal(await dying.exited, 'SIGKILL', 'the first worker died by SIGKILL');
    assert.match(dying.output(), /dying/, 'inside its transaction, after sending and adding the offsets');
    const before = await io.control.admin.committedOffsets(group, input);
    assert.ok(before.every((o) => o.offset === '-1'), `the dead transaction committed no offset: ${JSON.stringify(before)}`);

    const restarted = worker(env);
    defer(async () => {
      restarted.child.kill('SIGTERM');
      await restarted.exited;
    });
    await waitFor('the restarted worker committed the input to its end', async () => (await io.control.admin.committedOffsets(group, input)).some((o) => o.partition === 0 && o.offset === '10'), { timeoutMs: 90_000, detail: () => restarted.output() });
    await waitFor('10 outputs readable', async () => (await io.read(output)).length >= 10, { timeoutMs: 30_000 });
    const seen = (await io.read(output)).map((r) => r.value?.toString());
    assert.deepEqual(seen.sort(), values.map((v) => v.toUpperCase()).sort(), 'each output exactly once: the dead transaction\'s records are not visible');
  });
}
