/**
 * The work for one partition batch — or for batches of several partitions worked as one (a group,
 * `group.ts`) — from fetched bytes to "safe to commit": run the batch, produce its outputs and
 * dead letters in one acknowledged call (or one transaction), retry transient faults with capped
 * backoff while the partitions are paused, and stop the partitions on a fatal one.
 * A batch whose work is done and whose produce failed is not run again: its outputs are, those the
 * broker did not acknowledge (a transaction: all of them). Work an operator left for after the
 * produce (`afterProduce`) runs then, before the commit; when it fails, only what is left of it is retried.
 * Offsets are only ever handed back for a batch whose work is durable.
 *
 *   [batch of p0]                 --processLane-->   { commit p0 }
 *   [batch of p0, batch of p3]    --processGroup-->  [{ commit p0 }, { commit p3 }]  |  'split'
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
  onRetry(error: TributaryError, attempt: number, delayMs: number, batches: readonly RawBatch[]): void;
  onFatal(error: TributaryError, batch: RawBatch): void;
  onPaused(paused: boolean, batch: RawBatch): void;
}

export interface LaneResult {
  readonly commit: TopicPartitionOffset | null;
  readonly transactional?: boolean;
}

/** One partition's batch with the consumer's handle on that partition. */
export interface LaneMember {
  readonly batch: RawBatch;
  readonly control: BatchControl;
}

export async function processLane(batch: RawBatch, control: BatchControl, deps: LaneDeps): Promise<LaneResult> {
  const results = await work([{ batch, control }], deps, false);
  return (results as LaneResult[])[0] as LaneResult;
}

/**
 * Works the batches of several partitions as one: one run of the operators, one produce, each
 * partition's offset handed back when all of it is durable. A transient fault retries the group
 * with every member paused. When a record or a fault of the run stops the work, nothing has been
 * produced yet and the answer is 'split': the caller works each member alone, so that only the
 * partition that holds the culprit stops (the writes the group made replay idempotently).
 */
export async function processGroup(members: readonly LaneMember[], deps: LaneDeps): Promise<LaneResult[] | 'split'> {
  if (deps.transactional) throw new Error('exactly-once streams work one partition at a time');
  return work(members, deps, true);
}

async function work(members: readonly LaneMember[], deps: LaneDeps, splittable: boolean): Promise<LaneResult[] | 'split'> {
  const commits: TopicPartitionOffset[] = [];
  for (const { batch } of members) {
    const last = batch.messages.at(-1);
    if (!last) return members.map(() => ({ commit: null }));
    commits.push({ topic: batch.topic, partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() });
  }
  const control = together(members.map((m) => m.control));
  let paused = false;
  const setPaused = (value: boolean) => {
    if (paused === value) return;
    paused = value;
    if (value) control.pause();
    else control.resume();
    for (const { batch } of members) deps.onPaused(value, batch);
  };

  // kafkajs only heartbeats between batches: keep the membership alive during a long one.
  const beat = setInterval(() => void control.heartbeat().catch(() => undefined), 3_000);
  try {
    const outcome = await attempts(members.map((m) => m.batch), control, deps, commits, setPaused, splittable);
    if (outcome === 'split') return 'split';
    return commits.map((commit) => (outcome ? { commit, transactional: Boolean(deps.transactional) } : { commit: null }));
  } finally {
    clearInterval(beat);
  }
}

/** True: durable, commit every member; false: do not commit (stopped, or stopped the partitions). */
async function attempts(batches: readonly RawBatch[], control: BatchControl, deps: LaneDeps, commits: readonly TopicPartitionOffset[], setPaused: (paused: boolean) => void, splittable: boolean): Promise<boolean | 'split'> {
  const { retry, name } = deps.definition;
  // Once the batch's work is done its outputs are kept: a failed produce is retried alone, and only
  // for the records the broker did not acknowledge (partial-send.ts), so a failover that fails
  // several attempts does not publish the partitions it did write once per attempt.
  let outputs: readonly OutgoingMessage[] | undefined;
  let unsent: readonly OutgoingMessage[] = [];
  // What operators left for after the produce (a record of what the batch wrote): done before the
  // commit, each once; a failure retries what is left, not the batch.
  let pending: Array<() => Promise<void>> = [];
  const finish = async () => {
    for (let work = pending[0]; work; work = pending[0]) {
      await work();
      pending.shift();
    }
  };
  for (let attempt = 1; ; attempt++) {
    try {
      if (!outputs) {
        const outcome = await runBatch(batches, deps, splittable);
        outputs = outcome.outputs;
        unsent = outputs;
        pending = [...outcome.afterProduce];
      }
      if (deps.transactional) {
        await finish(); // the transaction commits the offsets: what must precede the commit goes first
        const first = batches[0] as RawBatch;
        const tx = await deps.transactional(first.topic, first.partition);
        const producing = performance.now();
        await tx.sendAndCommit(outputs, deps.definition.groupId, commits); // all or nothing
        deps.metrics.produce(name, (performance.now() - producing) / 1000);
      } else {
        if (unsent.length > 0) {
          const producing = performance.now();
          await deps.producer.send(unsent);
          deps.metrics.produce(name, (performance.now() - producing) / 1000);
        }
        unsent = [];
        await finish();
      }
      for (const [topic, count] of countByTopic(outputs)) deps.metrics.recordsOut(name, topic, count);
      setPaused(false);
      return true;
    } catch (error) {
      if (outputs && !deps.transactional) {
        const written = writtenBy(error);
        if (written.size > 0) unsent = unsent.filter((_, i) => !written.has(i));
      }
      const failure = toTributaryError(error, 'TRB_PROCESS');
      const fatal = error instanceof RecordFailedError || !failure.retriable;
      if (fatal && splittable && !outputs) {
        // Nothing produced: let each partition find out alone whether it holds the culprit.
        setPaused(false);
        return 'split';
      }
      if (!fatal && !control.isRunning()) {
        // Shutting down or revoked mid-retry: give up without committing; the next owner re-reads.
        setPaused(false);
        return false;
      }
      if (fatal || attempt >= retry.maxAttempts) {
        const final = fatal ? failure : toTributaryError(new Error(`gave up after ${attempt} attempts: ${failure.message}`), 'TRB_RETRIES_EXHAUSTED');
        if (!fatal) Object.defineProperty(final, 'cause', { value: failure });
        // A record the policy failed was counted by runBatch already; count only the fatal faults
        // that never went through the policy (retries exhausted, a non-retriable produce error).
        if (!(error instanceof RecordFailedError)) deps.metrics.error(name, final.code, 'fail');
        // The partitions stay paused: nothing past this record may be processed or committed.
        setPaused(true);
        for (const batch of batches) deps.onFatal(final, batch);
        return false;
      }
      const delay = backoffMs(attempt, retry);
      deps.metrics.retry(name, failure.code);
      deps.onRetry(failure, attempt, delay, batches);
      setPaused(true);
      await sleepWhile(delay, () => !control.isRunning(), () => control.heartbeat(), deps.clock);
    }
  }
}

/** The members' controls as one: paused and resumed together, running while every one is. */
function together(controls: readonly BatchControl[]): BatchControl {
  if (controls.length === 1) return controls[0] as BatchControl;
  return {
    heartbeat: async () => {
      await Promise.all(controls.map((c) => c.heartbeat()));
    },
    isRunning: () => controls.every((c) => c.isRunning()),
    pause: () => controls.forEach((c) => c.pause()),
    resume: () => controls.forEach((c) => c.resume()),
  };
}

function countByTopic(outputs: ReadonlyArray<{ topic: string }>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const { topic } of outputs) counts.set(topic, (counts.get(topic) ?? 0) + 1);
  return counts;
}
