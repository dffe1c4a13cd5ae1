/**
 * Registers Snappy, LZ4 and ZSTD in kafkajs' codec registry (`CompressionCodecs`), which ships with
 * gzip only: without them kafkajs fails every fetch of a batch a Java producer (Debezium, Connect)
 * wrote with `compression.type=snappy|lz4|zstd` (KafkaJSNotImplemented). The codecs themselves are
 * shared with the other transport (../codecs.ts). Registering is global to the kafkajs module and
 * idempotent.
 */
import kafkajs from 'kafkajs';
import { CODECS, loadCodecs, type Codec } from '../codecs.js';

/** What kafkajs calls: compress gets its Encoder (the bytes are `.buffer`), decompress the raw bytes. */
function kafkajsCodec(codec: Codec) {
  return () => ({
    async compress(encoder: { buffer: Buffer }): Promise<Buffer> {
      await loadCodecs();
      return codec.compress(encoder.buffer);
    },
    async decompress(buffer: Buffer): Promise<Buffer> {
      await loadCodecs();
      return codec.decompress(buffer);
    },
  });
}

let registered = false;

export function registerKafkajsCodecs(): void {
  if (registered) return;
  registered = true;
  // kafkajs is CommonJS: its registry is a property of the default export, not a named ESM export.
  const { CompressionCodecs, CompressionTypes } = kafkajs;
  CompressionCodecs[CompressionTypes.Snappy] = kafkajsCodec(CODECS.snappy);
  CompressionCodecs[CompressionTypes.LZ4] = kafkajsCodec(CODECS.lz4);
  CompressionCodecs[CompressionTypes.ZSTD] = kafkajsCodec(CODECS.zstd);
}
