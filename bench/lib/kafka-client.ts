/**
 * Which Kafka client a benchmark runs Tributary on: BENCH_KAFKA_CLIENT, else the default of
 * `tributary run` (the raw baselines stay bare kafkajs, as the issues define them).
 */
import { parseKafkaClient, type KafkaClient } from '../../src/runtime.js';

export function kafkaClientOf(value: string | undefined): KafkaClient {
  return parseKafkaClient(value, 'BENCH_KAFKA_CLIENT');
}
