/**
 * The kafkajs consumer when kafkajs gives up on the member: a crash kafkajs does not restart
 * (KafkaJSGroupCoordinatorNotFound while the only broker restarts: seen in the fault suite, the
 * stream stayed failed for good) is started again with a backoff until it joins; a handler's error
 * or a permanent broker answer is reported as a crash. Driven through a fake kafkajs consumer.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Kafka } from 'kafkajs';
import { kafkaConsumer } from '../../src/stream/transport/kafka/kafka-consumer.js';
import { restartableCrash } from '../../src/stream/transport/kafka/errors.js';
import { TributaryError } from '../../src/errors.js';

type Listener = (event: { payload: Record<string, unknown> }) => void;

function kafkajsError(name: string, message: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), { name, ...extra });
}

/** A kafkajs stand-in: emits CRASH and GROUP_JOIN on demand; `connect` fails while `failConnects` > 0. */
function fakeKafka() {
  const listeners = new Map<string, Listener[]>();
  const calls: string[] = [];
  let failConnects = 0;
  let gate: Promise<void> | undefined;
  const emit = (event: string, payload: Record<string, unknown>) => {
    for (const l of listeners.get(event) ?? []) l({ payload });
  };
  const consumer = {
    events: { GROUP_JOIN: 'join', CRASH: 'crash' },
    on: (event: string, l: Listener) => void listeners.set(event, [...(listeners.get(event) ?? []), l]),
    connect: async () => {
      calls.push('connect');
      await gate;
      if (failConnects > 0) {
        failConnects--;
        throw kafkajsError('KafkaJSConnectionError', 'Connection error: connect ECONNREFUSED 127.0.0.1:9092');
      }
    },
    subscribe: async () => void calls.push('subscribe'),
    run: async () => void calls.push('run'),
    disconnect: async () => void calls.push('disconnect'),
  };
  return {
    kafka: { consumer: () => consumer } as unknown as Kafka,
    calls,
    failNextConnects: (n: number) => void (failConnects = n),
    /** Holds every connect until the returned function is called. */
    holdConnects: () => {
      let open = () => undefined as void;
      gate = new Promise<void>((resolve) => (open = resolve));
      return open;
    },
    crash: (error: Error, restart: boolean) => emit('crash', { error, restart }),
    join: () => emit('join', { memberAssignment: { t: [0] } }),
  };
}

async function until(check: () => boolean, ms = 10_000): Promise<void> {
  for (const end = Date.now() + ms; !check(); await new Promise((r) => setTimeout(r, 20))) assert.ok(Date.now() < end, 'timed out');
}

describe('kafka consumer: a crash kafkajs gave up on', () => {
  it('is started again (connect, subscribe, run) after a backoff, again after a failed connect, and reported to nobody', async () => {
    const fake = fakeKafka();
    const crashes: Error[] = [];
    const notices: string[] = [];
    const membership: string[] = [];
    const member = kafkaConsumer(fake.kafka, { groupId: 'g', topics: ['t'] });
    await member.run({
      onBatch: async () => ({ commit: null }),
      onCrash: (e) => void crashes.push(e),
      onNotice: (m) => void notices.push(m),
      onRejoining: (reason) => void membership.push(`rejoining: ${reason}`),
      onAssigned: (a) => void membership.push(`assigned ${JSON.stringify(a)}`),
    });
    assert.deepEqual(fake.calls, ['connect', 'subscribe', 'run']);

    fake.failNextConnects(1);
    fake.crash(kafkajsError('KafkaJSGroupCoordinatorNotFound', 'Failed to find group coordinator'), false);
    // 1 s, connect refused, 2 s, then the start that works.
    await until(() => fake.calls.filter((c) => c === 'run').length === 2);
    assert.deepEqual(fake.calls.slice(3), ['connect', 'connect', 'subscribe', 'run']);
    assert.deepEqual(crashes, []);
    assert.equal(notices.length, 2);
    assert.match(notices[0] ?? '', /Failed to find group coordinator.*starting it again in 1000 ms \(attempt 1\)/);
    assert.match(notices[1] ?? '', /ECONNREFUSED.*starting it again in 2000 ms \(attempt 2\)/);
    // Out of the group from the first crash on (readiness down), until kafkajs joins again.
    assert.equal(membership.length, 2);
    assert.match(membership[0] ?? '', /^rejoining: kafkajs gave up on the consumer \(Failed to find group coordinator\); restart 1 in 1000 ms$/);
    assert.match(membership[1] ?? '', /^rejoining: .*ECONNREFUSED.*restart 2 in 2000 ms$/);

    // Joined: the next crash waits the first backoff again.
    fake.join();
    assert.equal(membership[2], 'assigned [{"topic":"t","partitions":[0]}]');
    fake.crash(kafkajsError('KafkaJSGroupCoordinatorNotFound', 'Failed to find group coordinator'), false);
    assert.match(notices[2] ?? '', /in 1000 ms \(attempt 1\)/);
    await member.stop();
    await new Promise((r) => setTimeout(r, 1_200));
    assert.equal(fake.calls.filter((c) => c === 'run').length, 2, 'a member that stopped is not started again');
  });

  it('disconnects again when stop() ran while a start was connecting', async () => {
    const fake = fakeKafka();
    const member = kafkaConsumer(fake.kafka, { groupId: 'g', topics: ['t'] });
    await member.run({ onBatch: async () => ({ commit: null }) });
    const release = fake.holdConnects();
    fake.crash(kafkajsError('KafkaJSGroupCoordinatorNotFound', 'Failed to find group coordinator'), false);
    await until(() => fake.calls.filter((c) => c === 'connect').length === 2);
    await member.stop();
    release();
    await until(() => fake.calls.at(-1) === 'disconnect' && fake.calls.filter((c) => c === 'disconnect').length === 2);
    assert.deepEqual(fake.calls, ['connect', 'subscribe', 'run', 'connect', 'disconnect', 'subscribe', 'run', 'disconnect']);
  });

  it('leaves what kafkajs restarts itself to kafkajs, and reports what no restart fixes as a crash', async () => {
    const fake = fakeKafka();
    const crashes: Error[] = [];
    await kafkaConsumer(fake.kafka, { groupId: 'g', topics: ['t'] }).run({ onBatch: async () => ({ commit: null }), onCrash: (e) => void crashes.push(e) });
    fake.crash(kafkajsError('KafkaJSConnectionError', 'Connection error'), true);
    const handlerError = new TributaryError('TRB_STORE_WRITE', 'the store refused', { retriable: false });
    fake.crash(handlerError, false);
    await new Promise((r) => setTimeout(r, 1_200));
    assert.deepEqual(crashes, [handlerError]);
    assert.equal(fake.calls.filter((c) => c === 'run').length, 1);
  });
});

describe('restartableCrash', () => {
  it('restarts kafkajs errors with a transient cause; not handler errors, permanent answers or refused credentials', () => {
    assert.equal(restartableCrash(kafkajsError('KafkaJSGroupCoordinatorNotFound', 'Failed to find group coordinator')), true);
    assert.equal(restartableCrash(kafkajsError('KafkaJSNumberOfRetriesExceeded', 'retries', { cause: kafkajsError('KafkaJSConnectionError', 'refused') })), true);
    assert.equal(restartableCrash(kafkajsError('KafkaJSProtocolError', 'not authorized', { type: 'GROUP_AUTHORIZATION_FAILED' })), false);
    assert.equal(restartableCrash(kafkajsError('KafkaJSSASLAuthenticationError', 'SASL failed')), false);
    assert.equal(restartableCrash(kafkajsError('KafkaJSNonRetriableError', 'wrapped', { cause: new TributaryError('TRB_DECODE', 'bad record') })), false);
    assert.equal(restartableCrash(new Error('a plain error from a handler')), false);
  });
});
