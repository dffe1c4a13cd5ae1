/**
 * A rate limit for bulk work: `take(n)` waits until n more units fit under `perSecond`, measured
 * from the start (so a slow batch earns no burst later beyond one batch). 0 = no limit.
 *
 *   pacer(100).take(50)  --> resolves at once, then the next take(50) waits until 0.5 s have passed
 */
export interface Pacer {
  take(units: number): Promise<void>;
}

export interface PacerClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const realClock: PacerClock = { now: () => performance.now(), sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) };

export function pacer(perSecond: number, clock: PacerClock = realClock): Pacer {
  let next: number | undefined; // when the next unit may start, in clock ms
  return {
    async take(units) {
      if (perSecond <= 0 || units <= 0) return;
      const now = clock.now();
      const start = next === undefined || next < now ? now : next;
      next = start + (units * 1000) / perSecond;
      if (start > now) await clock.sleep(start - now);
    },
  };
}
