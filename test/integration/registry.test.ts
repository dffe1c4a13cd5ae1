/**
 * The Confluent-compatible registry client on the real registry: the registry contract, and an
 * outage. A TCP relay stands in front of the real registry and can refuse connections: while it
 * does, every call fails with TRB_CONNECT (retriable) — the client library reports a request with no
 * answer as a status 400, which was taken for the registry's own 400 (TRB_SCHEMA: the records were
 * dead-lettered). A stream reading Avro through the relay while it is down retries its batch and
 * delivers every record once the registry answers again, with no dead letter.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { createLogger } from '../../src/ops/logger.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { toTopic } from '../../src/stream/operators/index.js';
import { runTopology } from '../../src/stream/runtime/runner.js';
import { avro, json, string } from '../../src/stream/serdes/index.js';
import { confluentRegistry, type AvroSchema } from '../../src/stream/serdes/registry.js';
import { topology } from '../../src/stream/topology.js';
import { waitFor, failure } from '../contract/helpers.js';
import { registryContract } from '../contract/registry-contract.js';
import { kafkaIo, type KafkaIo } from './kafka-env.js';
import { services, uniqueName } from './services.js';
import { TcpProxy, type Target } from './tcp-proxy.js';
import { kafkaTransport } from '../../src/stream/transport/kafka/kafka-transport.js';

registryContract('confluent client, real registry', () => confluentRegistry({ url: services.registryUrl }));

/** A TCP relay to the registry on a port of its own; `down()` closes it (connections refused), `up()` opens it again on the same port. */
class Relay extends TcpProxy {
  constructor(private readonly target: Target) {
    super();
  }

  protected accept(client: Socket): void {
    this.pipe(client, this.target);
  }
}

async function relay(target: string) {
  const upstream = new URL(target);
  const proxy = new Relay({ host: upstream.hostname, port: Number(upstream.port) });
  const port = await proxy.listen();
  return { url: `http://127.0.0.1:${port}${upstream.pathname}`, down: () => proxy.close(), up: async () => void (await proxy.listen(port)), close: () => proxy.close() };
}


interface Reading {
  sensor: string;
  value: number;
}
const READING: AvroSchema = { type: 'record', name: 'Reading', namespace: 'outage', fields: [{ name: 'sensor', type: 'string' }, { name: 'value', type: 'double' }] };

describe('schema registry outage (a relay in front of the real registry)', () => {
  let io: KafkaIo;
  let via: Awaited<ReturnType<typeof relay>>;
  before(async () => {
    io = await kafkaIo();
    via = await relay(services.registryUrl);
  });
  after(async () => {
    await via.close();
    await io.close();
  });

  it('register, latestId and codec fail with TRB_CONNECT (retriable) while the registry is unreachable, and work again after', async () => {
    const direct = confluentRegistry({ url: services.registryUrl });
    const subject = `${uniqueName('outage')}-value`;
    const id = await direct.register(subject, READING);
    const client = confluentRegistry({ url: via.url });
    await via.down();
    try {
      for (const [call, request] of [
        ['register', () => client.register(`${uniqueName('outage')}-value`, READING)],
        ['latestId', () => client.latestId(subject)],
        ['codec', () => client.codec(id)],
      ] as const) {
        const error = await failure(request());
        assert.equal(error.code, 'TRB_CONNECT', `${call}: ${error.message}`);
        assert.equal(error.retriable, true, call);
        assert.match(error.message, /schema registry unavailable \(.*ECONNREFUSED/, call);
      }
    } finally {
      await via.up();
    }
    assert.equal(await client.latestId(subject), id);
    assert.equal((await client.codec(id)).id, id, 'a failed codec lookup is not cached');
  });

  it('a stream reading Avro while the registry is down retries, then delivers every record, with no dead letter', async () => {
    const input = uniqueName('outage-in');
    const output = uniqueName('outage-out');
    await io.control.admin.createTopics([input, output, `${input}.dlq`].map((topic) => ({ topic, partitions: 1 })));
    // Encoded with a client that reaches the registry: the worker's own client has never seen the id.
    const direct = confluentRegistry({ url: services.registryUrl });
    const readings = avro<Reading>({ schema: READING });
    const values = await Promise.all(
      Array.from({ length: 10 }, (_, i) => readings.serialize({ sensor: `s${i % 3}`, value: i }, { topic: input, part: 'value', registry: direct }) as Promise<Buffer>),
    );
    const t = topology(uniqueName('outage'));
    t.stream(input, { name: 'readings', key: string(), value: avro<Reading>(), errors: 'dead-letter', retry: { initialMs: 200, maxMs: 1_000 } }).pipe(
      toTopic(output, { key: string(), value: json<Reading>() }),
    );
    const running = await runTopology(t, {
      transport: kafkaTransport({ brokers: services.kafkaBrokers, clientId: 'registry-outage' }),
      registry: confluentRegistry({ url: via.url }),
      metrics: createMetrics({ defaultMetrics: false }),
      logger: createLogger({ level: process.env.LOG_LEVEL ?? 'silent' }),
    });
    try {
      await waitFor('the stream is ready', () => running.readiness().ok, { timeoutMs: 60_000, detail: () => running.readiness() });
      await via.down();
      await io.produce(values.map((value, i) => ({ topic: input, key: Buffer.from(`k${i}`), value })));
      await waitFor('the batch is retried (registry unreachable)', () => running.status()[0]?.state === 'retrying', { timeoutMs: 60_000, detail: () => running.status() });
      assert.equal(running.status()[0]?.lastError?.code, 'TRB_CONNECT');
      await via.up();
      let out: Awaited<ReturnType<KafkaIo['read']>> = [];
      await waitFor('10 records delivered', async () => (out = await io.read(output)).length >= 10, { timeoutMs: 60_000, detail: () => out.length });
      assert.deepEqual(
        out.map((r) => JSON.parse(r.value?.toString() ?? 'null') as Reading).sort((a, b) => a.value - b.value),
        Array.from({ length: 10 }, (_, i) => ({ sensor: `s${i % 3}`, value: i })),
      );
      assert.equal((await io.read(`${input}.dlq`)).length, 0, 'nothing dead-lettered');
      assert.equal(running.health().ok, true);
    } finally {
      await running.stop();
    }
  });
});
