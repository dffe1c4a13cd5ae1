/** Compressed topics written and read by the real Java client, on both Kafka transports (see test/contract/compression-contract.ts). */
import { kafkaTransport } from '../../src/stream/transport/kafka/kafka-transport.js';
import { platformaticTransport } from '../../src/stream/transport/platformatic/platformatic-transport.js';
import { compressionContract } from '../contract/compression-contract.js';
import { services } from './services.js';

compressionContract('kafkajs', (compression) => kafkaTransport({ brokers: services.kafkaBrokers, clientId: 'compression-contract', compression }));
compressionContract('platformatic', (compression) => platformaticTransport({ brokers: services.kafkaBrokers, clientId: 'compression-contract', compression }));
