/**
 * The guard against @platformatic/kafka connecting to a node its metadata no longer lists. It hooks
 * a private method of the library: these tests fail when a release moves it, instead of the guard
 * silently doing nothing (and a dead group coordinator ending the process again).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Consumer } from '@platformatic/kafka';
import { guardMissingBroker } from '../../src/stream/transport/platformatic/missing-broker.js';

type Callback = (error: Error | null, connection?: unknown) => void;

function getConnectionOf(client: object): (broker: unknown, callback: Callback) => void {
  for (let proto: object | null = client; proto; proto = Object.getPrototypeOf(proto)) {
    const symbol = Object.getOwnPropertySymbols(proto).find((s) => s.description === 'plt.kafka.base.getConnection');
    if (symbol) return ((client as Record<symbol, unknown>)[symbol] as (broker: unknown, callback: Callback) => void).bind(client);
  }
  throw new Error('no getConnection on the client');
}

const newClient = () => new Consumer({ clientId: 'guard-test', bootstrapBrokers: ['127.0.0.1:1'], groupId: 'guard-test' });

describe('platformatic: the missing-broker guard', () => {
  it('without it, the library throws a TypeError for a node missing from its metadata (the bug it guards against)', () => {
    const client = newClient();
    try {
      assert.throws(() => getConnectionOf(client)(undefined, () => undefined), TypeError);
    } finally {
      void client.close(true);
    }
  });

  it('with it, a missing node is a retriable library error given to the callback, and the owner is told', async () => {
    const client = newClient();
    let told = 0;
    try {
      assert.equal(guardMissingBroker(client, { onMissing: () => void told++, retired: () => false }), true);
      const error = await new Promise<Error | null>((resolve) => getConnectionOf(client)(undefined, (e) => resolve(e)));
      assert.ok(error, 'the callback gets an error');
      assert.equal((error as Error & { code?: string }).code, 'PLT_KFK_NETWORK');
      assert.equal((error as Error & { canRetry?: boolean }).canRetry, true);
      assert.equal(typeof (error as Error & { findBy?: unknown }).findBy, 'function', 'the library calls findBy on the errors it gets');
      assert.equal(told, 1);
    } finally {
      void client.close(true);
    }
  });

  it('a retired client has every connection refused for good (not retried), and the owner is not told', async () => {
    const client = newClient();
    let told = 0;
    try {
      guardMissingBroker(client, { onMissing: () => void told++, retired: () => true });
      const error = await new Promise<Error | null>((resolve) => getConnectionOf(client)({ host: '127.0.0.1', port: 1 }, (e) => resolve(e)));
      assert.equal((error as Error & { code?: string }).code, 'PLT_KFK_USER');
      assert.equal((error as Error & { canRetry?: boolean }).canRetry, false);
      assert.equal(told, 0);
    } finally {
      void client.close(true);
    }
  });

  it('a present node goes to the library method it wraps', async () => {
    const client = newClient();
    try {
      // The library's method, replaced on the instance by a stand-in that records its argument (no I/O).
      const symbol = Object.getOwnPropertySymbols(Object.getPrototypeOf(Object.getPrototypeOf(client)) as object).find((s) => s.description === 'plt.kafka.base.getConnection');
      assert.ok(symbol, 'the library still has its getConnection method on the base client');
      (client as unknown as Record<symbol, unknown>)[symbol] = (broker: { host: string }, callback: Callback) => callback(null, `connection to ${broker.host}`);
      guardMissingBroker(client, { onMissing: () => assert.fail('not missing'), retired: () => false });
      const connection = await new Promise<unknown>((resolve) => getConnectionOf(client)({ host: 'node-2', port: 9092 }, (_e, c) => resolve(c)));
      assert.equal(connection, 'connection to node-2');
    } finally {
      void client.close(true);
    }
  });
});
