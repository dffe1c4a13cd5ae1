/**
 * Compressed topics against the real Java client of the Kafka distribution scripts/infra installs
 * (`~/.cache/tributary/kafka-<version>/lib`, or KAFKA_LIB_DIR): for each of gzip, snappy, lz4 and
 * zstd, the Java producer writes records with that `compression.type` and the transport must hand
 * every one over intact; then the transport's own producer writes with that compression and the
 * Java consumer must read every record back. Run by test/integration/transport-compression.test.ts
 * for both Kafka transports.
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Compression } from '../../src/stream/transport/codecs.js';
import type { RawMessage, Transport } from '../../src/stream/transport/types.js';
import { services, uniqueName } from '../integration/services.js';
import { cleanups, waitFor } from './helpers.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CODECS = ['gzip', 'snappy', 'lz4', 'zstd'] as const satisfies readonly Compression[];
const COUNT = 500;

/** The broker jars scripts/infra resolved (its KAFKA_VERSION), which hold the Java client and its codecs. */
export function kafkaLibDir(): string {
  if (process.env['KAFKA_LIB_DIR']) return process.env['KAFKA_LIB_DIR'];
  const infra = readFileSync(path.join(ROOT, 'scripts', 'infra'), 'utf8');
  const version = /^KAFKA_VERSION=(\S+)/m.exec(infra)?.[1];
  assert.ok(version, 'scripts/infra names KAFKA_VERSION');
  const cache = process.env['TRIBUTARY_CACHE_DIR'] ?? path.join(process.env['XDG_CACHE_HOME'] ?? path.join(os.homedir(), '.cache'), 'tributary');
  return path.join(cache, `kafka-${version}`, 'lib');
}

/** Compiles fixtures/JavaClient.java once; returns how to run it. */
function javaClient(): (args: readonly string[]) => string {
  const lib = kafkaLibDir();
  assert.ok(existsSync(path.join(lib, '.complete')), `the Kafka jars are not at ${lib}: run scripts/infra up kafka (or set KAFKA_LIB_DIR)`);
  const classes = mkdtempSync(path.join(os.tmpdir(), 'tributary-java-client-'));
  const classpath = `${lib}/*`;
  execFileSync('javac', ['-cp', classpath, '-d', classes, path.join(ROOT, 'test', 'integration', 'fixtures', 'JavaClient.java')], { stdio: 'inherit' });
  return (args) => execFileSync('java', ['-Xmx256m', '-XX:TieredStopAtLevel=1', '-cp', `${classes}${path.delimiter}${classpath}`, 'JavaClient', ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
}

export function compressionContract(name: string, makeTransport: (compression: Compression) => Transport): void {
  describe(`compressed topics, Java client ⇄ ${name}`, () => {
    let java: (args: readonly string[]) => string;
    before(() => {
      java = javaClient();
    });
    const bootstrap = services.kafkaBrokers.join(',');

    for (const codec of CODECS) {
      it(`reads every record the Java producer wrote with compression.type=${codec}`, async (t) => {
        const defer = cleanups(t);
        const transport = makeTransport('none');
        defer(() => transport.disconnect());
        await transport.connect();
        const topic = uniqueName(`tc-java-${codec}`);
        await transport.admin.createTopics([{ topic, partitions: 2 }]);
        java(['produce', bootstrap, topic, codec, String(COUNT)]);

        const received: RawMessage[] = [];
        const consumer = transport.consumer({ groupId: uniqueName(`g-java-${codec}`), topics: [topic], sessionTimeoutMs: 10_000, heartbeatIntervalMs: 500 });
        defer(() => consumer.stop());
        const crashes: Error[] = [];
        await consumer.run({
          async onBatch(batch) {
            received.push(...batch.messages);
            const last = batch.messages.at(-1)!;
            return { commit: { topic, partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() } };
          },
          onCrash: (error) => void crashes.push(error),
        });
        await waitFor(`${COUNT} ${codec} records`, () => received.length >= COUNT || crashes.length > 0, { timeoutMs: 60_000, detail: () => ({ received: received.length, crashes: crashes.map((c) => c.message) }) });
        assert.deepEqual(crashes, [], 'no decode failure');
        const byIndex = new Map(received.map((m) => [Number(m.headers['n']?.toString()), m]));
        assert.equal(byIndex.size, COUNT, 'every record once');
        for (let i = 0; i < COUNT; i++) {
          const m = byIndex.get(i);
          assert.ok(m, `record ${i} received`);
          assert.equal(m.key?.toString(), `k${i}`);
          assert.equal(m.value?.toString(), `${codec}-${i}-${'x'.repeat(300)}`);
        }
      });

      it(`writes ${codec} that the Java consumer reads`, async (t) => {
        const defer = cleanups(t);
        const transport = makeTransport(codec);
        defer(() => transport.disconnect());
        await transport.connect();
        const topic = uniqueName(`tc-to-java-${codec}`);
        await transport.admin.createTopics([{ topic, partitions: 1 }]);
        const producer = await transport.producer({ idempotent: true });
        defer(() => producer.disconnect());
        await producer.send(Array.from({ length: COUNT }, (_, i) => ({ topic, key: Buffer.from(`k${i}`), value: Buffer.from(`ours-${codec}-${i}`), headers: { n: String(i) } })));
        const lines = java(['consume', bootstrap, topic, String(COUNT)]).trim().split('\n');
        assert.equal(lines.length, COUNT, 'the Java consumer read every record');
        assert.deepEqual(lines, Array.from({ length: COUNT }, (_, i) => `k${i}\tours-${codec}-${i}\t${i}`));
      });
    }
  });
}
