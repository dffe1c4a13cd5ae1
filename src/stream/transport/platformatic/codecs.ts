/**
 * Fills two gaps of @platformatic/kafka's codec table (`compressionsAlgorithms`, exported by the
 * library): its snappy reads raw blocks only, not the framed stream the Java client writes
 * (`\x82SNAPPY\0` + chunks), so every Java-snappy topic failed to decode; and its zstd needs
 * node:zlib's zstd (Node 22.15+), so on Node 20 zstd was missing. Both take the shared codecs
 * (../codecs.ts), which read raw and framed snappy and carry a WASM zstd. Idempotent; call after
 * `loadCodecs()` resolved.
 */
import { compressionsAlgorithms } from '@platformatic/kafka';
import { CODECS } from '../codecs.js';

type Data = Parameters<(typeof compressionsAlgorithms)['snappy']['compressSync']>[0];
const bytes = (data: Data): Buffer => (Buffer.isBuffer(data) ? data : (data as { buffer: Buffer }).buffer);

let patched = false;

export function patchPlatformaticCodecs(): void {
  if (patched) return;
  patched = true;
  const table = compressionsAlgorithms as unknown as Record<'snappy' | 'zstd', { compressSync(d: Data): Buffer; decompressSync(d: Data): Buffer; available: boolean }>;
  table.snappy.compressSync = (data) => CODECS.snappy.compress(bytes(data));
  table.snappy.decompressSync = (data) => CODECS.snappy.decompress(bytes(data));
  table.zstd.compressSync = (data) => CODECS.zstd.compress(bytes(data));
  table.zstd.decompressSync = (data) => CODECS.zstd.decompress(bytes(data));
  table.zstd.available = true;
}
