/** The transport contract on the @platformatic/kafka transport, classic group protocol and KIP-848 (KAFKA_BROKERS, default 127.0.0.1:9092). */
import { platformaticTransport } from '../../src/stream/transport/platformatic/platformatic-transport.js';
import { transportContract } from '../contract/transport-contract.js';
import { services } from './services.js';

transportContract('kafka (platformatic, classic group protocol)', () => platformaticTransport({ brokers: services.kafkaBrokers, clientId: 'transport-contract' }), { topsUpWaitingBatch: true });
transportContract('kafka (platformatic, KIP-848 consumer group protocol)', () => platformaticTransport({ brokers: services.kafkaBrokers, clientId: 'transport-contract', groupProtocol: 'consumer' }), { topsUpWaitingBatch: true });
