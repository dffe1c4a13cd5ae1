/**
 * Security against the real services: the broker of scripts/infra has SASL (PLAIN, SCRAM-SHA-256,
 * SCRAM-SHA-512) on 9094 and SASL over TLS on 9095 with a self-signed certificate; the registry has no
 * auth of its own, so a basic-auth proxy stands in front of the real one.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { loadConfig } from '../../src/cli/config.js';
import { kafkaSecurityOptions } from '../../src/cli/config/security.js';
import { isTributaryError } from '../../src/errors.js';
import { confluentRegistry } from '../../src/stream/serdes/registry.js';
import { kafkaTransport } from '../../src/stream/transport/kafka/kafka-transport.js';
import type { RawBatch } from '../../src/stream/transport/types.js';
import { services, uniqueName } from './services.js';
import { waitFor } from '../contract/helpers.js';

function required(name: string): string {
  const value = process.env[name];
  assert.ok(value, `${name} is not set: run the integration tests through npm test (scripts/infra env exports it)`);
  return value;
}

const user = () => required('KAFKA_TEST_USER');
const password = () => required('KAFKA_TEST_PASSWORD');

/** Produces 5 records and reads them back through a transport built from `env` as `tributary run` builds it. */
async function roundTrip(env: Record<string, string>): Promise<string[]> {
  const config = loadConfig(env);
  const transport = kafkaTransport({ brokers: config.kafkaBrokers, connectionTimeoutMs: 5_000, ...kafkaSecurityOptions(config.kafka.security) });
  const topic = uniqueName('sec');
  await transport.connect();
  try {
    await transport.admin.createTopics([{ topic, partitions: 1 }]);
    const producer = await transport.producer();
    await producer.send(Array.from({ length: 5 }, (_, i) => ({ topic, key: Buffer.from(`k${i}`), value: Buffer.from(`v${i}`) })));
    await producer.disconnect();
    const seen: string[] = [];
    const consumer = transport.consumer({ groupId: uniqueName('sec-g'), topics: [topic] });
    await consumer.run({
      onBatch: async (batch: RawBatch) => {
        for (const m of batch.messages) seen.push(m.value?.toString() ?? '');
        return { commit: { topic, partition: batch.partition, offset: (BigInt(batch.messages.at(-1)!.offset) + 1n).toString() } };
      },
    });
    await waitFor('5 records back', () => seen.length >= 5);
    await consumer.stop();
    return seen;
  } finally {
    await transport.disconnect();
  }
}

describe('Kafka SASL and TLS (real broker)', () => {
  for (const mechanism of ['plain', 'scram-sha-256', 'scram-sha-512']) {
    it(`SASL ${mechanism} over plaintext produces and consumes`, async () => {
      const seen = await roundTrip({ KAFKA_BROKERS: required('KAFKA_TEST_SASL_BROKERS'), KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: user(), KAFKA_SASL_PASSWORD: password() });
      assert.deepEqual(seen, ['v0', 'v1', 'v2', 'v3', 'v4']);
    });
    it(`SASL ${mechanism} over TLS (CA file, hostname checked) produces and consumes`, async () => {
      const seen = await roundTrip({
        KAFKA_BROKERS: required('KAFKA_TEST_SASL_SSL_BROKERS'),
        KAFKA_TLS_CA_FILE: required('KAFKA_TEST_CA_FILE'),
        KAFKA_SASL_MECHANISM: mechanism,
        KAFKA_SASL_USERNAME: user(),
        KAFKA_SASL_PASSWORD: password(),
      });
      assert.deepEqual(seen, ['v0', 'v1', 'v2', 'v3', 'v4']);
    });
  }

  it('a wrong password is TRB_AUTH, not retriable, and its message does not carry the password', async () => {
    const config = loadConfig({ KAFKA_BROKERS: required('KAFKA_TEST_SASL_BROKERS'), KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: user(), KAFKA_SASL_PASSWORD: 'wrong-password-123' });
    const transport = kafkaTransport({ brokers: config.kafkaBrokers, connectionTimeoutMs: 5_000, ...kafkaSecurityOptions(config.kafka.security) });
    await assert.rejects(transport.connect(), (error: unknown) => {
      assert.ok(isTributaryError(error), String(error));
      assert.equal(error.code, 'TRB_AUTH');
      assert.equal(error.retriable, false);
      assert.ok(!error.message.includes('wrong-password-123'), error.message);
      return true;
    });
    await transport.disconnect();
  });

  it('TLS without the CA is refused (the self-signed certificate is not trusted by default)', async () => {
    const config = loadConfig({ KAFKA_BROKERS: required('KAFKA_TEST_SASL_SSL_BROKERS'), KAFKA_TLS: 'true', KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: user(), KAFKA_SASL_PASSWORD: password() });
    const transport = kafkaTransport({ brokers: config.kafkaBrokers, connectionTimeoutMs: 3_000, ...kafkaSecurityOptions(config.kafka.security) });
    await assert.rejects(transport.connect(), (error: unknown) => isTributaryError(error) && error.code === 'TRB_CONNECT' && /certificate/i.test(error.message));
    await transport.disconnect();
  });
});

/** A reverse proxy to the real registry that demands HTTP basic auth; records the Authorization headers it saw. */
async function basicAuthProxy(target: string, username: string, pass: string): Promise<{ url: string; seen: string[]; close(): Promise<void> }> {
  const upstream = new URL(target);
  const expected = `Basic ${Buffer.from(`${username}:${pass}`).toString('base64')}`;
  const seen: string[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    seen.push(req.headers.authorization ?? '');
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Basic realm="registry"' });
      res.end(JSON.stringify({ error_code: 401, message: 'Unauthorized' }));
      return;
    }
    const { authorization: _drop, host: _host, ...headers } = req.headers;
    const forward = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    forward.on('error', (error) => (res.writeHead(502), res.end(String(error))));
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}${upstream.pathname}`, seen, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('schema registry basic auth (real registry behind an auth proxy)', () => {
  it('registers and resolves a schema with credentials from the environment or the URL; refuses wrong ones with TRB_AUTH', async () => {
    const proxy = await basicAuthProxy(services.registryUrl, 'reg-key', 'reg-s3cret');
    try {
      const schema = { type: 'record' as const, name: 'Sec', fields: [{ name: 'id', type: 'string' as const }] };
      const subject = uniqueName('sec-subject');
      const viaEnv = loadConfig({ SCHEMA_REGISTRY_URL: proxy.url, SCHEMA_REGISTRY_USERNAME: 'reg-key', SCHEMA_REGISTRY_PASSWORD: 'reg-s3cret' });
      const registry = confluentRegistry({ url: viaEnv.registryUrl!, ...(viaEnv.registry?.auth ? { auth: viaEnv.registry?.auth } : {}) });
      const id = await registry.register(subject, schema);
      const codec = await registry.codec(id);
      assert.deepEqual({ ...(codec.fromBuffer(codec.toBuffer({ id: 'x' })) as object) }, { id: 'x' });

      const viaUrl = loadConfig({ SCHEMA_REGISTRY_URL: proxy.url.replace('http://', 'http://reg-key:reg-s3cret@') });
      assert.equal(viaUrl.registryUrl, proxy.url);
      const fromUrl = confluentRegistry({ url: viaUrl.registryUrl!, ...(viaUrl.registry?.auth ? { auth: viaUrl.registry?.auth } : {}) });
      assert.equal(await fromUrl.latestId(subject), id);

      const wrong = confluentRegistry({ url: proxy.url, auth: { username: 'reg-key', password: 'nope-nope' } });
      await assert.rejects(wrong.latestId(subject), (error: unknown) => isTributaryError(error) && error.code === 'TRB_AUTH' && error.retriable === false);
      assert.ok(proxy.seen.some((h) => h.startsWith('Basic ')));
    } finally {
      await proxy.close();
    }
  });
});
