/**
 * The desired state an operator sets for a topology — which streams are paused — shared by every
 * instance and kept across restarts, as Fast Data's control plane does. The runtime reads it
 * through `DesiredStateSource`; `controlTopic()` (src/stream/control/control-topic.ts) keeps it in a
 * compacted Kafka topic. Entries are targets as `pause()` takes them (a stream, a stage, '*'); for
 * a stream, the latest entry whose target names it decides:
 *
 *   pause ingest (seq 1), resume ingest:pr_orders (seq 2)  -->  ingest:pr_orders running, other ingest streams paused
 */
import type { Logger } from '../../ops/logger.js';
import type { StreamDefinition } from '../definition.js';
import { setPaused, targets } from './controls.js';
import type { StreamState } from './stream-runner.js';

export interface DesiredStateEntry {
  /** A stream name, a stage or '*'. */
  readonly target: string;
  readonly paused: boolean;
  /** Order in which the entries were set (later wins). */
  readonly seq: bigint;
}

export interface DesiredStateSource {
  /** Replays the stored entries (resolving once they are all handed over), then hands over every new one as it arrives. */
  start(onEntry: (entry: DesiredStateEntry) => void): Promise<void>;
  /** Stores an entry for every instance, now and after restarts. */
  publish(target: string, paused: boolean): Promise<void>;
  stop(): Promise<void>;
}

/** Whether the stored entries pause this stream: the latest entry naming it decides; undefined when none does. */
export function desiredPaused(entries: Iterable<DesiredStateEntry>, stream: Pick<StreamDefinition, 'name' | 'stage'>): boolean | undefined {
  let latest: DesiredStateEntry | undefined;
  for (const e of entries) if (targets(e.target, stream) && (!latest || e.seq > latest.seq)) latest = e;
  return latest?.paused;
}

/**
 * The runtime's side: keeps the entries (the last per target), applies each new one to the streams
 * it names, and publishes what `pause()`/`resume()` set here. The replayed state decides how the
 * streams start (an explicit `startPaused` still wins at start); afterwards an entry only moves the
 * streams it names. Entries naming no stream of this instance (an instance running `--only
 * trigger` sees 'pause ingest') are kept and do nothing.
 */
export class DesiredState {
  readonly #entries = new Map<string, DesiredStateEntry>();
  #states: readonly StreamState[] = [];
  #replayedTo = -1n;
  #following = false;

  constructor(
    readonly source: DesiredStateSource,
    private readonly logger: Logger,
  ) {}

  /** Replays the stored state; after it, `pausedAtStart` answers for each stream. */
  async start(): Promise<void> {
    await this.source.start((entry) => {
      this.#entries.set(entry.target, entry);
      if (this.#following) this.#apply(entry);
    });
    for (const e of this.#entries.values()) if (e.seq > this.#replayedTo) this.#replayedTo = e.seq;
  }

  pausedAtStart(stream: Pick<StreamDefinition, 'name' | 'stage'>): boolean | undefined {
    return desiredPaused(this.#entries.values(), stream);
  }

  /** From now on, new entries move these streams; those that arrived while they started move them now. */
  follow(states: readonly StreamState[]): void {
    this.#states = states;
    this.#following = true;
    for (const e of [...this.#entries.values()].filter((x) => x.seq > this.#replayedTo).sort((x, y) => (x.seq < y.seq ? -1 : 1))) this.#apply(e);
  }

  publish(target: string, paused: boolean): void {
    this.source.publish(target, paused).catch((error: unknown) => this.logger.error({ err: error, target, paused }, 'could not store the desired state in the control topic: other instances and restarts will not see it'));
  }

  #apply(entry: DesiredStateEntry): void {
    for (const s of this.#states) {
      if (!targets(entry.target, s.definition)) continue;
      const paused = desiredPaused(this.#entries.values(), s.definition);
      if (paused !== undefined && paused !== s.pausedByOperator) setPaused([s], s.definition.name, paused, this.logger);
    }
  }
}
