/**
 * Kafka's default partitioner hash (murmur2, as in the Java client and kafkajs), so a key lands on
 * the same partition number in the embedded broker as on a real cluster, and the platformatic
 * producer places keys with it: 32-bit integer arithmetic (Math.imul), where the library's own
 * murmur2 allocates a BigInt per four bytes (~30x slower, 6 % of the ingest stage's allocations).
 */
export function murmur2(data: Buffer): number {
  const seed = 0x9747b28c;
  const m = 0x5bd1e995;
  const r = 24;
  const length = data.length;
  let h = seed ^ length;
  const length4 = Math.floor(length / 4);
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = (data[i4]! & 0xff) + ((data[i4 + 1]! & 0xff) << 8) + ((data[i4 + 2]! & 0xff) << 16) + ((data[i4 + 3]! & 0xff) << 24);
    k = Math.imul(k, m);
    k ^= k >>> r;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  const tail = length % 4;
  const base = length - tail;
  if (tail === 3) h ^= (data[base + 2]! & 0xff) << 16;
  if (tail >= 2) h ^= (data[base + 1]! & 0xff) << 8;
  if (tail >= 1) {
    h ^= data[base]! & 0xff;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** A key's non-negative hash, which the Java client (and kafkajs) take modulo the partition count. */
export function keyHash(key: Buffer): number {
  return murmur2(key) & 0x7fffffff;
}

export function partitionFor(key: Buffer | null, partitions: number, roundRobin: () => number): number {
  if (key === null) return roundRobin() % partitions;
  return keyHash(key) % partitions;
}
