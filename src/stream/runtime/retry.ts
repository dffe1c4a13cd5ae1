import type { RetryOptions } from '../topology.js';

/** Capped exponential backoff with ±20 % jitter, so replicas retrying one outage do not stampede. */
export function backoffMs(attempt: number, options: Required<Pick<RetryOptions, 'initialMs' | 'maxMs'>>, random: () => number = Math.random): number {
  const base = Math.min(options.maxMs, options.initialMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}

/** Sleeps, waking early when `shouldStop` turns true (checked every 100 ms) and calling `tick` meanwhile. */
export async function sleepWhile(ms: number, shouldStop: () => boolean, tick?: () => Promise<void>): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until && !shouldStop()) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(100, until - Date.now())));
    if (tick) await tick().catch(() => undefined);
  }
}
