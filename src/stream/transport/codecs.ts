/**
 * The record-batch compression codecs Kafka defines (attribute bits 0-2: none, gzip, snappy, lz4,
 * zstd), as synchronous Buffer → Buffer functions shared by both Kafka transports.
 *
 *   gzip    node:zlib
 *   snappy  @platformatic/wasm-utils (WASM); framed as the Java client frames it (xerial "SNAPPY"
 *           stream: a 16-byte header, then [int32 length][raw snappy block] chunks of ≤ 32 KiB);
 *           both framed and raw input are read
 *   lz4     @platformatic/wasm-utils (WASM), the LZ4 frame format with independent blocks (what
 *           Kafka's KafkaLZ4BlockOutputStream writes and requires)
 *   zstd    node:zlib where Node has it (22.15+, 24), else @bokuweb/zstd-wasm (WASM), loaded once
 *           by `loadCodecs()`
 *
 * Nothing here downloads or builds at install time: both packages ship their .wasm file.
 */
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import { lz4Compress, lz4Decompress, snappyCompress, snappyDecompress } from '@platformatic/wasm-utils';
import { TributaryError } from '../../errors.js';

export const COMPRESSIONS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
export type Compression = (typeof COMPRESSIONS)[number];

/** Kafka's codec id for each compression (record batch attributes & 0x07). */
export const COMPRESSION_IDS: Readonly<Record<Compression, number>> = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 };

export interface Codec {
  compress(data: Buffer): Buffer;
  decompress(data: Buffer): Buffer;
}

/** Throws TRB_CONFIG naming the accepted values unless `value` is a compression. */
export function parseCompression(value: string | undefined, setting = 'compression'): Compression {
  if (value === undefined) return 'none';
  if ((COMPRESSIONS as readonly string[]).includes(value)) return value as Compression;
  throw new TributaryError('TRB_CONFIG', `invalid ${setting}=${JSON.stringify(value)}: expected one of ${COMPRESSIONS.join(', ')}`);
}

// ── snappy ────────────────────────────────────────────────────────────────────────────────────
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]); // \x82SNAPPY\0
const XERIAL_HEADER_BYTES = 16; // magic, int32 version (1), int32 minimum compatible version (1)
const XERIAL_CHUNK_BYTES = 32 * 1024; // the Java client's block size

function isXerialFramed(data: Buffer): boolean {
  return data.length >= XERIAL_HEADER_BYTES && data.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC);
}

export const snappy: Codec = {
  compress(data) {
    const parts: Buffer[] = [Buffer.concat([XERIAL_MAGIC, Buffer.from([0, 0, 0, 1, 0, 0, 0, 1])])];
    for (let at = 0; at < data.length; at += XERIAL_CHUNK_BYTES) {
      const block = snappyCompress(data.subarray(at, Math.min(data.length, at + XERIAL_CHUNK_BYTES)));
      const length = Buffer.allocUnsafe(4);
      length.writeUInt32BE(block.length);
      parts.push(length, block);
    }
    return Buffer.concat(parts);
  },
  decompress(data) {
    if (!isXerialFramed(data)) return snappyDecompress(data);
    const parts: Buffer[] = [];
    for (let at = XERIAL_HEADER_BYTES; at < data.length; ) {
      if (at + 4 > data.length) throw new Error('snappy: truncated chunk length in a framed stream');
      const length = data.readUInt32BE(at);
      at += 4;
      if (at + length > data.length) throw new Error('snappy: truncated chunk in a framed stream');
      parts.push(snappyDecompress(data.subarray(at, at + length)));
      at += length;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  },
};

// ── lz4 ───────────────────────────────────────────────────────────────────────────────────────
export const lz4: Codec = {
  compress: (data) => lz4Compress(data),
  decompress: (data) => lz4Decompress(data),
};

// ── zstd ──────────────────────────────────────────────────────────────────────────────────────
interface NodeZstd {
  zstdCompressSync?: (data: Buffer) => Buffer;
  zstdDecompressSync?: (data: Buffer) => Buffer;
}
const nodeZstd = zlib as unknown as NodeZstd;

/** True when this Node has zstd in node:zlib (22.15+, 24): no WASM needed. */
export const nativeZstd = typeof nodeZstd.zstdCompressSync === 'function' && typeof nodeZstd.zstdDecompressSync === 'function';

interface ZstdWasm {
  init(): Promise<void>;
  compress(data: Uint8Array, level?: number): Uint8Array;
  decompress(data: Uint8Array, options?: { defaultHeapSize?: number }): Uint8Array;
}

let wasmZstd: ZstdWasm | undefined;

/** Frames written by a streaming compressor (the Java client's) do not state their size: grow the output until it fits. */
function wasmDecompress(z: ZstdWasm, data: Buffer): Buffer {
  for (let heap = 4 << 20; ; heap *= 4) {
    try {
      const out = z.decompress(data, { defaultHeapSize: heap });
      return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
    } catch (error) {
      if (heap >= 256 << 20) throw error;
    }
  }
}

export const zstd: Codec = {
  compress(data) {
    if (nativeZstd) return nodeZstd.zstdCompressSync!(data);
    const out = requireWasmZstd().compress(data, 3);
    return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  },
  decompress(data) {
    if (nativeZstd) return nodeZstd.zstdDecompressSync!(data);
    return wasmDecompress(requireWasmZstd(), data);
  },
};

function requireWasmZstd(): ZstdWasm {
  if (!wasmZstd) throw new TributaryError('TRB_CONFIG', 'zstd: the WASM codec is not loaded (call loadCodecs() first)', { retriable: false });
  return wasmZstd;
}

let loading: Promise<void> | undefined;

/** Readies every codec (on Node without zstd in node:zlib: loads the zstd WASM once). */
export function loadCodecs(): Promise<void> {
  loading ??= (async () => {
    if (nativeZstd) return;
    const require = createRequire(import.meta.url);
    const z = require('@bokuweb/zstd-wasm') as ZstdWasm;
    await z.init();
    wasmZstd = z;
  })();
  return loading;
}

export const CODECS: Readonly<Record<Exclude<Compression, 'none'>, Codec>> = {
  gzip: { compress: (data) => zlib.gzipSync(data), decompress: (data) => zlib.gunzipSync(data) },
  snappy,
  lz4,
  zstd,
};
