/**
 * Workers of a benchmark: `tributary run bench/lib/bench-topology.ts` in child processes, one
 * consumer group member each (as production scales: instances of one topology), so that the
 * benchmark's own process (load generator, latency reader) never shares their event loop.
 *
 *   startWorkers({ count: 2, portBase: 19470, env })  --> ready once every stream of every worker joined (/-/ready)
 *   workers.resume()  (started paused)                --> every stream resumed, through the control topic
 *   workers.metrics() / workers.rss() / workers.stop()
 *
 * BENCH_WORKER_NODE_ARGS (space-separated) go to each worker's node before the script, e.g.
 * "--cpu-prof --cpu-prof-dir=/tmp/prof" for a CPU profile of every worker (written at its exit).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { compiled } from './compiled.js';
import { rssMiB, sleep } from './harness.js';

export interface Workers {
  /** Starts sampling the workers' RSS every 200 ms; stop() gives the highest of any one worker, in MiB. */
  rss(): { stop(): number };
  /** Resumes every stream of every worker (started paused): one call, shared through the control topic. */
  resume(): Promise<void>;
  /** The Prometheus text of every worker's /metrics. */
  metrics(): Promise<string[]>;
  /** SIGTERM to each (they drain and commit), resolved once all exited. */
  stop(): Promise<void>;
  /** Process ids of the workers (for /proc: CPU, RSS). */
  readonly pids: readonly number[];
}

export interface WorkerOptions {
  readonly count: number;
  /** Worker i serves its ops API on portBase + i. */
  readonly portBase: number;
  /** Start every stream paused (resume() starts them). */
  readonly paused?: boolean;
  /** Added to this process's environment: the topology's names, the services, consumer settings. */
  readonly env: Readonly<Record<string, string>>;
  /** Longest wait for every worker to be ready (default 120 s). */
  readonly readyTimeoutMs?: number;
}

export async function startWorkers(options: WorkerOptions): Promise<Workers> {
  const controlToken = `bench-workers-${randomUUID()}`;
  const children = Array.from({ length: options.count }, (_, i) => {
    const port = options.portBase + i;
    const nodeArgs = (process.env['BENCH_WORKER_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
    const child = spawn(process.execPath, [...nodeArgs, compiled('src/cli/main.ts'), 'run', compiled('bench/lib/bench-topology.ts'), '--http-port', String(port)], {
      env: { ...process.env, LOG_LEVEL: 'warn', ...options.env, TRIBUTARY_START_PAUSED: String(options.paused ?? false), TRIBUTARY_CONTROL_TOKEN: controlToken },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    return { child, port };
  });
  const stop = async () => {
    await Promise.all(
      children.map(({ child }) => {
        if (child.exitCode !== null || child.signalCode !== null) return undefined;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        return exited;
      }),
    );
  };
  try {
    // Ready = every stream joined its group (/-/ready turns 200).
    const deadline = performance.now() + (options.readyTimeoutMs ?? 120_000);
    for (const { child, port } of children) {
      for (;;) {
        if (child.exitCode !== null) throw new Error(`worker on port ${port} exited with ${child.exitCode}`);
        if (performance.now() > deadline) throw new Error(`worker on port ${port} not ready after ${options.readyTimeoutMs ?? 120_000} ms`);
        if (await fetch(`http://127.0.0.1:${port}/-/ready`).then((r) => r.ok, () => false)) break;
        await sleep(200);
      }
    }
  } catch (error) {
    await stop(); // no worker outlives a start that failed
    throw error;
  }
  return {
    rss() {
      let peak = 0;
      const sample = () => {
        for (const { child } of children) peak = Math.max(peak, rssMiB(child.pid as number) ?? 0);
      };
      const timer = setInterval(sample, 200);
      return {
        stop() {
          clearInterval(timer);
          sample();
          return peak;
        },
      };
    },
    async resume() {
      const reply = await fetch(`http://127.0.0.1:${options.portBase}/control/resume`, { method: 'POST', headers: { authorization: `Bearer ${controlToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ target: '*' }) });
      if (!reply.ok) throw new Error(`resume answered ${reply.status}: ${await reply.text()}`);
    },
    metrics: () => Promise.all(children.map(({ port }) => fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text()))),
    stop,
    pids: children.map(({ child }) => child.pid as number),
  };
}

/** Sum of a metric's samples over every worker, per value of one label (Prometheus text format). */
export function summed(texts: readonly string[], name: string, label: string): Map<string, number> {
  const out = new Map<string, number>();
  const line = new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`);
  for (const text of texts) {
    for (const row of text.split('\n')) {
      const m = line.exec(row);
      if (!m) continue;
      const key = new RegExp(`(?:^|,)${label}="([^"]*)"`).exec(m[1] as string)?.[1];
      if (key !== undefined) out.set(key, (out.get(key) ?? 0) + Number(m[2]));
    }
  }
  return out;
}

