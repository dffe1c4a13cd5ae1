/**
 * The Kafka client settings of `run` (kafka-client, kafka-group-protocol, instance-id,
 * control-topic) turned into the transport to run on and the control plane to share pauses through.
 *
 *   KAFKA_CLIENT=kafkajs                    --> the kafkajs transport, seed brokers as kafkajs needs them
 *   TRIBUTARY_INSTANCE_ID=worker-3          --> platformatic, static member worker-3 in every group
 *   TRIBUTARY_CONTROL_TOPIC=none            --> no control topic: pause/resume reach this process only
 */
import { controlTopic } from '../../stream/control/control-topic.js';
import type { DesiredStateSource } from '../../stream/runtime/desired-state.js';
import { createKafkaTransport, DEFAULT_KAFKA_CLIENT, GROUP_PROTOCOLS, KAFKA_CLIENTS } from '../../stream/transport/kafka-client.js';
import type { KafkaTransportOptions } from '../../stream/transport/kafka/kafka-transport.js';
import type { Transport } from '../../stream/transport/types.js';
import type { SettingSource } from './source.js';
import { bad, oneOf } from './values.js';

export interface KafkaClientSettings {
  readonly client: (typeof KAFKA_CLIENTS)[number];
  readonly groupProtocol: (typeof GROUP_PROTOCOLS)[number];
  readonly instanceId?: string;
  /** Topic name, or undefined for none. */
  readonly controlTopic?: string;
}

export function readKafkaClient(source: SettingSource, topologyName: string): KafkaClientSettings {
  const client = oneOf(source.get('kafka-client'), DEFAULT_KAFKA_CLIENT, KAFKA_CLIENTS);
  const protocolSetting = source.get('kafka-group-protocol');
  const groupProtocol = oneOf(protocolSetting, 'classic', GROUP_PROTOCOLS);
  const [instanceSetting, instanceId] = source.get('instance-id');
  if (client === 'kafkajs' && groupProtocol === 'consumer') bad(protocolSetting[0], protocolSetting[1] ?? '', "classic with kafka-client kafkajs (KIP-848's consumer protocol needs platformatic)");
  if (client === 'kafkajs' && instanceId) bad(instanceSetting, instanceId, 'no instance id with kafka-client kafkajs (kafkajs has no static membership)');
  if (instanceId !== undefined && !/^\S{1,249}$/.test(instanceId)) bad(instanceSetting, instanceId, 'a name without spaces, 1-249 characters');
  const control = controlTopicName(source, topologyName);
  return { client, groupProtocol, ...(instanceId ? { instanceId } : {}), ...(control ? { controlTopic: control } : {}) };
}

/** The control topic `run` uses (and `topics` lists): `--control-topic`, default `<topology>.control`; undefined for `none`. */
export function controlTopicName(source: SettingSource, topologyName: string): string | undefined {
  const [, topic] = source.get('control-topic');
  return topic === undefined ? `${topologyName}.control` : topic === 'none' ? undefined : topic;
}

/** The transport `run` uses: the chosen client; platformatic takes the brokers as given (kafkajs' seed renaming is its own). */
export function runTransport(settings: KafkaClientSettings, kafkajsOptions: KafkaTransportOptions, brokers: readonly string[]): Transport {
  return createKafkaTransport({
    ...kafkajsOptions,
    ...(settings.client === 'platformatic' ? { brokers } : {}),
    client: settings.client,
    groupProtocol: settings.groupProtocol,
    ...(settings.instanceId ? { instanceId: settings.instanceId } : {}),
  });
}

export function runControlPlane(settings: KafkaClientSettings, transport: Transport): DesiredStateSource | undefined {
  return settings.controlTopic ? controlTopic(transport, { topic: settings.controlTopic, ...(settings.instanceId ? { instance: settings.instanceId } : {}) }) : undefined;
}
