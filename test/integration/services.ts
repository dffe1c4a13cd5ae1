/**
 * Where the real services are. `npm test` starts them (scripts/infra up) and exports these
 * variables; a user with their own Kafka, registry or MongoDB sets them instead.
 * Nothing here skips: a service that does not answer fails the test that needs it.
 */
import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';

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
