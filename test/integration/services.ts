/**
 * Where the real services are. `npm test` starts them (scripts/infra up) and exports these
 * variables; a user with their own Kafka, registry or MongoDB sets them instead.
 * Nothing here skips: a service that does not answer fails the test that needs it.
 */
import { randomUUID } from 'node:crypto';
import { after, before } from 'node:test';
import { MongoClient } from 'mongodb';
import type { Transport } from '../../src/stream/transport/types.js';

export const services = {
  kafkaBrokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((s) => s.trim()),
  registryUrl: process.env.SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:8081/apis/ccompat/v7',
  mongoUrl: process.env.MONGODB_URL ?? 'mongodb://127.0.0.1:27017/?directConnection=true',
};

/** A name no other test (or earlier run) uses: topics, groups, databases, subjects. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;
}

/** Drops a test's database on the real store (its own short-lived client). */
export async function dropDatabase(database: string): Promise<void> {
  const client = new MongoClient(services.mongoUrl, { serverSelectionTimeoutMS: 10_000 });
  try {
    await client.db(database).dropDatabase();
  } finally {
    await client.close();
  }
}

/** What a topology suite opens and must close. */
export interface TopologySuite {
  readonly control: Pick<Transport, 'connect' | 'disconnect' | 'admin'>;
  readonly store: { close(): Promise<void> };
  readonly database: string;
  /** Created with 3 partitions each before the suite. */
  readonly topics: readonly string[];
  /** The topology the suite's tests start, stopped first after the suite. */
  readonly running: () => { stop(): Promise<void> } | undefined;
}

/**
 * The hooks every topology suite here shares: its topics created before, and after it the running
 * topology stopped, the clients closed and the database dropped. Bounded: a stream stuck on a store
 * call would otherwise keep stop() (and the run) waiting forever.
 */
export function topologySuite(suite: TopologySuite): void {
  before(async () => {
    await suite.control.connect();
    await suite.control.admin.createTopics(suite.topics.map((topic) => ({ topic, partitions: 3 })));
  });
  after(async () => {
    await suite.running()?.stop();
    await suite.control.disconnect();
    await suite.store.close().catch(() => undefined);
    await dropDatabase(suite.database);
  }, { timeout: 60_000 });
}

