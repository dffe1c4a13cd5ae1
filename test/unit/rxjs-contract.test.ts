/**
 * The RxJS contract (docs/stream.md "RxJS operators in a stream"), on the embedded engine: a plain
 * RxJS operator that throws goes through the stream's error policy like Tributary's own operators;
 * an asynchronous error sends every record of its batch to the policy; a retriable one retries the
 * batch; and operator state resets at every batch (each batch is a fresh finite Observable).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { filter as rxFilter, map as rxMap, mergeMap as rxMergeMap, scan } from 'rxjs';
import { TributaryError } from '../../src/errors.js';
import { toTopic } from '../../src/stream/operators/index.js';
import type { StreamRecord } from '../../src/stream/record.js';
import { json, string } from '../../src/stream/serdes/index.js';
import { topology } from '../../src/stream/topology.js';
import { TestDriver } from '../../src/testing/test-driver.js';

type R = StreamRecord<string | null, { n: number } | null>;
/** The number a record carries (no test here sends a tombstone). */
const n = (r: { readonly value: { n: number } | null }): number => r.value?.n ?? Number.NaN;
const serdes = { key: string(), value: json<{ n: number }>() };
const numbers = (...ns: number[]) => ns.map((n) => ({ key: `k${n}`, value: { n } }));
const out = () => toTopic('out', { key: string(), value: json<{ n: number }>() });

async function withDriver(build: (t: ReturnType<typeof topology>) => void, body: (driver: TestDriver) => Promise<void>): Promise<void> {
  const t = topology('rxjs-contract');
  build(t);
  const driver = await TestDriver.start(t);
  try {
    await body(driver);
  } finally {
    await driver.close();
  }
}

const values = async (driver: TestDriver, topic: string) => (await driver.readOutput(topic, serdes)).map((r) => n(r));

describe('plain RxJS operators under the error policy', () => {
  it('a throwing rxjs map dead-letters its record only; the others go on, in order', async () => {
    await withDriver(
      (t) =>
        t.stream('in', { ...serdes, name: 'in' }).pipe(
          rxMap((r: R): R => {
            if (n(r) === 2) throw new Error('two is bad');
            return { ...r, value: { n: n(r) * 10 } };
          }),
          out(),
        ),
      async (driver) => {
        await driver.pipeInput('in', numbers(1, 2, 3), serdes);
        await driver.idle();
        assert.deepEqual(await values(driver, 'out'), [10, 30]);
        const dlq = await driver.readOutput('in.dlq', serdes);
        assert.deepEqual(dlq.map((r) => [n(r), r.headers['tributary.error.code'], String(r.headers['tributary.error.message'])]), [[2, 'TRB_PROCESS', 'two is bad']]);
        assert.equal(driver.running.health().ok, true);
      },
    );
  });

  it('a throwing scan accumulator: the record goes to the policy and the output is the scan of the batch without it', async () => {
    await withDriver(
      (t) =>
        t.stream('in', { ...serdes, name: 'in', errors: 'skip' }).pipe(
          scan((acc: R | undefined, r: R): R => {
            if (n(r) < 0) throw new Error('negative');
            return { ...r, value: { n: (acc ? n(acc) : 0) + n(r) } };
          }, undefined),
          rxFilter((r): r is R => r !== undefined),
          out(),
        ),
      async (driver) => {
        await driver.pipeInput('in', numbers(1, 2, -5, 3), serdes);
        await driver.idle();
        assert.deepEqual(await values(driver, 'out'), [1, 3, 6], 'running sums of 1, 2, 3');
        assert.deepEqual(await driver.readOutput('in.dlq', serdes), [], "'skip' writes no dead letter");
      },
    );
  });

  it('an asynchronous error (a rejected promise in mergeMap) names no record: every record of the batch goes to the policy', async () => {
    await withDriver(
      (t) =>
        t.stream('in', { ...serdes, name: 'in' }).pipe(
          rxMergeMap(async (r: R) => {
            await Promise.resolve();
            if (n(r) === 2) throw new Error('async failure');
            return r;
          }),
          out(),
        ),
      async (driver) => {
        await driver.pipeInput('in', numbers(1, 2, 3), serdes);
        await driver.idle();
        assert.deepEqual(await values(driver, 'out'), [], 'nothing of the failed batch is produced');
        assert.deepEqual((await driver.readOutput('in.dlq', serdes)).map((r) => n(r)), [1, 2, 3]);
      },
    );
  });

  it('a retriable error retries the whole batch, whose output is then produced once', async () => {
    let failures = 0;
    await withDriver(
      (t) =>
        t.stream('in', { ...serdes, name: 'in', retry: { initialMs: 1, maxMs: 1 } }).pipe(
          rxMap((r: R) => {
            if (n(r) === 2 && failures++ < 2) throw new TributaryError('TRB_STORE_READ', 'store away');
            return r;
          }),
          out(),
        ),
      async (driver) => {
        await driver.pipeInput('in', numbers(1, 2, 3), serdes);
        await driver.idle();
        assert.equal(failures, 3, 'two failed attempts, then one that passed');
        assert.deepEqual(await values(driver, 'out'), [1, 2, 3]);
        assert.deepEqual(await driver.readOutput('in.dlq', serdes), []);
      },
    );
  });
});

describe('state in RxJS operators', () => {
  it('resets at every batch: scan restarts from its seed, as docs/stream.md says', async () => {
    const counts: number[][] = [];
    await withDriver(
      (t) =>
        t.stream('in', { ...serdes, name: 'in' }).pipe(
          scan((seen: number[], r: R) => [...seen, n(r)], [] as number[]),
          rxMap((seen) => {
            counts.push(seen);
            return seen;
          }),
          rxFilter(() => false),
        ),
      async (driver) => {
        await driver.pipeInput('in', numbers(1, 2, 3), serdes);
        await driver.idle();
        await driver.pipeInput('in', numbers(4, 5), serdes);
        await driver.idle();
      },
    );
    assert.deepEqual(counts, [[1], [1, 2], [1, 2, 3], [4], [4, 5]], 'the second batch starts from the seed again');
  });
});
