/** Transactions beyond the happy path (kill mid-transaction, abort, zombie fencing) on both Kafka transports; see test/contract/transactions-contract.ts. */
import { kafkaTransport } from '../../src/stream/transport/kafka/kafka-transport.js';
import { platformaticTransport } from '../../src/stream/transport/platformatic/platformatic-transport.js';
import { transactionsContract } from '../contract/transactions-contract.js';
import { services } from './services.js';

transactionsContract('kafkajs', () => kafkaTransport({ brokers: services.kafkaBrokers, clientId: 'transactions-contract' }));
transactionsContract('platformatic', () => platformaticTransport({ brokers: services.kafkaBrokers, clientId: 'transactions-contract' }));
