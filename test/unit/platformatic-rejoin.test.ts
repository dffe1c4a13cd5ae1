/**
 * Rejoining with a new library client when the group's coordinator is gone (platformatic/rejoin.ts),
 * with fake clients: which clients are installed and retired, when a client joining through a
 * coordinator the cluster no longer names is given up for the next, how failed joins back off, and
 * when the member gives up (only a permanent failure).
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
  const rejoining: string[] = [];
  const waits: number[] = [];
  const newClient = (): FakeClient => {
    const id = created++;
    return { id, coordinatorId: id === 0 ? 1 : coordinatorOf(id), findGroupCoordinator: async () => named(), close: (_force, callback) => callback(null) };
  };
  const spec: RejoinMember = {
    groupId: 'g',
    checkEveryMs: 5,
    backoffMs: (failures) => {
      waits.push(failures);
      return 5;
    },
    createClient: () => newClient() as unknown as GroupClient,
    join: (client) => joinOf((client as unknown as FakeClient).id, client as unknown as FakeClient) as unknown as Promise<IdleStream>,
    install: (client) => void log.push(`install ${(client as unknown as FakeClient).id}`),
    retire: (client) => void log.push(`retire ${(client as unknown as FakeClient).id}`),
    joined: (idle) => void joinedWith.push(idle as unknown as string),
    stopping: () => stopping,
    onCrash: (error) => void crashes.push(error),
    onRejoining: (reason) => void rejoining.push(reason),
  };
  const first = newClient();
  // Throwaway clients (asking the cluster for the coordinator) are created too: only installed ones are logged.
  return { spec, first: { client: first as unknown as GroupClient, idle: undefined }, log, crashes, joinedWith, rejoining, waits, stop: () => (stopping = true) };
}

const never = () => new Promise<string>(() => undefined);

describe('platformatic: rejoining the group with a new client', () => {
  it('retires the client whose coordinator is gone, installs a new one and hands over the stream it joins with', async () => {
    const m = member(async (n) => `stream of ${n}`, () => 1);
    await rejoinWithNewClient(m.spec, m.first);
    assert.deepEqual(m.log, ['retire 0', 'install 1']);
    assert.deepEqual(m.joinedWith, ['stream of 1']);
    assert.deepEqual(m.crashes, []);
    assert.deepEqual(m.rejoining, ['Kafka client replaced: the group coordinator of g (node 1) is gone'], 'out of the group once, until joined');
    assert.deepEqual(m.waits, [], 'no backoff before the first new client');
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

  it('a join that fails transiently is tried again with a new client after a growing backoff, for as long as it takes', async () => {
    // Clients 1..12 are refused (a broker restarting); client 13 joins: more than any fixed bound of attempts.
    const m = member(async (n) => {
      if (n <= 12) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9092'), { code: 'ECONNREFUSED' });
      return `stream of ${n}`;
    }, () => 1);
    await rejoinWithNewClient(m.spec, m.first);
    assert.equal(m.log.filter((l) => l.startsWith('install')).length, 13);
    assert.deepEqual(m.waits, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], 'the backoff is asked with the failures in a row');
    assert.deepEqual(m.joinedWith, ['stream of 13']);
    assert.deepEqual(m.crashes, []);
    assert.equal(m.rejoining.length, 1);
  });

  it('a join refused for good (credentials) is a crash with TRB_AUTH, not another client', async () => {
    const m = member(async () => {
      throw Object.assign(new Error('SASL authentication failed'), { code: 'PLT_KFK_AUTHENTICATION' });
    }, () => 1);
    await rejoinWithNewClient(m.spec, m.first);
    assert.equal(m.log.filter((l) => l.startsWith('install')).length, 1);
    assert.equal(m.joinedWith.length, 0);
    assert.equal(m.crashes.length, 1);
    assert.equal((m.crashes[0] as TributaryError).code, 'TRB_AUTH');
    assert.match((m.crashes[0] as Error).message, /cannot rejoin consumer group g/);
  });

  it('the default backoff starts at 1 s and doubles up to 30 s', async () => {
    const m = member(async () => {
      throw new Error('join refused');
    }, () => 1);
    const { backoffMs: _ignored, ...withDefault } = m.spec;
    const done = rejoinWithNewClient(withDefault, m.first);
    await new Promise((r) => setTimeout(r, 1_500));
    m.stop();
    await done;
    // Immediately the first client, 1 s later the second; the third would come 2 s after that.
    assert.equal(m.log.filter((l) => l.startsWith('install')).length, 2);
    assert.deepEqual(m.crashes, []);
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
