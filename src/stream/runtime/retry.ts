import type { RetryOptions } from '../policy.js';
import { systemClock, type Clock } from './clock.js';

/** Capped exponential backoff with ±20 % jitter, so replicas retrying one outage do not stampede. */
export function backoffMs(attempt: number, options: Required<Pick<RetryOptions, 'initialMs' | 'maxMs'>>, random: () => number = Math.random): number {
  const base = Math.min(options.maxMs, options.initialMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}

/** Sleeps `ms` on `clock`, waking early when `shouldStop` turns true (checked every 100 ms of real time) and calling `tick` meanwhile. */
export async function sleepWhile(ms: number, shouldStop: () => boolean, tick?: () => Promise<void>, clock: Clock = systemClock): Promise<void> {
  const until = clock.now() + ms;
  while (clock.now() < until && !shouldStop()) {
    await clock.until(until, 100);
    if (tick) await tick().catch(() => undefined);
  }
}
