/**
 * `tributary topics <topology-file> [--create]`: every topic the topology reads and writes (from
 * describe()), with its role, and what the brokers hold of it — partitions, replicas, cleanup
 * policy — or that it is missing. `--create` creates the missing ones (managed clusters turn the
 * brokers' auto-creation off, and `run` needs its source topics to exist).
 *
 *   tributary topics topologies/customer-360.ts
 *     TOPIC                        ROLE      PARTITIONS  REPLICAS  CLEANUP  STATE
 *     crm.public.customers         source    3           1         delete   present
 *     pr_customers.pr-update       internal  -           -         delete   missing
 */
import { createLogger } from '../../ops/logger.js';
import { topicsConfig, TOPICS_FORMATS } from '../config.js';
import { GENERAL_WARN, KAFKA_CONNECTION, type OptionSection } from '../config/settings.js';
import type { CommandSpec } from '../command.js';
import type { SettingSource } from '../config/source.js';
import { kafkaTransportOptions } from '../kafka-client.js';
import { loadTopology } from '../load-topology.js';
import { createTopics, inspectTopics, type TopicState } from '../topic-admin.js';
import { CLEANUP_POLICY, controlTopicRow, topicPlan, type PlannedTopic } from '../topic-plan.js';
import { controlTopicName } from '../config/kafka-client-settings.js';

const OPTIONS: OptionSection = {
  title: 'Options',
  keys: ['create', 'partitions', 'replication-factor', 'only', 'offline', 'format', 'control-topic'],
  help: { format: `${TOPICS_FORMATS.join('|')}, default text`, only: 'only the topics of these streams or stages (as run --only)' },
};

export const topicsSpec: CommandSpec = {
  name: 'topics',
  summary: 'list the topics a topology reads and writes; --create creates the missing ones',
  positionals: ['<topology-file>'],
  description: `Lists every topic the topology reads and writes, from its description (sources, pr-update,
sv-trigger, sinks, dead-letter topics) and the control topic "run" shares pauses through, with its
role and what the brokers hold: partitions, replicas and cleanup policy, or "missing". With
--create, creates the missing topics (cleanup policy ${CLEANUP_POLICY}; partitions and replicas from
the options, else the broker's defaults; the control topic: one partition, compact).
"tributary run" refuses to start while a topic it reads is missing.`,
  sections: [
    OPTIONS,
    { ...KAFKA_CONNECTION, help: { 'kafka-client-id': 'client id the brokers see; default <topology>-topics' } },
    { title: 'Kafka tuning (environment or config file)', keys: ['kafka-connection-timeout-ms'] },
    GENERAL_WARN,
  ],
  footer: 'Exit codes: 0 every topic present (or created), 1 some missing (without --create) or a failure, 2 bad configuration.',
};

interface Row extends PlannedTopic {
  readonly state: TopicState | undefined;
  readonly created: boolean;
}

function table(rows: readonly Row[], offline: boolean): string[] {
  const header = ['TOPIC', 'ROLE', 'PARTITIONS', 'REPLICAS', 'CLEANUP', 'STATE'];
  const cells = rows.map((r) => [
    r.topic,
    r.role,
    String(r.state?.partitions ?? '-'),
    String(r.state?.replicas ?? '-'),
    r.state?.cleanupPolicy ?? r.cleanupPolicy ?? CLEANUP_POLICY,
    offline ? '' : r.created ? 'created' : r.state ? 'present' : 'missing',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)) + 2);
  const line = (c: readonly string[]) => c.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('').trimEnd();
  return [line(offline ? header.slice(0, 2) : header), ...cells.map((c) => line(offline ? c.slice(0, 2) : c))];
}

export async function topicsCommand(file: string, source: SettingSource, print: (line: string) => void): Promise<number> {
  const config = topicsConfig(source);
  const topology = await loadTopology(file);
  const control = controlTopicName(source, topology.name);
  const plan = [...topicPlan(topology.describe().toJSON(), config.only), ...(control ? [controlTopicRow(control)] : [])];
  if (!config.kafka) {
    if (config.format === 'json') print(JSON.stringify({ topology: topology.name, topics: plan }, null, 2));
    else for (const line of table(plan.map((p) => ({ ...p, state: undefined, created: false })), true)) print(line);
    return 0;
  }
  const logger = createLogger({ level: config.logLevel, redactor: config.redactor });
  const options = kafkaTransportOptions(config.kafka, { clientId: `${topology.name}-topics`, logger });
  const names = plan.map((p) => p.topic);
  let states = await inspectTopics(options, names);
  const missing = names.filter((t) => states.get(t) === undefined);
  if (config.create && missing.length > 0) {
    await createTopics(options, plan.filter((p) => missing.includes(p.topic)), config);
    states = await inspectTopics(options, names);
  }
  const rows: Row[] = plan.map((p) => ({ ...p, state: states.get(p.topic), created: config.create && missing.includes(p.topic) }));
  const stillMissing = rows.filter((r) => r.state === undefined).map((r) => r.topic);
  if (config.format === 'json') {
    print(JSON.stringify({ topology: topology.name, brokers: config.kafka.brokers, topics: rows, missing: stillMissing }, null, 2));
  } else {
    print(`Topics of ${topology.name} on ${config.kafka.brokers.join(',')}:`);
    for (const line of table(rows, false)) print(`  ${line}`);
    if (config.create) print(missing.length ? `created ${missing.length}: ${missing.join(', ')}` : 'nothing to create');
    else if (stillMissing.length) print(`${stillMissing.length} missing; create them with: tributary topics ${file} --create`);
  }
  return stillMissing.length === 0 ? 0 : 1;
}
