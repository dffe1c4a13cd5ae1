/**
 * How many records a consumer holds at once (fetched ahead plus being worked), bounded: a worker
 * catching up on a backlog would otherwise hold one or two whole fetches for every partition it owns
 * (1 MiB each: 18 partitions held ~130 000 decoded records, most of a 500 MiB RSS).
 *
 *   ready partitions, least recently fetched first ─► taken while held + their expected records < budget
 *
 *   held 0,     budget 2 000, ready a(≈800) b(≈800) c(≈800)  ─►  a, b   (a fetch is at least one partition)
 *   held 1 800, budget 2 000, ready a(≈800)                  ─►  a
 *   held 2 000                                               ─►  none: wait for a batch to finish
 *
 * A partition's expected records are what its last fetch brought (0 when it is caught up, so a tailing
 * consumer still fetches every partition at once), or a quarter of the budget before its first fetch.
 */

/**
 * Records a stream's consumer holds at once (fetched ahead plus being worked) when
 * `maxBufferedRecords` does not say: a few batches (`maxBatchRecords`, 500) per stream. Records
 * waiting here outlive young-generation collections and are promoted; 10 000 held no faster a
 * backlog's catch-up and took more memory (docs/operations.md#memory).
 */
export const DEFAULT_MAX_BUFFERED_RECORDS = 2_000;

/**
 * Bytes fetched per partition when `maxBytesPerPartition` does not say: about one batch of
 * ordinary records (500 of ~500 bytes). More arrives only to wait for the batches before it; a
 * partition always returns at least one whole record batch, however large.
 */
export const DEFAULT_MAX_BYTES_PER_PARTITION = 262_144;

export interface BudgetedPartition {
  /** Records its last fetch brought; undefined before its first. */
  readonly lastFetched?: number;
  /** When it was last fetched (any monotonic clock). */
  readonly lastFetchAt: number;
}

export function withinBudget<P extends BudgetedPartition>(ready: readonly P[], held: number, budget: number): P[] {
  if (held >= budget) return [];
  const taken: P[] = [];
  let expected = held;
  for (const p of [...ready].sort((a, b) => a.lastFetchAt - b.lastFetchAt)) {
    const records = p.lastFetched ?? Math.ceil(budget / 4);
    if (taken.length > 0 && expected + records > budget) continue;
    taken.push(p);
    expected += records;
  }
  return taken;
}
