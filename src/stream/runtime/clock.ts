/**
 * Time as the runtime sees it: the wall clock in production, a virtual clock in tests (the
 * TestDriver's `clock` option), so a retry backoff or a timestamp written into a document can be
 * driven step by step instead of waited for.
 *
 *   const clock = virtualClock(Date.parse('2026-01-01T00:00:00Z'));
 *   clock.advance(30_000);   // a batch retrying with a 30 s backoff goes on now
 */

export interface Clock {
  /** Milliseconds since the epoch, on this clock. */
  now(): number;
  /**
   * Resolves once this clock reaches `at`, or after `pollMs` of real time, whichever comes first:
   * a waiter checks its stop condition (and heartbeats) between two calls, on any clock.
   */
  until(at: number, pollMs: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  until: (at, pollMs) => new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(pollMs, at - Date.now())))),
};

export interface VirtualClock extends Clock {
  /** Moves time forward by `ms`, waking every waiter whose moment has come. */
  advance(ms: number): void;
  /** Moves time to `at` (never backwards). */
  set(at: number): void;
}

export function virtualClock(start = 0): VirtualClock {
  let now = start;
  const waiters = new Set<{ at: number; wake: () => void }>();
  const wakeDue = () => {
    for (const w of waiters) if (w.at <= now) w.wake();
  };
  return {
    now: () => now,
    until(at, pollMs) {
      if (at <= now) return Promise.resolve();
      return new Promise((resolve) => {
        const waiter = {
          at,
          wake: () => {
            clearTimeout(timer);
            waiters.delete(waiter);
            resolve();
          },
        };
        const timer = setTimeout(waiter.wake, pollMs);
        waiters.add(waiter);
      });
    },
    advance(ms) {
      now += Math.max(0, ms);
      wakeDue();
    },
    set(at) {
      now = Math.max(now, at);
      wakeDue();
    },
  };
}
