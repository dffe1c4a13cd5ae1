/**
 * Where a machine's cores went during a phase of a benchmark: the CPU of every process, grouped by
 * what it is (the benchmark's workers, Kafka, PostgreSQL, the DocumentDB gateway, this process,
 * the rest), from /proc, between two snapshots. On a machine where the services share the cores
 * with the pipeline, a latency figure means little without it.
 *
 *   const phase = machineCpu({ workers: [pid1, pid2] });
 *   …the phase…
 *   phase.stop()  -->  { seconds: 20.1, busyCores: 1.86, byGroup: { workers: 0.81, postgresql: 0.52, kafka: 0.27, … } }
 *
 * Cores are CPU seconds per second of the phase (1 = one core busy the whole time). A process that
 * started during the phase counts from its start; one that ended counts until its last snapshot,
 * plus what its parent reaped of it (cutime), as /proc keeps it.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface MachineCpu {
  readonly seconds: number;
  /** Every CPU's busy time per second of the phase, from /proc/stat (all processes, kernel work included). */
  readonly busyCores: number;
  /** Cores per group, largest first. */
  readonly byGroup: Readonly<Record<string, number>>;
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** The group of a process by its command name; `workers` are the benchmark's own children. */
function groupOf(pid: number, comm: string, workers: ReadonlySet<number>): string {
  if (workers.has(pid)) return 'workers';
  if (pid === process.pid) return 'benchmark';
  if (comm === 'java') return 'kafka';
  if (comm === 'postgres') return 'postgresql';
  if (comm.startsWith('documentdb_gate')) return 'gateway';
  return 'other';
}

/** pid → [command name, own + reaped children's CPU ticks]. */
function processTicks(): Map<number, [string, number]> {
  const out = new Map<number, [string, number]>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const fields = stat.slice(close + 2).split(' ');
      // utime, stime, cutime, cstime: fields 14-17 of stat(5), 11-14 after the command name.
      const ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
      out.set(pid, [stat.slice(stat.indexOf('(') + 1, close), ticks]);
    } catch {
      // Gone between readdir and read.
    }
  }
  return out;
}

/** [busy, total] ticks of every CPU together, from the first line of /proc/stat. */
function machineTicks(): [number, number] {
  const values = (readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] as string).trim().split(/\s+/).slice(1).map(Number);
  const total = values.reduce((a, b) => a + b, 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0); // idle + iowait
  return [total - idle, total];
}

export function machineCpu(options: { workers?: readonly number[] } = {}): { stop(): MachineCpu } {
  const workers = new Set(options.workers ?? []);
  const started = performance.now();
  const before = processTicks();
  const [busyBefore] = machineTicks();
  return {
    stop() {
      const seconds = (performance.now() - started) / 1000;
      const after = processTicks();
      const [busyAfter] = machineTicks();
      const groups = new Map<string, number>();
      for (const [pid, [comm, ticks]] of after) {
        const group = groupOf(pid, comm, workers);
        groups.set(group, (groups.get(group) ?? 0) + ticks - (before.get(pid)?.[1] ?? 0));
      }
      const cores = (ticks: number) => Math.round((ticks / TICKS_PER_SECOND / seconds) * 100) / 100;
      const byGroup = Object.fromEntries([...groups].sort((a, b) => b[1] - a[1]).map(([group, ticks]) => [group, cores(Math.max(0, ticks))]));
      return { seconds: Math.round(seconds * 10) / 10, busyCores: cores(busyAfter - busyBefore), byGroup };
    },
  };
}
