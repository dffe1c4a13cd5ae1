/**
 * One factory for the two Kafka transports, chosen by configuration (`client`): `platformatic`
 * (@platformatic/kafka: maintained, Kafka 4 protocol, KIP-848 group protocol, static membership)
 * or `kafkajs` (kafkajs 2.2.4: no release since early 2023; classic group protocol only). Both
 * pass the same transport, runtime and compressed-topic contracts; docs/kafka.md compares them.
 *
 *   createKafkaTransport({ brokers, client: 'kafkajs' })                    kafkajs
 *   createKafkaTransport({ brokers, groupProtocol: 'consumer', instanceId })  platformatic, KIP-848, static member
 */
import { TributaryError } from '../../errors.js';
import { kafkaTransport, type KafkaTransportOptions } from './kafka/kafka-transport.js';
import { platformaticTransport } from './platformatic/platformatic-transport.js';
import type { Transport } from './types.js';

export const KAFKA_CLIENTS = ['platformatic', 'kafkajs'] as const;
export type KafkaClient = (typeof KAFKA_CLIENTS)[number];
export const GROUP_PROTOCOLS = ['classic', 'consumer'] as const;
export type GroupProtocol = (typeof GROUP_PROTOCOLS)[number];

/** The client used when none is configured (see docs/kafka.md for the measurements behind it). */
export const DEFAULT_KAFKA_CLIENT: KafkaClient = 'platformatic';

export interface KafkaClientOptions extends KafkaTransportOptions {
  /** Which Kafka client library (default DEFAULT_KAFKA_CLIENT). */
  readonly client?: KafkaClient;
  /** platformatic only: 'classic' (default) or 'consumer' (KIP-848). kafkajs speaks classic only. */
  readonly groupProtocol?: GroupProtocol;
  /** platformatic only: static membership id of this worker (stable across restarts, unique per worker). */
  readonly instanceId?: string;
}

export function createKafkaTransport(options: KafkaClientOptions): Transport {
  const { client = DEFAULT_KAFKA_CLIENT, groupProtocol, instanceId, sasl, ...common } = options;
  if (client === 'kafkajs') {
    if (groupProtocol === 'consumer') throw new TributaryError('TRB_CONFIG', "groupProtocol 'consumer' (KIP-848) needs client 'platformatic': kafkajs speaks the classic group protocol only");
    if (instanceId) throw new TributaryError('TRB_CONFIG', "instanceId (static membership) needs client 'platformatic': kafkajs has no group.instance.id");
    return kafkaTransport(options);
  }
  if (sasl && !('username' in sasl && 'password' in sasl)) throw new TributaryError('TRB_CONFIG', `SASL mechanism ${sasl.mechanism} is not supported by client 'platformatic' here (plain, scram-sha-256, scram-sha-512 are)`);
  return platformaticTransport({
    ...common,
    ...(sasl && 'username' in sasl ? { sasl: { mechanism: sasl.mechanism, username: sasl.username, password: sasl.password } } : {}),
    ...(groupProtocol ? { groupProtocol } : {}),
    ...(instanceId ? { instanceId } : {}),
  });
}

/** Throws TRB_CONFIG naming the setting and the accepted values. */
export function parseKafkaClient(value: string | undefined, setting = 'KAFKA_CLIENT'): KafkaClient {
  if (value === undefined || value === '') return DEFAULT_KAFKA_CLIENT;
  if ((KAFKA_CLIENTS as readonly string[]).includes(value)) return value as KafkaClient;
  throw new TributaryError('TRB_CONFIG', `invalid ${setting}=${JSON.stringify(value)}: expected one of ${KAFKA_CLIENTS.join(', ')}`);
}

export function parseGroupProtocol(value: string | undefined, setting = 'KAFKA_GROUP_PROTOCOL'): GroupProtocol {
  if (value === undefined || value === '') return 'classic';
  if ((GROUP_PROTOCOLS as readonly string[]).includes(value)) return value as GroupProtocol;
  throw new TributaryError('TRB_CONFIG', `invalid ${setting}=${JSON.stringify(value)}: expected one of ${GROUP_PROTOCOLS.join(', ')}`);
}
