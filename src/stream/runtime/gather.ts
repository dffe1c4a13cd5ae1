/**
 * Works the batches of a stream's partitions that reach the runtime together — the partitions one
 * fetch brought — as one batch, so that what a batch costs whatever its size (a store read and a
 * write per step, a produce, the operators' setup) is paid once for all of them instead of once
 * per partition. Each partition keeps its own order (its records stay together and in order), its
 * own commit (handed back only when the whole group's work is durable) and its own failure: a
 * group whose run meets a fatal record is split and each partition worked alone (lane.ts).
 *
 *   p0 batch ─┐
 *   p3 batch ─┼─ (same turn of the event loop) ─> work([p0, p3, p5]) ─> { commit p0 }, { commit p3 }, { commit p5 }
 *   p5 batch ─┘
 */
import type { LaneMember, LaneResult } from './lane.js';

interface Waiting {
  readonly member: LaneMember;
  resolve(result: LaneResult): void;
  reject(error: unknown): void;
}

export class BatchGatherer {
  #waiting: Waiting[] = [];
  #scheduled = false;

  /**
   * `maxRecords`: the most records one group holds (members beyond it start another group, worked
   * at the same time). `work` resolves with one result per member, in the members' order.
   */
  constructor(
    readonly maxRecords: number,
    private readonly work: (members: readonly LaneMember[]) => Promise<readonly LaneResult[]>,
  ) {}

  /** Resolves with this partition's result once the group it joined is done. */
  add(member: LaneMember): Promise<LaneResult> {
    return new Promise<LaneResult>((resolve, reject) => {
      this.#waiting.push({ member, resolve, reject });
      if (this.#scheduled) return;
      this.#scheduled = true;
      // The consumers hand over a fetch's partitions in one turn of the event loop; the next turn
      // starts the work with every one of them.
      setImmediate(() => this.#flush());
    });
  }

  #flush(): void {
    this.#scheduled = false;
    const waiting = this.#waiting;
    this.#waiting = [];
    let group: Waiting[] = [];
    let records = 0;
    for (const entry of waiting) {
      const size = entry.member.batch.messages.length;
      if (group.length > 0 && records + size > this.maxRecords) {
        this.#start(group);
        group = [];
        records = 0;
      }
      group.push(entry);
      records += size;
    }
    if (group.length > 0) this.#start(group);
  }

  #start(group: readonly Waiting[]): void {
    this.work(group.map((w) => w.member)).then(
      (results) => group.forEach((w, i) => w.resolve(results[i] as LaneResult)),
      (error: unknown) => group.forEach((w) => w.reject(error)),
    );
  }
}

