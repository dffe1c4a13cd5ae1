/**
 * The end-to-end benchmark's CPU breakdown (bench/lib/machine-cpu.ts): a process told apart as a
 * worker by its pid, this process as the benchmark, from /proc. Reads /proc only (Linux); no
 * service.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { machineCpu } from '../../bench/lib/machine-cpu.js';

const spin = `const end = Date.now() + 400; while (Date.now() < end);`;

describe('machineCpu', () => {
  it('counts a worker by its pid and this process as the benchmark', async () => {
    const child = spawn(process.execPath, ['-e', `${spin} setTimeout(() => {}, 5000)`], { stdio: 'ignore' });
    try {
      const phase = machineCpu({ workers: [child.pid as number] });
      const end = Date.now() + 400;
      while (Date.now() < end); // this process busy too
      await new Promise((resolve) => setTimeout(resolve, 200));
      const result = phase.stop();
      assert.ok((result.byGroup['workers'] ?? 0) > 0, `worker CPU counted: ${JSON.stringify(result)}`);
      assert.ok((result.byGroup['benchmark'] ?? 0) > 0, `this process counted: ${JSON.stringify(result)}`);
      assert.ok(result.busyCores > 0 && result.seconds > 0);
      const groups = Object.values(result.byGroup);
      assert.deepEqual(groups, [...groups].sort((a, b) => b - a), 'largest group first');
    } finally {
      child.kill();
      await once(child, 'exit');
    }
  });
});
