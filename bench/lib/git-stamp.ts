/**
 * The commit a benchmark run measures and whether the tree differed from it: `git rev-parse HEAD`,
 * and `git status --porcelain` of tracked files — except the benchmark's own outputs
 * (bench/results/, docs/benchmarks.md, docs/benchmarks.svg), which a run and its report rewrite and
 * which do not change what is measured. The fingerprint (commit + hash of the tracked diff, same
 * exclusions) lets scripts/bench check that nothing changed while the run went on.
 *
 *   gitStamp('/repo')  --> { commit: '5dea796…', dirty: true, dirtyPaths: ['src/x.ts'], fingerprint: '…' }
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';

export interface GitStamp {
  readonly commit: string;
  readonly dirty: boolean;
  readonly dirtyPaths: readonly string[];
  readonly fingerprint: string;
}

/** Pathspecs for the benchmark's own outputs. */
const OUTPUTS = [':(exclude)bench/results', ':(exclude)docs/benchmarks.md', ':(exclude)docs/benchmarks.svg'];

export function gitStamp(root: string): GitStamp {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const commit = git('rev-parse', 'HEAD').trim();
  const dirtyPaths = git('status', '--porcelain', '--untracked-files=no', '--', '.', ...OUTPUTS)
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => line.slice(3));
  const diff = git('diff', 'HEAD', '--binary', '--', '.', ...OUTPUTS);
  const fingerprint = createHash('sha256').update(commit).update('\0').update(diff).digest('hex');
  return { commit, dirty: dirtyPaths.length > 0, dirtyPaths, fingerprint };
}
