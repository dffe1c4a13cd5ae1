/**
 * Reading and replaying dead letters (src/stream/control/dead-letters.ts) on the embedded broker:
 * the headers a dead letter carries are read back into code, message and origin; filters by code,
 * partition:offset and limit; replay sends the original bytes and own headers to the origin topic,
 * dead-letter headers off and tributary.replayed-from on. (The CLI on Kafka: test/integration/dlq-cli.test.ts.)
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { TributaryError } from '../../src/errors.js';
import { readDeadLetters, replayDeadLetters, REPLAYED_FROM_HEADER } from '../../src/stream/control/dead-letters.js';
import { deadLetter } from '../../src/stream/runtime/dead-letter.js';
import { MemoryBroker, memoryTransport } from '../../src/stream/transport/memory/memory-transport.js';

const origin = (offset: number, value: string) => ({ topic: 'shop.orders', partition: 1, offset: String(offset), timestamp: 1_700_000_000_000 + offset, rawKey: Buffer.from(`o-${offset}`), rawValue: Buffer.from(value), headers: { trace: `t-${offset}` } });

it('dead letters read back with code, message and origin; filtered; replayed to their origin as they were', async () => {
  const broker = new MemoryBroker();
  const transport = memoryTransport(broker);
  await transport.admin.createTopics([{ topic: 'shop.orders.dlq', partitions: 1 }, { topic: 'shop.orders', partitions: 2 }]);
  broker.append([
    deadLetter('shop.orders.dlq', 'orders', origin(10, '{bad'), new TributaryError('TRB_DECODE', 'Unexpected end of JSON input')),
    deadLetter('shop.orders.dlq', 'orders', origin(11, '{"total":-1}'), new TributaryError('TRB_PROCESS', 'negative total')),
    deadLetter('shop.orders.dlq', 'orders', origin(12, '{oops'), new TributaryError('TRB_DECODE', 'Unexpected token o')),
  ]);

  const all = await readDeadLetters(transport, 'shop.orders.dlq');
  assert.deepEqual(all.map((l) => [l.offset, l.code, l.origin?.offset]), [['0', 'TRB_DECODE', '10'], ['1', 'TRB_PROCESS', '11'], ['2', 'TRB_DECODE', '12']]);
  assert.equal(all[0]?.message, 'Unexpected end of JSON input');
  assert.equal(all[0]?.stream, 'orders');
  assert.deepEqual(all[0]?.origin, { topic: 'shop.orders', partition: 1, offset: '10' });
  assert.deepEqual(Object.keys(all[0]?.headers ?? {}), ['trace'], 'only the record\'s own headers are kept as its headers');

  assert.deepEqual((await readDeadLetters(transport, 'shop.orders.dlq', { codes: ['TRB_DECODE'] })).map((l) => l.offset), ['0', '2']);
  assert.deepEqual((await readDeadLetters(transport, 'shop.orders.dlq', { offsets: ['0:1'] })).map((l) => l.offset), ['1']);
  assert.deepEqual((await readDeadLetters(transport, 'shop.orders.dlq', { limit: 2 })).map((l) => l.offset), ['0', '1']);

  const fixed = await readDeadLetters(transport, 'shop.orders.dlq', { offsets: ['0:1'] });
  const sent = await replayDeadLetters(transport, fixed);
  assert.deepEqual([...sent], [['shop.orders', 1]]);
  const replayed = broker.partitions('shop.orders').flat();
  assert.equal(replayed.length, 1);
  assert.equal(replayed[0]?.value?.toString(), '{"total":-1}', 'the original bytes');
  assert.equal(replayed[0]?.key?.toString(), 'o-11');
  assert.equal(replayed[0]?.headers['trace']?.toString(), 't-11', 'its own headers');
  assert.equal(replayed[0]?.headers[REPLAYED_FROM_HEADER]?.toString(), 'shop.orders.dlq:0:1', 'marked as replayed from the dead letter');
  assert.equal(replayed[0]?.headers['tributary.error.code'], undefined, 'no dead-letter header travels back');
  assert.equal((await readDeadLetters(transport, 'shop.orders.dlq')).length, 3, 'the dead letters stay');
});

it('an empty dead-letter topic reads as none', async () => {
  const transport = memoryTransport(new MemoryBroker());
  await transport.admin.createTopics([{ topic: 'empty.dlq', partitions: 2 }]);
  assert.deepEqual(await readDeadLetters(transport, 'empty.dlq'), []);
});
