/**
 * What a running topology answers about its streams and how an operator steers them: health,
 * readiness, status, broker-side lag, and pause/resume by stream name, stage or '*'.
 *
 *   pause('ingest')  --> every stream whose stage is 'ingest' stops fetching (a batch in flight finishes and commits)
 */
import { TributaryError } from '../../errors.js';
import type { HealthReport } from '../../ops/http-server.js';
import type { Logger } from '../../ops/logger.js';
import type { StreamDefinition } from '../definition.js';
import type { TopicPartitions, TransportAdmin } from '../transport/types.js';
import type { StreamState } from './stream-runner.js';

export interface StreamStatus {
  readonly name: string;
  readonly stage: string;
  readonly groupId: string;
  readonly state: 'starting' | 'rejoining' | 'running' | 'retrying' | 'failed' | 'stopped';
  readonly assigned: TopicPartitions[];
  readonly paused: TopicPartitions[];
  /** Paused by `pause()` (as opposed to partitions paused while a transient fault is retried). */
  readonly pausedByOperator: boolean;
  readonly lastError?: { code: string; message: string; at: string };
}

export interface PartitionLag {
  readonly stream: string;
  readonly topic: string;
  readonly partition: number;
  /** Committed offset, or null when the group has none for this partition. */
  readonly committed: string | null;
  readonly end: string;
  readonly lag: number;
}

/** Whether a target (for `only`, pause and resume) names this stream: its name, its stage, or '*'. */
export function targets(target: string, stream: Pick<StreamDefinition, 'name' | 'stage'>): boolean {
  return target === '*' || stream.name === target || (stream.stage !== '' && stream.stage === target);
}

/** Pauses (or resumes) every stream the target names; returns their names, or throws TRB_CONFIG when none matches. */
export function setPaused(states: readonly StreamState[], target: string, paused: boolean, logger: Logger): string[] {
  const matched = states.filter((s) => targets(target, s.definition));
  if (matched.length === 0) {
    throw new TributaryError('TRB_CONFIG', `no stream matches '${target}' (streams: ${states.map((s) => s.definition.name).join(', ')}; or a stage, or '*')`);
  }
  return matched.map((s) => {
    s.pausedByOperator = paused;
    if (paused) s.consumer.pause(s.consumer.assignment());
    else s.consumer.resume(withoutRetrying(s.consumer.assignment(), s.retrying));
    logger.info({ stream: s.definition.name }, paused ? 'paused by operator' : 'resumed by operator');
    return s.definition.name;
  });
}

export function health(states: readonly StreamState[]): HealthReport {
  const checks = Object.fromEntries(states.map((s) => [s.definition.name, s.failed ? { ok: false, detail: `${s.failed.code}: ${s.failed.message}` } : { ok: true }]));
  return { ok: states.every((s) => !s.failed), checks };
}

export function readiness(states: readonly StreamState[]): HealthReport {
  const checks = Object.fromEntries(
    states.map((s) => {
      if (s.failed) return [s.definition.name, { ok: false, detail: `failed: ${s.failed.code}` }];
      if (s.stopped) return [s.definition.name, { ok: false, detail: 'stopped' }];
      if (!s.joined) return [s.definition.name, { ok: false, detail: s.rejoining ? `joining its consumer group again: ${s.rejoining}` : 'not yet assigned partitions' }];
      return [s.definition.name, { ok: true }];
    }),
  );
  return { ok: Object.values(checks).every((c) => c.ok), checks };
}

export function status(states: readonly StreamState[]): StreamStatus[] {
  return states.map((s) => ({
    name: s.definition.name,
    stage: s.definition.stage,
    groupId: s.definition.groupId,
    state: s.stopped ? 'stopped' : s.failed ? 'failed' : !s.joined ? (s.rejoining ? 'rejoining' : 'starting') : s.retrying.size > 0 ? 'retrying' : 'running',
    assigned: s.consumer.assignment(),
    paused: s.consumer.paused(),
    pausedByOperator: s.pausedByOperator,
    ...(s.lastError ? { lastError: s.lastError } : {}),
  }));
}

/** Lag of every stream's group on every partition of its topics, from the broker; a partition never committed counts from its low watermark. */
export async function lag(states: readonly StreamState[], admin: TransportAdmin): Promise<PartitionLag[]> {
  const out: PartitionLag[] = [];
  for (const s of states) {
    for (const topic of s.definition.topics) {
      const [ends, commits] = await Promise.all([admin.topicOffsets(topic), admin.committedOffsets(s.definition.groupId, topic)]);
      const committed = new Map(commits.map((c) => [c.partition, c.offset]));
      for (const e of ends) {
        const at = committed.get(e.partition);
        const known = at !== undefined && BigInt(at) >= 0n;
        out.push({ stream: s.definition.name, topic, partition: e.partition, committed: known ? at : null, end: e.high, lag: Number(BigInt(e.high) - (known ? BigInt(at) : BigInt(e.low))) });
      }
    }
  }
  return out;
}

/** The assignment minus the partitions a lane keeps paused while it retries (it resumes them itself). */
function withoutRetrying(assignment: readonly TopicPartitions[], retrying: ReadonlySet<string>): TopicPartitions[] {
  return assignment.map((a) => ({ topic: a.topic, partitions: a.partitions.filter((p) => !retrying.has(`${a.topic}:${p}`)) })).filter((a) => a.partitions.length > 0);
}
