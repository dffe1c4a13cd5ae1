/**
 * Rejoining with a new library client when the group's coordinator is gone (platformatic/rejoin.ts),
 * with fake clients: which clients are installed and retired, when a client joining through a
 * coordinator the cluster no longer names is given up for the next, and when the member gives up.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TributaryError } from '../../src/errors.js';
import type { GroupClient, IdleStream } from '../../src/stream/transport/platformatic/group-client.js';
import { rejoinWithNewClient, type RejoinMember } from '../../src/stream/transport/platformatic/rejoin.js';

interface FakeClient {
  readonly id: number;
  coordinatorId: number | null;
  findGroupCoordinator(): Promise<number>;
  close(force: boolean, callback: (error?: Error | null) => void): void;
}

/** A member whose n-th new client (1-based) joins as `joinOf(n)` says; the cluster names `named()` as the coordinator. */
function member(joinOf: (n: number, client: FakeClient) => Promise<string>, named: () => number, coordinatorOf: (n: number) => number | null = () => 1) {
  let created = 0;
  let stopping = false;
  const log: string[] = [];
  const crashes: Error[] = [];
  const joinedWith: string[] = [];
  const newClient = (): FakeClient => {
    const id = created++;
    return { id, coordinatorId: id === 0 ? 1 : coordinatorOf(id), findGroupCoordinator: async () => named(), close: (_force, callback) => callback(null) };
  };
  const spec: RejoinMember = {
    groupId: 'g',
    checkEveryMs: 5,
    createClient: () => newClient() as unknown as GroupClient,
    join: (client) => joinOf((client as unknown as FakeClient).id, client as unknown as FakeClient) as unknown as Promise<IdleStream>,
    install: (client) => void log.push(`install ${(client as unknown as FakeClient).id}`),
    retire: (client) => void log.push(`retire ${(client as unknown as FakeClient).id}`),
    joined: (idle) => void joinedWith.push(idle as unknown as string),
    stopping: () => stopping,
    onCrash: (error) => void crashes.push(error),
  };
  const first = newClient();
  // Throwaway clients (asking the cluster for the coordinator) are created too: only installed ones are logged.
  return { spec, first: { client: first as unknown as GroupClient, idle: undefined }, log, crashes, joinedWith, stop: () => (stopping = true) };
}

const never = () => new Promise<string>(() => undefined);

describe('platformatic: rejoining the group with a new client', () => {
  it('retires the client whose coordinator is gone, installs a new one and hands over the stream it joins with', async () => {
    const m = member(async (n) => `stream of ${n}`, () => 1);
    await rejoinWithNewClient(m.spec, m.first);
    assert.deepEqual(m.log, ['retire 0', 'install 1']);
    assert.deepEqual(m.joinedWith, ['stream of 1']);
    assert.deepEqual(m.crashes, []);
  });

  it('gives up a client joining through a coordinator the cluster no longer names, and joins with the next', async () => {
    // Client 1 joins through node 1 and never finishes; the cluster names node 2; client 3 (2 was the throwaway that asked) joins.
    const m = member((n) => (n === 1 ? never() : Promise.resolve(`stream of ${n}`)), () => 2, (n) => (n === 1 ? 1 : 2));
    await rejoinWithNewClient(m.spec, m.first);
    assert.equal(m.log[0], 'retire 0');
    assert.equal(m.log[1], 'install 1');
    assert.equal(m.log[2], 'retire 1', 'the stale client is retired');
    assert.match(m.log[3] ?? '', /^install \d+$/);
    assert.equal(m.joinedWith.length, 1);
    assert.notEqual(m.joinedWith[0], 'stream of 1');
    assert.deepEqual(m.crashes, []);
  });

  it('after ten clients that could not join, the member crashes with TRB_CONNECT instead of trying for ever', async () => {
    const m = member(async () => {
      throw new Error('join refused');
    }, () => 1);
    await rejoinWithNewClient(m.spec, m.first);
    assert.equal(m.log.filter((l) => l.startsWith('install')).length, 10);
    assert.equal(m.joinedWith.length, 0);
    assert.equal(m.crashes.length, 1);
    assert.equal((m.crashes[0] as TributaryError).code, 'TRB_CONNECT');
    assert.match((m.crashes[0] as Error).message, /cannot rejoin consumer group g/);
  });

  it('a member that stops while a client joins neither hands over a stream nor crashes', async () => {
    const m = member(() => never(), () => 1);
    const done = rejoinWithNewClient(m.spec, m.first);
    setTimeout(m.stop, 20);
    await done;
    assert.deepEqual(m.joinedWith, []);
    assert.deepEqual(m.crashes, []);
  });
});
