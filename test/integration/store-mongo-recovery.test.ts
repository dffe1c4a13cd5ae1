/**
 * The mongo store gets over a client whose monitor never finishes a check again. The driver's
 * monitor can hang after a server restart (a heartbeat written to a socket the server had just
 * closed waits for a 'drain' that never comes: see clientIsUnusable in mongo-store.ts); then the
 * server stays Unknown for that client while a new client reaches it at once.
 *
 * Reproduced deterministically through a TCP proxy in front of the real server: the proxy drops
 * every connection (the restart) and then accepts new ones without ever answering (so the monitor's
 * next handshake hangs: connectTimeoutMS 0 gives it no deadline), and then forwards new
 * connections again. A client on its own never recovers from that; the store must.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { MongoServerSelectionError } from 'mongodb';
import { TributaryError } from '../../src/errors.js';
import { MongoDocumentStore } from '../../src/store/mongo/mongo-store.js';
import { services, uniqueName, dropDatabase } from './services.js';
import { TcpProxy, type Target } from './tcp-proxy.js';

/** A proxy to the real server: 'forward' pipes new connections through, 'blackhole' accepts and ignores them. */
class FlakyProxy extends TcpProxy {
  mode: 'forward' | 'blackhole' = 'forward';

  constructor(private readonly target: Target) {
    super();
  }

  protected accept(client: Socket): void {
    if (this.mode === 'blackhole') return void client.resume(); // read and drop, never answer
    this.pipe(client, this.target);
  }

  /** Every open connection stops carrying bytes but stays open: a call on it never gets an answer. */
  freezeAll(): void {
    for (const socket of this.sockets) socket.pause();
  }
}

function hostPort(url: string): { host: string; port: number } {
  const [host = '127.0.0.1', port = '27017'] = (/^mongodb:\/\/(?:[^@/]*@)?([^/?]+)/.exec(url)?.[1] ?? '').split(':');
  return { host, port: Number(port) };
}

describe('mongo store: recovery from a client that stopped monitoring', () => {
  const database = uniqueName('store_recovery').replace(/[^A-Za-z0-9_]/g, '_');
  const proxy = new FlakyProxy(hostPort(services.mongoUrl));
  let store: MongoDocumentStore;
  const replacedBecause: unknown[] = [];

  before(async () => {
    const port = await proxy.listen();
    store = new MongoDocumentStore({
      // the real server's URL (its credentials and options) with the proxy as its one host
      url: services.mongoUrl.replace(/^(mongodb:\/\/(?:[^@/]*@)?)[^/?]+/, (_, scheme: string) => `${scheme}127.0.0.1:${port}`),
      database,
      // no deadline on a handshake (so the blackholed one hangs for good); selection gives up fast
      clientOptions: { serverSelectionTimeoutMS: 1_500, connectTimeoutMS: 0, heartbeatFrequencyMS: 500 },
      onClientReplaced: (cause) => replacedBecause.push(cause),
    });
    await store.connect();
  });

  after(async () => {
    await store.close().catch(() => undefined);
    await proxy.close();
    await dropDatabase(database);
  });

  it('replaces the client after a server-selection timeout, and the retry reaches the server', { timeout: 60_000 }, async () => {
    const orders = store.collection('orders');
    await orders.bulkWrite([{ kind: 'upsert', filter: { _id: 'o1' }, set: { total: 1 } }]);

    // the "restart": connections drop, and for a while new ones are accepted but never answered
    proxy.mode = 'blackhole';
    proxy.dropAll();
    const failure = await orders.find({}).then(
      () => assert.fail('a read through a blackholed server succeeded'),
      (error: unknown) => error,
    );
    assert.ok(failure instanceof TributaryError, String(failure));
    assert.equal(failure.code, 'TRB_STORE_READ');
    assert.equal(failure.retriable, true, 'a server-selection timeout is retried');
    assert.ok(store.clientReplacements >= 1, 'the client whose monitor hangs was replaced');
    assert.ok(replacedBecause[0] instanceof MongoServerSelectionError, `the owner is told why: ${String(replacedBecause[0])}`);

    // the server is back for new connections; the old client's monitor would still hang on its handshake
    proxy.mode = 'forward';
    let documents: unknown[] | undefined;
    for (let attempt = 1; attempt <= 10 && documents === undefined; attempt++) {
      documents = await orders.find({}).catch(() => undefined); // what the stream's retrier does
    }
    assert.deepEqual(documents, [{ _id: 'o1', total: 1 }]);
  });

  it('gives up on a driver call that never answers (operationTimeoutMs), replaces the client, and the retry goes through', { timeout: 60_000 }, async () => {
    const port = await proxy.listen();
    const frozen = new MongoDocumentStore({
      // the real server's URL (its credentials and options) with the proxy as its one host
      url: services.mongoUrl.replace(/^(mongodb:\/\/(?:[^@/]*@)?)[^/?]+/, (_, scheme: string) => `${scheme}127.0.0.1:${port}`),
      database,
      clientOptions: { serverSelectionTimeoutMS: 5_000, socketTimeoutMS: 0 }, // no socket timeout: only the deadline can end the call
      operationTimeoutMs: 1_000,
    });
    try {
      await frozen.connect();
      const orders = frozen.collection('orders');
      await orders.bulkWrite([{ kind: 'upsert', filter: { _id: 'o2' }, set: { total: 2 } }]);
      proxy.freezeAll();
      const started = Date.now();
      const failure = await orders.find({ _id: 'o2' }).then(
        () => assert.fail('a read on a frozen connection answered'),
        (error: unknown) => error,
      );
      assert.ok(failure instanceof TributaryError && failure.retriable, String(failure));
      assert.match(failure.message, /operationTimeoutMs/);
      assert.ok(Date.now() - started < 10_000, 'the deadline, not a socket timeout, ended the call');
      assert.equal(frozen.clientReplacements, 1);
      assert.deepEqual(await orders.find({ _id: 'o2' }), [{ _id: 'o2', total: 2 }], 'the fresh client reads through new connections');
    } finally {
      await frozen.close().catch(() => undefined);
    }
  });
});
