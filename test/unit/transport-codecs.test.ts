/**
 * The compression codecs (src/stream/transport/codecs.ts) without a broker: every codec round-trips
 * small, empty and multi-chunk inputs; snappy writes and reads the Java client's framing and reads
 * raw blocks; lz4 writes the frame flags Kafka's Java reader requires; and kafkajs, with the codecs
 * registered, encodes and decodes whole record batches in every compression. (Records written by the
 * real Java producer: test/integration/transport-compression.test.ts.)
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { snappyCompress } from '@platformatic/wasm-utils';
import { CODECS, COMPRESSION_IDS, loadCodecs, parseCompression, snappy, type Compression } from '../../src/stream/transport/codecs.js';
import { registerKafkajsCodecs } from '../../src/stream/transport/kafka/codecs.js';
import { isTributaryError } from '../../src/errors.js';

const require = createRequire(import.meta.url);

/** Mixed, partly compressible bytes (a fixed seed, so failures reproduce). */
function sample(size: number): Buffer {
  const out = Buffer.alloc(size);
  let seed = 42;
  for (let i = 0; i < size; i++) {
    seed = (seed * 1_103_515_245 + 12_345) >>> 0;
    out[i] = i % 3 === 0 ? seed >>> 24 : 0x61 + (i % 17);
  }
  return out;
}

describe('compression codecs', () => {
  it('every codec round-trips empty, small and large (multi-chunk) inputs', async () => {
    await loadCodecs();
    for (const [name, codec] of Object.entries(CODECS)) {
      for (const size of [0, 1, 1_000, 100_000, 3_000_000]) {
        const data = sample(size);
        const packed = codec.compress(data);
        assert.ok(Buffer.isBuffer(packed), `${name}: compress returns a Buffer`);
        assert.ok(codec.decompress(packed).equals(data), `${name}: ${size} bytes round-trip`);
      }
    }
  });

  it('snappy writes the Java client\'s framing (\\x82SNAPPY\\0, version 1, ≤ 32 KiB chunks) and reads it back', () => {
    const data = sample(100_000);
    const packed = snappy.compress(data);
    assert.deepEqual([...packed.subarray(0, 16)], [0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0, 0, 0, 0, 1, 0, 0, 0, 1]);
    let chunks = 0;
    for (let at = 16; at < packed.length; chunks++) at += 4 + packed.readUInt32BE(at);
    assert.equal(chunks, Math.ceil(100_000 / 32_768), 'one chunk per 32 KiB of input');
    assert.ok(snappy.decompress(packed).equals(data));
  });

  it('snappy reads a raw (unframed) block too, as other clients write it', () => {
    const data = sample(10_000);
    assert.ok(snappy.decompress(snappyCompress(data)).equals(data));
  });

  it('snappy refuses a truncated framed stream instead of returning short data', () => {
    const packed = snappy.compress(sample(50_000));
    assert.throws(() => snappy.decompress(packed.subarray(0, packed.length - 10)), /truncated/);
  });

  it('lz4 writes an LZ4 frame with independent blocks (Kafka\'s Java reader refuses dependent ones)', () => {
    const packed = CODECS.lz4.compress(sample(10_000));
    assert.equal(packed.readUInt32LE(0), 0x184d2204, 'LZ4 frame magic');
    const flags = packed[4]!;
    assert.equal(flags >> 6, 1, 'frame version 01');
    assert.equal((flags >> 5) & 1, 1, 'block independence flag set');
  });

  it('parseCompression accepts the five names and names them when refusing', () => {
    for (const name of ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const) assert.equal(parseCompression(name), name);
    assert.equal(parseCompression(undefined), 'none');
    assert.throws(() => parseCompression('brotli', 'KAFKA_COMPRESSION'), (error) => isTributaryError(error) && error.code === 'TRB_CONFIG' && /KAFKA_COMPRESSION.*none, gzip, snappy, lz4, zstd/.test(error.message));
  });

  it('kafkajs encodes and decodes record batches in every compression once the codecs are registered', async () => {
    registerKafkajsCodecs();
    const { RecordBatch: encodeBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as { RecordBatch: (args: Record<string, unknown>) => Promise<{ buffer: Buffer }> };
    const encodeRecord = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (args: Record<string, unknown>) => unknown;
    const decodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (decoder: unknown) => Promise<{ records: Array<{ key: Buffer; value: Buffer; headers: Record<string, Buffer> }> }>;
    const Decoder = require('kafkajs/src/protocol/decoder.js') as new (buffer: Buffer) => unknown;
    for (const name of ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as Compression[]) {
      const records = Array.from({ length: 50 }, (_, i) => encodeRecord({ offsetDelta: i, key: Buffer.from(`k${i}`), value: sample(500 + i), headers: { h: `v${i}` } }));
      const body = await encodeBatch({ compression: COMPRESSION_IDS[name], records, lastOffsetDelta: 49 });
      // As on the wire: first offset (int64), length (int32), the batch.
      const decoded = await decodeBatch(new Decoder(body.buffer));
      assert.equal(decoded.records.length, 50, `${name}: 50 records`);
      decoded.records.forEach((r, i) => {
        assert.equal(r.key.toString(), `k${i}`);
        assert.ok(r.value.equals(sample(500 + i)), `${name}: value ${i} intact`);
        assert.equal(r.headers['h']?.toString(), `v${i}`);
      });
    }
  });
});
