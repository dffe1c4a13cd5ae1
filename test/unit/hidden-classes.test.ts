/**
 * The documents the ingest and aggregate stages build per record share V8 hidden classes.
 *
 * On Node 20 (V8 11.3) an object made by a spread and then given a field its source lacks
 * (`{ ...doc, createdAt }`) gets a hidden class of its own, allocated in the old generation with its
 * descriptors: one per written projection document was ~15 MB of the ingest stage's live heap and
 * ~60 MB of its peak RSS catching up on a backlog (docs/benchmarks.md). The stages build those
 * documents with Object.assign instead; this test fails if a spread comes back. Node 24 shares
 * the classes either way, so there the test passes trivially.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const fixture = fileURLToPath(new URL('./fixtures/hidden-classes.ts', import.meta.url));

describe('hidden classes of per-record documents', () => {
  it('projection writes, their version filters and view writes share one class per kind', () => {
    const out = execFileSync(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', fixture], { encoding: 'utf8' });
    const counts = JSON.parse(out.trim().split('\n').at(-1) as string) as Record<string, number>;
    assert.deepEqual(Object.keys(counts).sort(), ['projection insert', 'projection update', 'version filter', 'view write']);
    // At most two: V8 may migrate the first objects once a field's representation generalises.
    for (const [kind, classes] of Object.entries(counts)) assert.ok(classes <= 2, `${kind}: ${classes} hidden classes for 200 documents of one shape`);
  });
});
