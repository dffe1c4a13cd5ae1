/**
 * The producer replacement rule of both Kafka transports (transport/producer-replacement.ts), with
 * fake producers: a producer whose send failed is never used again (a broker that wrote a batch
 * whose answer was lost would drop the producer's next same-size batch as a duplicate), the idle
 * ones go too when the broker lost the producer state, and sharing stays as each client needs it
 * (one send at a time per @platformatic/kafka producer, one shared kafkajs producer).
 * The broker side of the loss needs a fault proxy and is not simulated here: the three-broker fault
 * scenario (test/faults/three-brokers.test.ts) checks that nothing is lost end to end.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exclusiveProducers, sharedProducer, type ProducerLifecycle } from '../../src/stream/transport/producer-replacement.js';

interface Fake {
  readonly id: number;
}

class StateLost extends Error {}

function lifecycle(options: { openFails?: (n: number) => boolean } = {}) {
  let opened = 0;
  const closed: number[] = [];
  const warned: unknown[] = [];
  const life: ProducerLifecycle<Fake> = {
    open: () => {
      const n = opened++;
      if (options.openFails?.(n)) return Promise.reject(new Error(`open ${n} refused`));
      return { id: n };
    },
    close: (p) => {
      closed.push(p.id);
      return Promise.resolve();
    },
    stateLost: (error) => error instanceof StateLost,
    onStateLost: (error) => void warned.push(error),
  };
  return { life, closed, warned, opened: () => opened };
}

/** A send that resolves when `finish` is called, recording which producer ran it. */
function pendingSend(used: number[]) {
  let finish!: (error?: Error) => void;
  const done = new Promise<void>((resolve, reject) => (finish = (error) => (error ? reject(error) : resolve())));
  return { send: (p: Fake) => (used.push(p.id), done), finish: (error?: Error) => finish(error) };
}

const ok = (used: number[]) => (p: Fake) => (used.push(p.id), Promise.resolve());
const failing = (used: number[], error: Error) => (p: Fake) => (used.push(p.id), Promise.reject(error));

describe('exclusiveProducers (@platformatic/kafka: one send at a time per producer)', () => {
  it('reuses a producer whose sends succeed', async () => {
    const f = lifecycle();
    const pool = exclusiveProducers(f.life, 4);
    const used: number[] = [];
    for (let i = 0; i < 3; i++) await pool.use(ok(used));
    assert.deepEqual(used, [0, 0, 0]);
    assert.equal(f.opened(), 1);
    assert.deepEqual(f.closed, []);
  });

  it('never hands a producer to a second send while its first runs, and opens at most `max`', async () => {
    const f = lifecycle();
    const pool = exclusiveProducers(f.life, 2);
    const used: number[] = [];
    const a = pendingSend(used);
    const b = pendingSend(used);
    const c = pendingSend(used);
    const sends = [pool.use(a.send), pool.use(b.send), pool.use(c.send)];
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(used, [0, 1], 'the third send waits: two producers, both busy');
    b.finish();
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(used, [0, 1, 1], 'the waiting send takes the producer that finished');
    a.finish();
    c.finish();
    await Promise.all(sends);
    assert.equal(f.opened(), 2);
  });

  it('closes a producer whose send failed, rethrows that error, and sends the next through a new producer', async () => {
    const f = lifecycle();
    const pool = exclusiveProducers(f.life, 4);
    const used: number[] = [];
    await pool.use(ok(used));
    const timedOut = new Error('request timed out');
    await assert.rejects(pool.use(failing(used, timedOut)), (error) => error === timedOut);
    await pool.use(ok(used));
    await pool.use(ok(used));
    assert.deepEqual(used, [0, 0, 1, 1], 'producer 0 is not used after its failed send');
    assert.deepEqual(f.closed, [0]);
    assert.deepEqual(f.warned, [], 'an ordinary failure is not reported as lost state');
  });

  it('keeps the idle producers after an ordinary failure, and closes them too when the broker lost the state', async () => {
    const f = lifecycle();
    const pool = exclusiveProducers(f.life, 4);
    const used: number[] = [];
    // Three producers exist, two of them idle, when a send fails.
    const a = pendingSend(used);
    const b = pendingSend(used);
    const c = pendingSend(used);
    const [sendA, sendB, sendC] = [pool.use(a.send), pool.use(b.send), pool.use(c.send)] as const;
    a.finish();
    b.finish();
    await sendA;
    await sendB;
    c.finish(new Error('not leader'));
    await assert.rejects(sendC);
    assert.deepEqual(f.closed, [2], 'only the failed one');

    const lost = new StateLost('unknown producer id');
    await assert.rejects(pool.use(failing(used, lost)), (error) => error === lost);
    assert.deepEqual(f.closed.sort(), [0, 1, 2], 'the failed one and the idle one that remained');
    assert.deepEqual(f.warned, [lost]);
    await pool.use(ok(used));
    assert.equal(used.at(-1), 3, 'a new producer after the state was lost');
  });

  it('gives a send that waited for a failed producer a new one, or the failure to open it', async () => {
    const f = lifecycle({ openFails: (n) => n === 2 });
    const pool = exclusiveProducers(f.life, 1);
    const used: number[] = [];
    const a = pendingSend(used);
    const first = pool.use(a.send);
    const waited = pool.use(ok(used));
    a.finish(new Error('timed out'));
    await assert.rejects(first);
    await waited;
    assert.deepEqual(used, [0, 1]);

    const b = pendingSend(used);
    const third = pool.use(b.send);
    const refused = pool.use(ok(used));
    b.finish(new Error('timed out'));
    await assert.rejects(third);
    await assert.rejects(refused, /open 2 refused/);
    await pool.use(ok(used));
    assert.deepEqual(used, [0, 1, 1, 3], 'the next send opens again');
  });

  it('closes every open producer on closeAll', async () => {
    const f = lifecycle();
    const pool = exclusiveProducers(f.life, 4);
    const used: number[] = [];
    const a = pendingSend(used);
    const b = pendingSend(used);
    const both = [pool.use(a.send), pool.use(b.send)];
    a.finish();
    b.finish();
    await Promise.all(both);
    await pool.closeAll();
    assert.deepEqual(f.closed.sort(), [0, 1]);
  });
});

describe('sharedProducer (kafkajs: one producer for every lane)', () => {
  it('shares one producer between concurrent sends', async () => {
    const f = lifecycle();
    const shared = sharedProducer(f.life, { id: 100 });
    const used: number[] = [];
    const a = pendingSend(used);
    const sends = [shared.use(a.send), shared.use(ok(used))];
    await sends[1];
    a.finish();
    await sends[0];
    assert.deepEqual(used, [100, 100]);
    assert.equal(f.opened(), 0);
  });

  it('replaces the producer once when concurrent sends on it fail, and the next send opens a new one', async () => {
    const f = lifecycle();
    const shared = sharedProducer(f.life, { id: 100 });
    const used: number[] = [];
    const a = pendingSend(used);
    const b = pendingSend(used);
    const [sendA, sendB] = [shared.use(a.send), shared.use(b.send)] as const;
    await new Promise((resolve) => setImmediate(resolve));
    a.finish(new Error('timed out'));
    b.finish(new Error('timed out'));
    await assert.rejects(sendA);
    await assert.rejects(sendB);
    assert.deepEqual(f.closed, [100], 'closed once');
    await shared.use(ok(used));
    await shared.use(ok(used));
    assert.deepEqual(used, [100, 100, 0, 0]);
    assert.deepEqual(f.warned, []);
  });

  it('warns when the broker lost the state, and a failed open fails only that send', async () => {
    const f = lifecycle({ openFails: (n) => n === 0 });
    const shared = sharedProducer(f.life, { id: 100 });
    const used: number[] = [];
    const lost = new StateLost('out of order sequence');
    await assert.rejects(shared.use(failing(used, lost)), (error) => error === lost);
    assert.deepEqual(f.warned, [lost]);
    await assert.rejects(shared.use(ok(used)), /open 0 refused/);
    await shared.use(ok(used));
    assert.deepEqual(used, [100, 1]);
    await shared.closeAll();
    assert.deepEqual(f.closed, [100, 1]);
  });
});
