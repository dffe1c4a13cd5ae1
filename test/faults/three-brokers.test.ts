/**
 * Fault injection on a three-node KRaft cluster (`scripts/infra up --brokers 3`: each node broker
 * and controller, replication factor 3, min.insync.replicas=2), started here and stopped at the
 * end; the registry and the database are the suite's. customer-360 runs as a real `tributary run`
 * process against the cluster while the leader of the busiest partition is SIGKILLed mid-run (the
 * history keeps flowing with two nodes), and later the node of the active controller. The run must
 * end as every fault scenario does (scenario-run.ts `assertEnd`): views equal to the oracle,
 * projections equal to the source tables, nothing published beyond the at-least-once bound.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { Scenario, sleep } from './harness.js';
import { activeController, crash, infra, infraEnv, start, type Service } from './infra.js';
import { assertEnd, CLIENTS, deadline, historyOf, produceSlice, SEED, SMALL } from './scenario-run.js';

const CLUSTER: readonly Service[] = ['kafka-1', 'kafka-2', 'kafka-3'];

/** The partition of `topics` holding the most records, and the node leading it. */
async function busiestPartition(kafka: Kafka, topics: readonly string[]): Promise<{ topic: string; partition: number; leader: number; records: number }> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    let best: { topic: string; partition: number; leader: number; records: number } | undefined;
    const { topics: metadata } = await admin.fetchTopicMetadata({ topics: [...topics] });
    for (const { name, partitions } of metadata) {
      const offsets = await admin.fetchTopicOffsets(name);
      for (const p of partitions) {
        assert.equal(p.replicas.length, 3, `${name}/${p.partitionId} has ${p.replicas.length} replicas`);
        const o = offsets.find((x) => x.partition === p.partitionId);
        const records = o ? Number(o.high) - Number(o.low) : 0;
        if (!best || records > best.records) best = { topic: name, partition: p.partitionId, leader: p.leader, records };
      }
    }
    assert.ok(best, 'no partition');
    return best;
  } finally {
    await admin.disconnect();
  }
}

/** Waits until the partition has a leader other than `former` (the controller moved it). */
async function newLeader(kafka: Kafka, topic: string, partition: number, former: number): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (const until = Date.now() + 60_000; ; await sleep(500)) {
      const leader = await admin
        .fetchTopicMetadata({ topics: [topic] })
        .then(({ topics }) => topics[0]?.partitions.find((p) => p.partitionId === partition)?.leader ?? -1, () => -1);
      if (leader >= 0 && leader !== former) return leader;
      assert.ok(Date.now() < until, `${topic}/${partition} still led by node ${former} (or by none) a minute after it was killed`);
    }
  } finally {
    await admin.disconnect();
  }
}

describe('fault injection on three brokers (KRaft, replication factor 3, min.insync.replicas=2)', { concurrency: 1 }, () => {
  let brokers: string[] = [];
  before(async () => {
    await infra('up', '--brokers', '3', 'kafka');
    brokers = (await infraEnv('--brokers', '3'))['KAFKA_BROKERS']?.split(',') ?? [];
    assert.equal(brokers.length, 3, `the cluster's brokers: ${brokers.join(',')}`);
  }, { timeout: 240_000 });
  after(() => infra('down', ...CLUSTER).then(() => undefined), { timeout: 120_000 });

  for (const client of CLIENTS) it(`the leader of the busiest partition is SIGKILLed mid-run, later the active controller: views equal the oracle, nothing lost, nothing doubled beyond the at-least-once bound (worker on ${client})`, { timeout: 3 * deadline(SMALL) + 180_000 }, async (t) => { // three caught-up waits of deadline(SMALL) each, plus the cluster's moves
    const s = new Scenario('3brokers', { brokers, client });
    const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING });
    try {
      await s.setUp();
      const history = historyOf(s.t, SMALL, SEED + 5);
      await s.startWorker();
      await s.ready();
      const slices = 10;
      const part = (i: number) => Object.assign(history.slice(Math.ceil((i * history.length) / slices), Math.ceil(((i + 1) * history.length) / slices)), { topics: history.topics });
      for (let i = 0; i < slices; i++) {
        if (i === 2) {
          await s.fault('leader of the busiest partition SIGKILLed', async () => {
            const busiest = await busiestPartition(kafka, s.t.allTopics);
            const node = `kafka-${busiest.leader}` as Service;
            await crash(node);
            const leader = await newLeader(kafka, busiest.topic, busiest.partition, busiest.leader);
            t.diagnostic(`killed ${node}, leader of ${busiest.topic}/${busiest.partition} (${busiest.records} records); node ${leader} leads it now`);
            // The run goes on with two nodes: acks=all needs two in-sync replicas, which are left.
            await produceSlice(s, part(i));
            await start(node);
          }, deadline(SMALL));
        } else if (i === 6) {
          await s.fault('active controller SIGKILLed', async () => {
            const node = await activeController();
            await crash(node);
            t.diagnostic(`killed ${node}, the active controller`);
            await produceSlice(s, part(i));
            await start(node);
          }, deadline(SMALL));
        } else {
          await produceSlice(s, part(i));
        }
      }
      await s.caughtUp(deadline(SMALL));
      await assertEnd(t, s, history, []);
      assert.equal(s.worker?.child.exitCode, null, 'the worker kept running through both failovers');
    } finally {
      await s.tearDown().catch(() => undefined);
    }
  });
});
