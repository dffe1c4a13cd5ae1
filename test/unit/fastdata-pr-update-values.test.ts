/**
 * The documents a pr-update carries are exactly what a JSON round trip of the stored document
 * gives (without `_id`): dates as ISO strings, undefined members dropped, undefined array items as
 * null, non-finite numbers as null. pr-update.ts builds them in one walk instead of a stringify and
 * a parse; this pins the equivalence on random documents.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { prUpdateOf, type PrUpdateV2 } from '../../src/fastdata/projection/pr-update.js';
import type { ProjectionChange } from '../../src/fastdata/projection/plan-batch.js';

const leaf = fc.oneof(fc.string(), fc.double(), fc.integer(), fc.boolean(), fc.constant(null), fc.constant(undefined), fc.date({ noInvalidDate: false }));
const value = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('node')), fc.dictionary(fc.string(), tie('node'))),
})).node;
const document = fc.dictionary(fc.string(), value);

describe('pr-update documents', () => {
  it('equal the JSON round trip of the stored document without _id (300 random documents)', () => {
    fc.assert(
      fc.property(document, (doc) => {
        const stored = { ...doc, _id: 'stored-id' };
        const change: ProjectionChange = { key: { k: 1 }, id: '[["k",1]]', type: 'UPDATE', before: stored, after: doc, applied: true, kafka: { topic: 't', partition: 0, offset: '1', timestamp: 'x', key: null } };
        const event = prUpdateOf(change, { projection: 'p', source: 's', primaryKeys: ['k'], version: 'v2.0.0', now: new Date(0) }).value as PrUpdateV2;
        const { _id: _ignored, ...withoutId } = stored;
        assert.deepStrictEqual(JSON.parse(JSON.stringify(event.before)), JSON.parse(JSON.stringify(withoutId)));
        assert.deepEqual(event.before, JSON.parse(JSON.stringify(withoutId)));
        assert.deepEqual(event.after, JSON.parse(JSON.stringify(doc)));
      }),
      { numRuns: 300 },
    );
  });
});
