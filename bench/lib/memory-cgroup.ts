/**
 * A memory-limited cgroup for one benchmark process: what a container with a memory limit is to
 * the process inside it (Kubernetes `resources.limits.memory`, `docker run -m`). Node sizes its
 * default heap from that limit (`process.constrainedMemory()`: 4 345 MB of heap on this 24 GiB
 * machine, 549 MB under a 1 GiB limit), so "Node's default heap" in a container is not what it is
 * on a bare machine.
 *
 *   memoryCgroup('backlog-raw', 1024)  --> { limitMiB: 1024, command('node', [...]) --> ['sh', ['-c', 'echo $$ > …/cgroup.procs && exec "$@"', …]], remove() }
 *                                      --> { unavailable: 'no writable memory cgroup (…)' }   (not root, no cgroup fs)
 *
 * cgroup v1 (`/sys/fs/cgroup/memory/…/memory.limit_in_bytes`) and v2 (`…/memory.max`), created
 * under the cgroup this process is in. The process joins it before `exec`, so Node reads the limit
 * when it starts.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface MemoryCgroup {
  readonly limitMiB: number;
  /** The command and arguments that run `file args…` inside the cgroup (same pid: `exec`). */
  command(file: string, args: readonly string[]): readonly [string, string[]];
  /** How often the limit was hit (v1 `memory.failcnt`, v2 `memory.events` max), for the report. */
  limitHits(): number | undefined;
  /** Removes the cgroup (its process must have exited). */
  remove(): void;
}

/** The memory cgroup directory this process belongs to, v1 or v2, or why there is none. */
function ownMemoryCgroup(): { dir: string; version: 1 | 2 } | string {
  let lines: string[];
  try {
    lines = readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n');
  } catch (error) {
    return `cannot read /proc/self/cgroup (${(error as Error).message})`;
  }
  const v1 = lines.map((l) => l.split(':')).find(([, controllers]) => controllers?.split(',').includes('memory'));
  if (v1 && existsSync('/sys/fs/cgroup/memory')) return { dir: join('/sys/fs/cgroup/memory', v1[2] ?? '/'), version: 1 };
  const v2 = lines.map((l) => l.split(':')).find(([id, controllers]) => id === '0' && controllers === '');
  if (v2 && existsSync('/sys/fs/cgroup/cgroup.controllers')) return { dir: join('/sys/fs/cgroup', v2[2] ?? '/'), version: 2 };
  return 'no memory cgroup controller mounted under /sys/fs/cgroup';
}

export function memoryCgroup(name: string, limitMiB: number): MemoryCgroup | { readonly unavailable: string } {
  const own = ownMemoryCgroup();
  if (typeof own === 'string') return { unavailable: own };
  const dir = join(own.dir, `tributary-bench-${name}-${process.pid}`);
  const bytes = String(limitMiB * 1024 * 1024);
  try {
    if (own.version === 2) writeFileSync(join(own.dir, 'cgroup.subtree_control'), '+memory');
    mkdirSync(dir);
    writeFileSync(join(dir, own.version === 1 ? 'memory.limit_in_bytes' : 'memory.max'), bytes);
  } catch (error) {
    try {
      rmdirSync(dir);
    } catch {
      // never created
    }
    return { unavailable: `no writable memory cgroup under ${own.dir} (${(error as Error).message})` };
  }
  return {
    limitMiB,
    command: (file, args) => ['sh', ['-c', `echo $$ > ${join(dir, 'cgroup.procs')} && exec "$@"`, 'sh', file, ...args]],
    limitHits() {
      try {
        if (own.version === 1) return Number(readFileSync(join(dir, 'memory.failcnt'), 'utf8').trim());
        return Number(/^max (\d+)$/m.exec(readFileSync(join(dir, 'memory.events'), 'utf8'))?.[1]);
      } catch {
        return undefined;
      }
    },
    remove() {
      try {
        rmdirSync(dir);
      } catch {
        // a process still in it: the next run's name differs (pid)
      }
    },
  };
}
