/**
 * How many records a consumer holds at once (fetched ahead plus being worked), bounded: a worker
 * catching up on a backlog would otherwise hold one or two whole fetches for every partition it owns
 * (1 MiB each: 18 partitions held ~130 000 decoded records, most of a 500 MiB RSS).
 *
 *   ready partitions, least recently fetched first ─► taken while held + their expected records < budget
 *
 *   held 0,     budget 10 000, ready a(≈4 000) b(≈4 000) c(≈4 000)  ─►  a, b   (a fetch is at least one partition)
 *   held 9 000, budget 10 000, ready a(≈4 000)                      ─►  a
 *   held 10 000                                                     ─►  none: wait for a batch to finish
 *
 * A partition's expected records are what its last fetch brought (0 when it is caught up, so a tailing
 * consumer still fetches every partition at once), or a quarter of the budget before its first fetch.
 */
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
