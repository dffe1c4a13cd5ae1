/**
 * The work for one partition batch, from fetched bytes to "safe to commit": run the batch, produce
 * its outputs and dead letters in one acknowledged call (or one transaction), retry transient
 * faults with capped backoff while the partition is paused, and stop the partition on a fatal one.
 * A batch whose work is done and whose produce failed is not run again: its outputs are, those the
 * broker did not acknowledge (a transaction: all of them).
 * Offsets are only ever handed back for a batch whose work is durable.
 */
import { toTributaryError, type TributaryError } from '../../errors.js';
import { writtenBy } from '../transport/partial-send.js';
import type { BatchControl, OutgoingMessage, RawBatch, TopicPartitionOffset, TransactionalProducer, TransportProducer } from '../transport/types.js';
import { backoffMs, sleepWhile } from './retry.js';
import { runBatch, RecordFailedError, type BatchDeps } from './run-batch.js';

export interface LaneDeps extends BatchDeps {
  readonly producer: TransportProducer;
  /** Present when the stream runs exactly-once: one transactional producer per partition. */
  transactional?(topic: string, partition: number): Promise<TransactionalProducer>;
  onRetry(error: TributaryError, attempt: number, delayMs: number): void;
  onFatal(error: TributaryError, batch: RawBatch): void;
  onPaused(paused: boolean, batch: RawBatch): void;
}

export interface LaneResult {
  readonly commit: TopicPartitionOffset | null;
  readonly transactional?: boolean;
}

export async function processLane(batch: RawBatch, control: BatchControl, deps: LaneDeps): Promise<LaneResult> {
  const last = batch.messages.at(-1);
  if (!last) return { commit: null };
  const commit: TopicPartitionOffset = { topic: batch.topic, partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() };
  let paused = false;
  const setPaused = (value: boolean) => {
    if (paused === value) return;
    paused = value;
    if (value) control.pause();
    else control.resume();
    deps.onPaused(value, batch);
  };

  // kafkajs only heartbeats between batches: keep the membership alive during a long one.
  const beat = setInterval(() => void control.heartbeat().catch(() => undefined), 3_000);
  try {
    return await attempts(batch, control, deps, commit, setPaused);
  } finally {
    clearInterval(beat);
  }
}

async function attempts(batch: RawBatch, control: BatchControl, deps: LaneDeps, commit: TopicPartitionOffset, setPaused: (paused: boolean) => void): Promise<LaneResult> {
  const { retry, name } = deps.definition;
  // Once the batch's work is done its outputs are kept: a failed produce is retried alone, and only
  // for the records the broker did not acknowledge (partial-send.ts), so a failover that fails
  // several attempts does not publish the partitions it did write once per attempt.
  let outputs: readonly OutgoingMessage[] | undefined;
  let unsent: readonly OutgoingMessage[] = [];
  for (let attempt = 1; ; attempt++) {
    try {
      if (!outputs) {
        outputs = await runBatch(batch, deps);
        unsent = outputs;
      }
      if (deps.transactional) {
        const tx = await deps.transactional(batch.topic, batch.partition);
        await tx.sendAndCommit(outputs, deps.definition.groupId, [commit]); // all or nothing
      } else if (unsent.length > 0) {
        await deps.producer.send(unsent);
      }
      for (const [topic, count] of countByTopic(outputs)) deps.metrics.recordsOut(name, topic, count);
      setPaused(false);
      return { commit, transactional: Boolean(deps.transactional) };
    } catch (error) {
      if (outputs && !deps.transactional) {
        const written = writtenBy(error);
        if (written.size > 0) unsent = unsent.filter((_, i) => !written.has(i));
      }
      const failure = toTributaryError(error, 'TRB_PROCESS');
      const fatal = error instanceof RecordFailedError || !failure.retriable;
      if (!fatal && !control.isRunning()) {
        // Shutting down or revoked mid-retry: give up without committing; the next owner re-reads.
        setPaused(false);
        return { commit: null };
      }
      if (fatal || attempt >= retry.maxAttempts) {
        const final = fatal ? failure : toTributaryError(new Error(`gave up after ${attempt} attempts: ${failure.message}`), 'TRB_RETRIES_EXHAUSTED');
        if (!fatal) Object.defineProperty(final, 'cause', { value: failure });
        // A record the policy failed was counted by runBatch already; count only the fatal faults
        // that never went through the policy (retries exhausted, a non-retriable produce error).
        if (!(error instanceof RecordFailedError)) deps.metrics.error(name, final.code, 'fail');
        // The partition stays paused: nothing past this record may be processed or committed.
        setPaused(true);
        deps.onFatal(final, batch);
        return { commit: null };
      }
      const delay = backoffMs(attempt, retry);
      deps.metrics.retry(name, failure.code);
      deps.onRetry(failure, attempt, delay);
      setPaused(true);
      await sleepWhile(delay, () => !control.isRunning(), () => control.heartbeat(), deps.clock);
    }
  }
}

function countByTopic(outputs: ReadonlyArray<{ topic: string }>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const { topic } of outputs) counts.set(topic, (counts.get(topic) ?? 0) + 1);
  return counts;
}
