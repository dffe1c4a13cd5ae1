/**
 * The Kafka client options of a command, from its validated settings: brokers, TLS, SASL, client
 * id, timeouts, producer tuning. One place, so `run`, `refresh`, `topics`, `verify` and `dlq`
 * connect alike. `maxMessageBytes` is not a client option: `run` hands it to the runtime, which
 * checks every record a sink produces against it.
 *
 * kafkajs splits a seed broker on ':' (`host = broker.split(':')[0]`), so it cannot take an IPv6
 * literal: `[::1]:9092` would become host '['. Such a broker is handed to kafkajs under a name
 * that can never resolve (`0-0-0-0-0-0-0-1.ipv6-literal.invalid:9092`, RFC 6761's `.invalid`),
 * and the socket factory connects that name to the address it stands for.
 */
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { ISocketFactory } from 'kafkajs';
import type { Logger } from '../ops/logger.js';
import type { KafkaTransportOptions } from '../stream/transport/kafka/kafka-transport.js';
import { kafkaSecurityOptions } from './config/security.js';
import type { KafkaSettings, ProducerTuning } from './config/sections.js';

const IPV6_SUFFIX = '.ipv6-literal.invalid';
const KEEP_ALIVE_MS = 60_000;

function ipv6Name(address: string): string {
  // Zone ids (fe80::1%eth0) keep their name after 's', as in Microsoft's ipv6-literal.net names.
  const [ip, zone] = address.split('%');
  return `${(ip ?? '').replace(/:/g, '-')}${zone ? `s${zone}` : ''}${IPV6_SUFFIX}`;
}

function addressOf(host: string): string {
  if (!host.endsWith(IPV6_SUFFIX)) return host;
  const name = host.slice(0, -IPV6_SUFFIX.length);
  const zone = /s([A-Za-z0-9_.-]+)$/.exec(name);
  return `${(zone ? name.slice(0, zone.index) : name).replace(/-/g, ':')}${zone ? `%${zone[1]}` : ''}`;
}

/** kafkajs's own socket factory, plus the IPv6 names above. */
const socketFactory: ISocketFactory = ({ host, port, ssl, onConnect }) => {
  const address = addressOf(host);
  const socket: Socket = ssl
    ? tlsConnect({ host: address, port, ...(isIP(address) ? {} : { servername: address }), ...ssl }, onConnect)
    : netConnect({ host: address, port }, onConnect);
  socket.setKeepAlive(true, KEEP_ALIVE_MS);
  return socket;
};

/** Seed brokers kafkajs can split, and the socket factory that undoes the IPv6 naming (only when needed). */
export function kafkajsSeedBrokers(brokers: readonly string[]): { brokers: string[]; socketFactory?: ISocketFactory } {
  const seeds = brokers.map((broker) => {
    const v6 = /^\[(.+)\]:(\d+)$/.exec(broker);
    return v6 ? `${ipv6Name(v6[1] as string)}:${v6[2]}` : broker;
  });
  return seeds.some((seed, i) => seed !== brokers[i]) ? { brokers: seeds, socketFactory } : { brokers: seeds };
}

/** Everything kafkaTransport() needs from a command's settings. */
export function kafkaTransportOptions(kafka: KafkaSettings, options: { clientId: string; logger?: Logger; producer?: ProducerTuning }): KafkaTransportOptions {
  return {
    ...kafkajsSeedBrokers(kafka.brokers),
    clientId: kafka.clientId ?? options.clientId,
    ...kafkaSecurityOptions(kafka.security),
    ...(kafka.connectionTimeoutMs !== undefined ? { connectionTimeoutMs: kafka.connectionTimeoutMs } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.producer?.compression !== undefined ? { compression: options.producer.compression } : {}),
    ...(options.producer?.maxRequestBytes !== undefined ? { maxRequestBytes: options.producer.maxRequestBytes } : {}),
  };
}
