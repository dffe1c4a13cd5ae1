/**
 * bench/backlog.ts's raw baseline as a process of its own (so /proc measures it alone, as it does
 * the `tributary run` worker): the raw ingest loop of bench/lib/raw-ingest.ts (compacted per key,
 * like Tributary) over the backlog's source topics until SIGTERM.
 *
 *   RAW_TOPIC_PREFIX=bench.backlog.x. RAW_GROUP_ID=g RAW_DATABASE=d KAFKA_BROKERS=… MONGODB_URL=… \
 *     node --import tsx bench/lib/raw-ingest-worker.ts
 */
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { TABLES } from './cdc-workload.js';
import { createRawIndexes, rawConsumer, rawIngestBatch } from './raw-ingest.js';

const required = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`raw-ingest-worker: ${name} is required`);
  return value;
};
const prefix = required('RAW_TOPIC_PREFIX');
const brokers = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const client = new MongoClient(process.env['MONGODB_URL'] ?? 'mongodb://127.0.0.1:27017/?directConnection=true');
await client.connect();
const db = client.db(required('RAW_DATABASE'));
await createRawIndexes(db);
const byTopic = new Map(TABLES.map((t) => [`${prefix}${t.name}`, t]));
const kafka = new Kafka({ clientId: 'bench-raw-ingest', brokers, logLevel: logLevel.NOTHING });
const stop = await rawConsumer(kafka, { groupId: required('RAW_GROUP_ID'), topics: [...byTopic.keys()], partitionsConsumedConcurrently: 6 * TABLES.length }, rawIngestBatch(db, byTopic, true));
process.once('SIGTERM', () => {
  void stop()
    .then(() => client.close())
    .finally(() => process.exit(0));
});
