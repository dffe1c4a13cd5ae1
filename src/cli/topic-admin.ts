/**
 * Asks the brokers about a topology's topics and creates the missing ones, for `tributary topics`
 * and for `run`'s start check. A kafkajs admin client built from the same options as the
 * command's transport (kafka-client.ts), connected for one call and closed.
 *
 *   inspectTopics(options, ['crm.public.customers', 'pr_customers.pr-update'])
 *     --> Map { 'crm.public.customers' => { partitions: 3, replicas: 1, cleanupPolicy: 'delete' }, 'pr_customers.pr-update' => undefined }
 */
import { Kafka, type Admin, type ConfigResourceTypes } from 'kafkajs';
import { kafkajsConfig, type KafkaTransportOptions } from '../stream/transport/kafka/kafka-transport.js';
import { fromKafkaError } from '../stream/transport/kafka/errors.js';
import { CLEANUP_POLICY } from './topic-plan.js';

// kafkajs's ConfigResourceTypes is a runtime enum its ESM face does not export; TOPIC is 2 in the Kafka protocol.
const TOPIC_RESOURCE = 2 as ConfigResourceTypes;

export interface TopicState {
  readonly partitions: number;
  readonly replicas: number;
  readonly cleanupPolicy: string;
}

async function withAdmin<T>(options: KafkaTransportOptions, work: (admin: Admin) => Promise<T>): Promise<T> {
  const kafka = new Kafka({ ...kafkajsConfig(options), retry: { retries: 2 } });
  const admin = kafka.admin();
  try {
    await admin.connect();
  } catch (error) {
    throw fromKafkaError(error, `cannot reach the Kafka brokers ${options.brokers.join(',')}`, 'TRB_CONNECT');
  }
  try {
    return await work(admin);
  } catch (error) {
    throw fromKafkaError(error, 'the Kafka admin request failed', 'TRB_CONNECT');
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** What the brokers hold of `topics`: partitions, replicas and cleanup policy, or undefined for a missing topic. */
export async function inspectTopics(options: KafkaTransportOptions, topics: readonly string[]): Promise<Map<string, TopicState | undefined>> {
  return withAdmin(options, async (admin) => {
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((t) => existing.has(t));
    const states = new Map<string, TopicState | undefined>(topics.map((t) => [t, undefined]));
    if (present.length === 0) return states;
    const { topics: metadata } = await admin.fetchTopicMetadata({ topics: present });
    const configs = await admin.describeConfigs({
      resources: present.map((name) => ({ type: TOPIC_RESOURCE, name, configNames: ['cleanup.policy'] })),
      includeSynonyms: false,
    });
    const policy = new Map(configs.resources.map((r) => [r.resourceName, r.configEntries.find((c) => c.configName === 'cleanup.policy')?.configValue ?? '?']));
    for (const m of metadata) {
      states.set(m.name, { partitions: m.partitions.length, replicas: Math.max(0, ...m.partitions.map((p) => p.replicas.length)), cleanupPolicy: policy.get(m.name) ?? '?' });
    }
    return states;
  });
}

export interface CreateOptions {
  /** Default: the broker's num.partitions. */
  readonly partitions?: number;
  /** Default: the broker's default.replication.factor. */
  readonly replicationFactor?: number;
}

/** Creates `topics` with the cleanup policy of topic-plan.ts; waits until each has a leader. A topic created meanwhile by someone else is fine. */
/** Creates `topics`; a topic whose role fixes its partitions or cleanup policy (the control topic) gets those. */
export async function createTopics(options: KafkaTransportOptions, topics: ReadonlyArray<{ readonly topic: string; readonly partitions?: number; readonly cleanupPolicy?: string }>, create: CreateOptions): Promise<void> {
  if (topics.length === 0) return;
  await withAdmin(options, async (admin) => {
    await admin.createTopics({
      waitForLeaders: true,
      topics: topics.map((t) => ({
        topic: t.topic,
        numPartitions: t.partitions ?? create.partitions ?? -1,
        replicationFactor: create.replicationFactor ?? -1,
        configEntries: [{ name: 'cleanup.policy', value: t.cleanupPolicy ?? CLEANUP_POLICY }],
      })),
    });
  });
}
