/**
 * Graceful shutdown: the first SIGTERM/SIGINT stops fetching, drains in-flight batches, commits
 * and disconnects; a second signal exits at once (exit code 130) for an operator who will not wait.
 */
import type { Logger } from '../../ops/logger.js';

export interface Stoppable {
  stop(): Promise<void>;
}

export interface SignalOptions {
  readonly signals?: readonly NodeJS.Signals[];
  readonly logger?: Logger;
  /** Called after a graceful stop (default: process.exit(0)). */
  readonly onStopped?: () => void;
  /** What the graceful stop does, for the log line of the first signal (default 'draining and committing'). */
  readonly stopping?: string;
}

/** Installs the handlers; returns a function that removes them. */
export function stopOnSignals(target: Stoppable, options: SignalOptions = {}): () => void {
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      options.logger?.warn({ signal }, 'second signal: exiting without draining');
      process.exit(130);
    }
    stopping = true;
    options.logger?.info({ signal }, `signal received: ${options.stopping ?? 'draining and committing'} (send it again to force exit)`);
    target.stop().then(
      () => (options.onStopped ?? (() => process.exit(0)))(),
      (error: unknown) => {
        options.logger?.error({ err: error }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  for (const s of signals) process.on(s, handler);
  return () => {
    for (const s of signals) process.off(s, handler);
  };
}
