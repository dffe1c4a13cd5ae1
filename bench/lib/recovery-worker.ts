/**
 * The worker bench/recovery.ts kills and restarts: a pass-through topology (input → output, bytes)
 * on the configured Kafka client, as `tributary run` would run it, until SIGTERM or SIGKILL.
 *
 * Env: KAFKA_BROKERS, RECOVERY_INPUT, RECOVERY_OUTPUT, RECOVERY_GROUP, RECOVERY_CLIENT
 * (kafkajs | platformatic), RECOVERY_GROUP_PROTOCOL (classic | consumer), RECOVERY_INSTANCE_ID
 * (static membership; empty for none).
 */
import { TributaryError } from '../../src/errors.js';
import { createLogger, createMetrics } from '../../src/ops/index.js';
import { createKafkaTransport, parseGroupProtocol, parseKafkaClient, runTopology, stopOnSignals } from '../../src/runtime.js';
import { toTopic, topology, type Serde } from '../../src/stream/index.js';

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};
const bytes: Serde<Buffer | null> = { name: 'bytes', deserialize: (b) => b, serialize: (v) => v };

const t = topology('bench-recovery');
t.stream(env('RECOVERY_INPUT'), { key: bytes, value: bytes, name: 'pass-through', groupId: env('RECOVERY_GROUP') }).pipe(toTopic(env('RECOVERY_OUTPUT'), { key: bytes, value: bytes }));
const instanceId = process.env['RECOVERY_INSTANCE_ID'];
const start = () => runTopology(t, {
  transport: createKafkaTransport({
    brokers: (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(','),
    clientId: 'bench-recovery',
    client: parseKafkaClient(process.env['RECOVERY_CLIENT']),
    groupProtocol: parseGroupProtocol(process.env['RECOVERY_GROUP_PROTOCOL']),
    ...(instanceId ? { instanceId } : {}),
  }),
  metrics: createMetrics({ defaultMetrics: false }),
  logger: createLogger({ level: 'warn' }),
});
// As `tributary run`: a start that fails on something transient (TRB_CONNECT) is tried again.
let running: Awaited<ReturnType<typeof start>> | undefined;
for (let attempt = 1; !running; attempt++) {
  try {
    running = await start();
  } catch (error) {
    if (!(error instanceof TributaryError && error.retriable) || attempt > 200) throw error;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
stopOnSignals(running);
console.log('started');
