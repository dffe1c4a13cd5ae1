/**
 * Which records of a failed @platformatic/kafka send the broker acknowledged. The library sends one
 * request per leader and, when one fails, rejects with every error while `error.produced.offsets`
 * lists the partitions the other requests wrote. A record's partition is the partitioner's choice
 * (or its own `partition`) modulo the topic's partition count, as the library computes it.
 *
 *   sent [a t/0, b t/1, c t/2], produced.offsets [t/0, t/2]  ─►  {0, 2}
 */

/** What a failed send reports as written (`error.produced.offsets`; absent when nothing was). */
export function producedPartitions(error: unknown): ReadonlySet<string> {
  const offsets = typeof error === 'object' && error !== null ? (error as { produced?: { offsets?: unknown } }).produced?.offsets : undefined;
  const written = new Set<string>();
  if (!Array.isArray(offsets)) return written;
  for (const o of offsets as Array<{ topic?: unknown; partition?: unknown }>) {
    if (typeof o.topic === 'string' && typeof o.partition === 'number') written.add(`${o.topic}/${o.partition}`);
  }
  return written;
}

/**
 * Indices of `sent` whose partition is in `written`: `placedAt(i)` is the record's partition before
 * the modulo, `partitionsOf(topic)` the topic's partition count (undefined: unknown, not counted).
 */
export function acknowledgedIndices(sent: ReadonlyArray<{ readonly topic: string }>, written: ReadonlySet<string>, placedAt: (index: number) => number | undefined, partitionsOf: (topic: string) => number | undefined): Set<number> {
  const acknowledged = new Set<number>();
  if (written.size === 0) return acknowledged;
  sent.forEach((message, i) => {
    const placed = placedAt(i);
    const count = partitionsOf(message.topic);
    if (placed !== undefined && count !== undefined && count > 0 && written.has(`${message.topic}/${placed % count}`)) acknowledged.add(i);
  });
  return acknowledged;
}
