/**
 * The layer rule of eslint.config.js fails the lint on an import against the direction
 * cli → fastdata/serve/dashboard/testing → stream → store → ops → errors. Violations are planted
 * in temporary files under src/ and linted with the repository's own configuration; a control
 * file with allowed imports proves the rule does not fire on everything. The files are removed
 * afterwards.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ESLint } from 'eslint';

const ROOT = join(import.meta.dirname, '..', '..');

interface Planted {
  readonly file: string;
  readonly code: string;
  /** The layer message expected, or null for none. */
  readonly expected: RegExp | null;
}

const planted: readonly Planted[] = [
  {
    file: 'src/stream/__planted_upward.ts',
    code: "import type { FastDataTopology } from '../fastdata/fast-data.js';\nexport type Planted = FastDataTopology;\n",
    expected: /layer 'stream' may not import 'fastdata'/,
  },
  {
    file: 'src/ops/__planted_upward.ts',
    code: "export { topology } from '../stream/topology.js';\n",
    expected: /layer 'ops' may not import 'stream'/,
  },
  {
    file: 'src/fastdata/__planted_sideways.ts',
    code: "import type { ReadApiOptions } from '../serve/read-api.js';\nexport type Planted = ReadApiOptions;\n",
    expected: /layer 'fastdata' may not import 'serve'/,
  },
  {
    file: 'src/store/__planted_outside.ts',
    code: "export { customer360 } from '../../topologies/customer-360.js';\n",
    expected: /src\/ may not import outside src\//,
  },
  {
    file: 'src/fastdata/__planted_allowed.ts',
    code: "import type { Metrics } from '../ops/metrics.js';\nimport type { Topology } from '../stream/topology.js';\nexport type Planted = [Metrics, Topology];\n",
    expected: null,
  },
];

describe('lint: layer boundaries', () => {
  it('fails on each planted import against the layer direction, and not on allowed ones', { timeout: 120_000 }, async () => {
    try {
      for (const p of planted) writeFileSync(join(ROOT, p.file), p.code);
      const eslint = new ESLint({ cwd: ROOT });
      const results = await eslint.lintFiles(planted.map((p) => p.file));
      for (const p of planted) {
        const result = results.find((r) => r.filePath === join(ROOT, p.file));
        assert.ok(result, `linted ${p.file}`);
        const layerMessages = result.messages.filter((m) => m.ruleId === 'tributary/layers');
        if (p.expected === null) {
          assert.deepEqual(layerMessages, [], `${p.file} has only allowed imports`);
          continue;
        }
        assert.equal(layerMessages.length, 1, `${p.file}: ${JSON.stringify(result.messages)}`);
        assert.equal(layerMessages[0]?.severity, 2, 'an error, so the lint fails');
        assert.match(layerMessages[0]?.message ?? '', p.expected);
      }
      const formatter = await eslint.loadFormatter('stylish');
      assert.match(await formatter.format(results), /problems? \(4 errors/);
    } finally {
      for (const p of planted) rmSync(join(ROOT, p.file), { force: true });
    }
  });
});
