/**
 * `tributary dlq <topic> list|replay` on Kafka: a stream dead-letters two undecodable records; the
 * command lists them with code, message and origin, replays the one chosen by --offsets to its
 * origin topic (original bytes, tributary.replayed-from), and refuses a missing topic as a
 * configuration error (exit 2).
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../../src/cli/program.js';
import { createLogger } from '../../src/ops/logger.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { runTopology } from '../../src/stream/runtime/runner.js';
import { json, string } from '../../src/stream/serdes/index.js';
import { peek } from '../../src/stream/operators/index.js';
import { topology } from '../../src/stream/topology.js';
import { kafkaTransport } from '../../src/stream/transport/kafka/kafka-transport.js';
import { cleanups, waitFor } from '../contract/helpers.js';
import { kafkaIo } from './kafka-env.js';
import { services, uniqueName } from './services.js';

async function cli(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { env: { KAFKA_BROKERS: services.kafkaBrokers.join(',') }, out: (l) => void out.push(l), err: (l) => void err.push(l) });
  return { code, out, err };
}

it('dlq list shows the dead letters of a stream; dlq replay --offsets sends the chosen one back to its origin', async (t) => {
  const defer = cleanups(t);
  const io = await kafkaIo();
  defer(() => io.close());
  const input = uniqueName('dlq-cli-in');
  const dlq = `${input}.dlq`;
  await io.control.admin.createTopics([{ topic: input, partitions: 1 }, { topic: dlq, partitions: 1 }]);
  const top = topology(uniqueName('dlq-cli'));
  top.stream(input, { key: string(), value: json<{ n: number }>(), name: 'numbers', errors: 'dead-letter' }).pipe(peek(() => undefined));
  const running = await runTopology(top, { transport: kafkaTransport({ brokers: services.kafkaBrokers }), logger: createLogger({ level: 'silent' }), metrics: createMetrics({ defaultMetrics: false }) });
  defer(() => running.stop());
  await io.produce([
    { topic: input, key: Buffer.from('a'), value: Buffer.from('{"n":1}'), partition: 0 },
    { topic: input, key: Buffer.from('b'), value: Buffer.from('{not json'), partition: 0 },
    { topic: input, key: Buffer.from('c'), value: Buffer.from('{"n":'), partition: 0 },
  ]);
  await waitFor('two dead letters', async () => (await io.read(dlq)).length >= 2, { timeoutMs: 60_000 });

  const listed = await cli(['dlq', dlq, 'list']);
  assert.equal(listed.code, 0, listed.err.join('\n'));
  assert.equal(listed.out.length, 3, listed.out.join('\n'));
  assert.match(listed.out[0] ?? '', new RegExp(`^0:0  TRB_DECODE  from ${input} 0:1 \\(stream numbers\\)  key "b"  9 B  `));
  assert.match(listed.out[1] ?? '', new RegExp(`^0:1  TRB_DECODE  from ${input} 0:2 `));
  assert.equal(listed.out[2], `2 dead letters in ${dlq}`);

  const asJson = await cli(['dlq', dlq, 'list', '--format', 'json', '--limit', '1']);
  const [first] = JSON.parse(asJson.out.join('\n')) as Array<{ origin: { offset: string }; value: string }>;
  assert.equal(first?.origin.offset, '1');
  assert.equal(Buffer.from(first?.value ?? '', 'base64').toString(), '{not json');

  const replay = await cli(['dlq', dlq, 'replay', '--offsets', '0:1']);
  assert.deepEqual(replay.out, [`replayed 1 dead letter: ${input} 1`]);
  await waitFor('the replayed record is in the origin topic', async () => (await io.read(input)).length >= 4, { timeoutMs: 30_000 });
  const back = (await io.read(input)).at(-1);
  assert.equal(back?.value?.toString(), '{"n":');
  assert.equal(back?.headers['tributary.replayed-from'], `${dlq}:0:1`);

  const missing = await cli(['dlq', uniqueName('no-such'), 'list']);
  assert.equal(missing.code, 2, 'a missing topic is a configuration error');
});
