/**
 * Makes a stopped Kafka broker forget the last batches of its idempotent producers, which is how a
 * broker answers OUT_OF_ORDER_SEQUENCE_NUMBER to a producer that did nothing wrong: the producer
 * sends sequence n + 1, the broker expects an older one. kafkajs then resends the same sequence
 * for ever (kafkajs#598); the transport has to replace the producer.
 *
 * A partition's producer state lives in `<log dir>/<topic>-<partition>/<offset>.snapshot` files
 * (one per segment roll, one at the log end on a clean shutdown). After a clean shutdown the broker
 * loads the newest snapshot and, since it is at the log end, replays nothing. Copying the previous
 * snapshot (taken at the last segment roll) over the newest one therefore rolls the producer state
 * back to that roll while every record stays: the data is intact, only the sequence numbers are old.
 * Segments roll on the first write after `segment.ms`, so a topic with a short `segment.ms` written
 * over a few seconds has such a snapshot.
 *
 *   <dir>/t-0/00000000000000000000.snapshot  (roll)      ┐ copied over
 *   <dir>/t-0/00000000000000000742.snapshot  (shutdown)  ┘ ← the state at the roll, named 742
 */
import { copyFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';

const SNAPSHOT = /^\d{20}\.snapshot$/;

/** Which snapshot file is copied over which: the one before the newest over the newest; null with fewer than two. */
export function rollBackPlan(files: readonly string[]): { readonly from: string; readonly over: string } | null {
  const snapshots = files.filter((f) => SNAPSHOT.test(f)).sort();
  const from = snapshots.at(-2);
  const over = snapshots.at(-1);
  return from !== undefined && over !== undefined ? { from, over } : null;
}

/**
 * Rolls back the producer state of every partition of `topics` under the stopped broker's log
 * directory `logDir`; returns the partitions rolled back (`topic-partition`). The broker must be
 * stopped cleanly: after a crash it rebuilds the state from the log and writes a fresh snapshot.
 */
export async function rollBackProducerState(logDir: string, topics: readonly string[]): Promise<string[]> {
  const wanted = new Set(topics);
  const rolled: string[] = [];
  for (const entry of await readdir(logDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const dash = entry.name.lastIndexOf('-');
    if (dash < 0 || !wanted.has(entry.name.slice(0, dash)) || !/^\d+$/.test(entry.name.slice(dash + 1))) continue;
    const dir = join(logDir, entry.name);
    const plan = rollBackPlan(await readdir(dir));
    if (!plan) continue;
    await copyFile(join(dir, plan.from), join(dir, plan.over));
    rolled.push(entry.name);
  }
  return rolled.sort();
}
