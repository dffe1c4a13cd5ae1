/**
 * What one turn of the platformatic consumer's fetch loop asks for: the partitions with nothing
 * waiting, and the waiting batches to top up — within the fetch budget (`fetch-budget.ts`).
 *
 * A partition's next batch is fetched while the one before runs. When that fetch reached the end
 * of the log, records that arrive after it, still while the batch before runs, are added to the
 * waiting batch (a top-up) rather than left for the batch after it, where they waited for two
 * batches instead of one. Top-ups are paced (TOP_UP_WAIT_MS), stop once the waiting batch holds
 * `topUpLimit` records, and never happen while a partition catches up (its next batch is full
 * already, and memory stays what the fetch sizes say).
 *
 *   a free, b busy + waiting batch at the end fetched 12 ms ago, c the same 4 ms ago
 *     ─► fetch a, b; not held (a waits for its first record)       c is due in 6 ms
 *   b, c busy + waiting batches at the end, both due ─► fetch b, c; held (TOP_UP_WAIT_MS, minBytes = maxBytes)
 *   c only, due in 6 ms ─► nothing; wait 6 ms (or until a batch finishes)
 *   the budget full ─► nothing; wait 200 ms (or until a batch finishes)
 *   a free at the end of the log, d catching up (busy, a full batch waiting)
 *     ─► fetch a; held briefly (TOP_UP_WAIT_MS): d wants its next fetch once its batch is done
 *
 * The loop makes one Fetch at a time, so a fetch the broker holds for the consumer's max wait
 * (500 ms) for partitions at the end of the log also holds back every partition that becomes
 * ready meanwhile. A partition catching up becomes ready each time its batch finishes: measured
 * on bench/pass-through.ts, once the first partitions had caught up, the others stood idle
 * ~495 ms at a time (one round in two 1.5-2 × slower). So a fetch is held long only when nothing
 * outside it can become ready but new records. A brief hold that brought nothing while no batch
 * finished doubles the next one (`holdMs`), up to the max wait: a batch stuck in retries (the
 * store down) does not keep the loop polling every 10 ms.
 *
 *   brief holds in a row with no progress: 0, 1, 2, 3 … ─► held 10, 20, 40, 80 … 500 ms
 */
import { withinBudget, type BudgetedPartition } from './fetch-budget.js';

/**
 * Top-ups are paced: a partition is topped up at most once per this many milliseconds, and a fetch
 * made only of top-ups is held by the broker this long. Records trickling in are then taken in one
 * answer every few milliseconds, not one answer (and one Fetch) per record, as a 1-byte minimum
 * would give. A partition that became free during a held fetch waits for it, at most this long.
 */
export const TOP_UP_WAIT_MS = 10;

/** Longest wait when nothing can be fetched (a finished batch ends it sooner). */
const IDLE_WAIT_MS = 200;

/** What the plan reads of a partition's state. */
export interface FetchCandidate extends BudgetedPartition {
  /** Next offset to fetch; undefined until the position is known. */
  readonly fetchPosition?: bigint;
  /** The batch waiting for the one in flight, if any. */
  readonly prefetched?: { readonly messages: { readonly length: number } };
  readonly inFlight: boolean;
  /** Whether its last fetch reached the end of the log. */
  readonly atEnd: boolean;
  readonly revoked: boolean;
}

export interface FetchPlanOptions<P> {
  /** Records held now (being worked plus waiting). */
  readonly held: number;
  /** `maxBufferedRecords`. */
  readonly budget: number;
  /** Top-ups stop once a waiting batch holds this many records. */
  readonly topUpLimit: number;
  /** The pace of top-ups (TOP_UP_WAIT_MS, or the consumer's max wait when shorter). */
  readonly topUpWaitMs: number;
  readonly now: number;
  readonly paused: (p: P) => boolean;
}

export interface FetchPlan<P> {
  /** The partitions to fetch; none: wait `waitMs` (or until a batch finishes) and plan again. */
  readonly fetch: P[];
  /** Every partition fetched only tops up a waiting batch: the broker may hold the fetch until it has a full answer (minBytes). */
  readonly topUpsOnly: boolean;
  /**
   * The broker may hold the fetch no longer than the top-up pace, not the consumer's max wait: it
   * only tops up, or a partition left out of it (busy, not due, or over the budget) may be ready
   * to fetch before a long hold would end.
   */
  readonly holdBriefly: boolean;
  readonly waitMs: number;
}

/** Whether a partition's waiting batch takes what arrives while the batch before it runs: at the end of the log, and not full. */
export function topsUp(p: FetchCandidate, topUpLimit: number): boolean {
  return p.prefetched !== undefined && p.inFlight && p.atEnd && p.prefetched.messages.length < topUpLimit;
}

export function planFetch<P extends FetchCandidate>(states: readonly P[], options: FetchPlanOptions<P>): FetchPlan<P> {
  const { held, budget, topUpLimit, topUpWaitMs, now } = options;
  const fetchable = states.filter((p) => p.fetchPosition !== undefined && !options.paused(p) && !p.revoked && (!p.prefetched || topsUp(p, topUpLimit)));
  const due = (p: P) => !p.prefetched || now - p.lastFetchAt >= topUpWaitMs;
  const fetch = withinBudget(fetchable.filter(due), held, budget);
  if (fetch.length > 0) {
    const topUpsOnly = fetch.every((p) => p.prefetched !== undefined);
    const taken = new Set(fetch);
    const readySoon = (p: P) => !taken.has(p) && p.fetchPosition !== undefined && !options.paused(p) && !p.revoked && (p.inFlight || fetchable.includes(p));
    return { fetch, topUpsOnly, holdBriefly: topUpsOnly || states.some(readySoon), waitMs: 0 };
  }
  // Nothing due: the next top-up, when the budget has room for it.
  const nextTopUp = held < budget ? Math.min(...fetchable.filter((p) => !due(p)).map((p) => p.lastFetchAt + topUpWaitMs - now)) : Number.POSITIVE_INFINITY;
  return { fetch, topUpsOnly: false, holdBriefly: false, waitMs: Math.max(1, Math.min(IDLE_WAIT_MS, nextTopUp)) };
}

/** How long the broker may hold the planned fetch: `quietHolds` brief holds in a row brought no record and saw no batch finish. */
export function holdMs(plan: Pick<FetchPlan<unknown>, 'holdBriefly' | 'topUpsOnly'>, options: { readonly maxWaitMs: number; readonly topUpWaitMs: number; readonly quietHolds: number }): number {
  const { maxWaitMs, topUpWaitMs, quietHolds } = options;
  if (!plan.holdBriefly) return maxWaitMs;
  if (plan.topUpsOnly) return topUpWaitMs; // the top-up pace
  return Math.min(maxWaitMs, topUpWaitMs * 2 ** Math.min(quietHolds, 16));
}
