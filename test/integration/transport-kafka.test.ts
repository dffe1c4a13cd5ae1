/** The transport contract against the real broker (KAFKA_BROKERS, default 127.0.0.1:9092). */
import { kafkaTransport } from '../../src/stream/transport/kafka/kafka-transport.js';
import { transportContract } from '../contract/transport-contract.js';
import { services } from './services.js';

transportContract('kafka', () => kafkaTransport({ brokers: services.kafkaBrokers, clientId: 'transport-contract' }));
