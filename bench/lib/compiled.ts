/**
 * The processes a benchmark measures run compiled JavaScript, as a user's installed worker does,
 * not the sources through tsx (bench/tsconfig.workers.json says what tsx would add):
 *
 *   compiled('bench/lib/bench-topology.ts') → '<repo>/.bench-build/bench/lib/bench-topology.js'
 *
 * The build (tsc, ~8 s) runs the first time a process asks for a path. scripts/bench builds once
 * before the first benchmark and sets BENCH_WORKERS_BUILT=1, so a run's benchmarks share one build
 * of the commit they measure.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const OUT = path.join(ROOT, '.bench-build');

let built = process.env['BENCH_WORKERS_BUILT'] === '1';

/** Compiles src/, topologies/ and the benchmarks' worker files into .bench-build/ (dist/'s layout). */
export function buildWorkers(): void {
  rmSync(OUT, { recursive: true, force: true });
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(ROOT, 'bench', 'tsconfig.workers.json')], { stdio: 'inherit' });
  // The code reads its Avro schemas from ../../../schemas relative to itself, as from dist/src.
  cpSync(path.join(ROOT, 'schemas'), path.join(OUT, 'schemas'), { recursive: true });
  built = true;
}

/** The compiled JavaScript of a TypeScript file of the repository (a path relative to its root). */
export function compiled(tsFile: string): string {
  if (!built) buildWorkers();
  return path.join(OUT, tsFile.replace(/\.ts$/, '.js'));
}

// `node --import tsx bench/lib/compiled.ts`: the build alone (scripts/bench does this once per run).
if (process.argv[1] === fileURLToPath(import.meta.url)) buildWorkers();
