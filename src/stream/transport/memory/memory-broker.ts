/**
 * An embedded broker: topics of partitioned logs, consumer groups with committed offsets and
 * member assignment. Single process, no I/O; it exists for the test driver and the demo and passes
 * the same transport contract tests as Kafka.
 */
import { TributaryError } from '../../../errors.js';
import type { OutgoingMessage, RawMessage, TopicPartitionOffset } from '../types.js';
import { frozenCopy } from '../headers.js';
import { partitionFor } from '../murmur2.js';

export interface MemoryBrokerOptions {
  /** Partitions of a topic created implicitly by a produce or subscribe (default 1, like our broker). */
  readonly defaultPartitions?: number;
  /** Largest record accepted (default 1 048 588 bytes, Kafka's message.max.bytes). */
  readonly maxMessageBytes?: number;
}

export interface GroupMember {
  readonly id: string;
  readonly topics: readonly string[];
  owned(): Map<string, number[]>;
  /** Stop lanes of partitions no longer owned (after draining them), start the new ones. */
  rebalance(assignment: Map<string, number[]>): Promise<void>;
}

interface Group {
  readonly committed: Map<string, bigint>;
  readonly members: GroupMember[];
  rebalancing: Promise<void>;
}

const tp = (topic: string, partition: number) => `${topic}:${partition}`;

export class MemoryBroker {
  readonly #topics = new Map<string, RawMessage[][]>();
  readonly #groups = new Map<string, Group>();
  readonly #waiters = new Set<() => void>();
  readonly #defaultPartitions: number;
  readonly #maxMessageBytes: number;
  #roundRobin = 0;

  constructor(options: MemoryBrokerOptions = {}) {
    this.#defaultPartitions = options.defaultPartitions ?? 1;
    this.#maxMessageBytes = options.maxMessageBytes ?? 1_048_588;
  }

  createTopic(topic: string, partitions: number): void {
    if (!this.#topics.has(topic)) this.#topics.set(topic, Array.from({ length: partitions }, () => []));
  }

  partitions(topic: string): RawMessage[][] {
    let logs = this.#topics.get(topic);
    if (!logs) {
      this.createTopic(topic, this.#defaultPartitions);
      logs = this.#topics.get(topic) as RawMessage[][];
    }
    return logs;
  }

  topics(): string[] {
    return [...this.#topics.keys()];
  }

  /** Appends records; all-or-nothing, like one acknowledged produce request. */
  append(messages: readonly OutgoingMessage[]): void {
    for (const m of messages) {
      const size = (m.key?.length ?? 0) + (m.value?.length ?? 0);
      if (size > this.#maxMessageBytes) {
        throw new TributaryError('TRB_TOO_LARGE', `record of ${size} bytes for ${m.topic} exceeds message.max.bytes ${this.#maxMessageBytes}`, { retriable: false });
      }
    }
    for (const m of messages) {
      const logs = this.partitions(m.topic);
      const partition = m.partition ?? partitionFor(m.key, logs.length, () => this.#roundRobin++);
      const log = logs[partition];
      if (!log) throw new TributaryError('TRB_PRODUCE', `${m.topic} has no partition ${partition}`, { retriable: false });
      log.push({ offset: String(log.length), timestamp: m.timestamp ?? Date.now(), key: m.key, value: m.value, headers: frozenCopy(m.headers) });
    }
    this.#wake();
  }

  read(topic: string, partition: number, from: bigint, max: number): RawMessage[] {
    const log = this.partitions(topic)[partition] ?? [];
    return log.slice(Number(from), Number(from) + max);
  }

  endOffset(topic: string, partition: number): bigint {
    return BigInt(this.partitions(topic)[partition]?.length ?? 0);
  }

  committed(groupId: string, topic: string, partition: number): bigint | undefined {
    return this.#groups.get(groupId)?.committed.get(tp(topic, partition));
  }

  commit(groupId: string, offsets: readonly TopicPartitionOffset[]): void {
    const group = this.#group(groupId);
    for (const o of offsets) group.committed.set(tp(o.topic, o.partition), BigInt(o.offset));
  }

  /** Records not yet committed by a group on these topics (what "idle" waits for). */
  lag(groupId: string, topics: readonly string[]): number {
    let lag = 0;
    for (const topic of topics) {
      this.partitions(topic).forEach((log, partition) => {
        lag += log.length - Number(this.committed(groupId, topic, partition) ?? 0n);
      });
    }
    return lag;
  }

  async join(groupId: string, member: GroupMember): Promise<void> {
    const group = this.#group(groupId);
    group.members.push(member);
    await this.#rebalance(group);
  }

  async leave(groupId: string, member: GroupMember): Promise<void> {
    const group = this.#group(groupId);
    const index = group.members.indexOf(member);
    if (index >= 0) group.members.splice(index, 1);
    await this.#rebalance(group);
  }

  /** Resolves at the next append (or after `ms`), so idle lanes do not spin. */
  waitForData(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#waiters.add(done);
    });
  }

  wake(): void {
    this.#wake();
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }

  #group(groupId: string): Group {
    let group = this.#groups.get(groupId);
    if (!group) {
      group = { committed: new Map(), members: [], rebalancing: Promise.resolve() };
      this.#groups.set(groupId, group);
    }
    return group;
  }

  /** Round-robin over the sorted partitions of the subscribed topics; rebalances run one at a time. */
  #rebalance(group: Group): Promise<void> {
    group.rebalancing = group.rebalancing.then(async () => {
      const members = [...group.members].sort((a, b) => a.id.localeCompare(b.id));
      const plan = new Map<GroupMember, Map<string, number[]>>(members.map((m) => [m, new Map()]));
      const topics = [...new Set(members.flatMap((m) => m.topics))].sort();
      let next = 0;
      for (const topic of topics) {
        const subscribers = members.filter((m) => m.topics.includes(topic));
        this.partitions(topic).forEach((_, partition) => {
          const owner = subscribers[next++ % subscribers.length];
          if (!owner) return;
          const map = plan.get(owner) as Map<string, number[]>;
          map.set(topic, [...(map.get(topic) ?? []), partition]);
        });
      }
      // Revoke first everywhere (members drain and commit), then hand out the new partitions.
      await Promise.all(members.map((m) => m.rebalance(intersect(plan.get(m) as Map<string, number[]>, m))));
      await Promise.all(members.map((m) => m.rebalance(plan.get(m) as Map<string, number[]>)));
    });
    return group.rebalancing;
  }
}

/** The phase-one assignment: keep only what the member already had and will keep. */
function intersect(target: Map<string, number[]>, member: GroupMember): Map<string, number[]> {
  const owned = member.owned();
  const out = new Map<string, number[]>();
  for (const [topic, partitions] of target) {
    const kept = partitions.filter((p) => owned.get(topic)?.includes(p));
    if (kept.length) out.set(topic, kept);
  }
  return out;
}
