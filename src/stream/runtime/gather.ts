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
import { sameTurn } from '../transport/same-turn.js';
import type { LaneMember, LaneResult } from './lane.js';

/**
 * `maxRecords`: the most records one group holds (members beyond it start another group, worked
 * at the same time). `work` resolves with one result per member, in the members' order. The
 * returned function resolves with a member's result once the group it joined is done.
 */
export function batchGatherer(maxRecords: number, work: (members: readonly LaneMember[]) => Promise<readonly LaneResult[]>): (member: LaneMember) => Promise<LaneResult> {
  return sameTurn<LaneMember, LaneResult>((members) => {
    const results: Array<Promise<LaneResult>> = [];
    let group: LaneMember[] = [];
    let records = 0;
    const start = () => {
      const done = work(group);
      results.push(...group.map((_, i) => done.then((all) => all[i] as LaneResult)));
      group = [];
      records = 0;
    };
    for (const member of members) {
      if (group.length > 0 && records + member.batch.messages.length > maxRecords) start();
      group.push(member);
      records += member.batch.messages.length;
    }
    if (group.length > 0) start();
    return results;
  });
}
