/**
 * What a topology argument may be: a module whose default export is a topology (or a function
 * returning one), recognised by its brand whichever copy of the package built it, or a folder
 * holding an existing Fast Data configuration.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTopology } from '../../src/cli/load-topology.js';
import { isTributaryError } from '../../src/errors.js';
import { isTopology, Topology } from '../../src/stream/topology.js';
import type { FastDataTopology } from '../../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'tributary-load-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};

describe('loading a topology', () => {
  it('takes the default export, or calls it when it is a function', async () => {
    const src = new URL('../../src/index.ts', import.meta.url).href;
    const direct = await loadTopology(file('direct.ts', `import { topology } from '${src}';\nexport default topology('direct');\n`));
    assert.equal(direct.name, 'direct');
    const built = await loadTopology(file('built.mjs', `import { topology } from '${src}';\nexport default async () => topology('built');\n`));
    assert.equal(built.name, 'built');
  });

  it('recognises a topology by its brand, not by its class: another copy of the package is accepted', async () => {
    // What a second copy's Topology looks like from here: another class, the same registered brand.
    class OtherCopy {
      readonly name = 'other-copy';
      get [Symbol.for('tributary.topology')](): true {
        return true;
      }
    }
    assert.equal(new OtherCopy() instanceof Topology, false);
    assert.equal(isTopology(new OtherCopy()), true);
    (globalThis as Record<string, unknown>)['__otherCopy'] = new OtherCopy();
    const loaded = await loadTopology(file('copy.mjs', `export default globalThis.__otherCopy;\n`));
    assert.equal(loaded.name, 'other-copy');
    assert.equal(isTopology({ name: 'duck' }), false);
  });

  it('reports a declaration the file makes that is refused as a configuration error naming the file', async () => {
    const src = new URL('../../src/index.ts', import.meta.url).href;
    const path = file(
      'misspelt.ts',
      `import { basic, field, hasOne, projection, singleView, fastData } from '${src}';
const source = (topic: string) => ({ topic, adapter: basic() });
const books = projection({ name: 'pr_books', source: source('books'), primaryKey: ['book_id'], fields: { book_id: field.string(), author_id: field.string() } });
const authors = projection({ name: 'pr_authors', source: source('authors'), primaryKey: ['author_id'], fields: { author_id: field.string() } });
const join: string = 'autor_id'; // run, not type-checked: the types would refuse a field name only known as a string
const view = singleView({ name: 'sv_books', base: books, include: { author: hasOne(authors, { author_id: join }) }, map: ({ base }) => ({ id: base.book_id }) });
export default fastData({ name: 'misspelt', projections: [books, authors], singleViews: [view] });
`,
    );
    await assert.rejects(
      loadTopology(path),
      (e: unknown) => isTributaryError(e) && e.code === 'TRB_CONFIG' && e.message.startsWith(`cannot load topology file ${path}: relation 'author' of single view 'sv_books'`) && e.message.includes("'autor_id' is not a field of pr_books") && e.message.endsWith('(TRB_TOPOLOGY)'),
    );
  });

  it('names a refused declaration of its own kind (TRB_CONFIG) once: the code is not repeated after the message', async () => {
    const src = new URL('../../src/index.ts', import.meta.url).href;
    const path = file('uncalled.mjs', `import { json, string, topology } from '${src}';\nconst t = topology('o');\nt.stream('x', { key: string, value: json() });\nexport default t;\n`);
    await assert.rejects(
      loadTopology(path),
      (e: unknown) => isTributaryError(e) && e.code === 'TRB_CONFIG' && /call it \(string\(\)\)/.test(e.message) && !e.message.includes('(TRB_CONFIG)'),
    );
  });

  it('refuses a module without a topology, naming the file', async () => {
    const path = file('nothing.mjs', 'export default { name: "not a topology" };\n');
    await assert.rejects(loadTopology(path), (e: unknown) => isTributaryError(e) && e.code === 'TRB_CONFIG' && e.message.includes(`${path} must export default a topology`));
    await assert.rejects(loadTopology(join(dir, 'missing.mjs')), (e: unknown) => isTributaryError(e) && e.code === 'TRB_CONFIG' && /cannot load topology file/.test(e.message));
  });

  it('imports a folder holding a Fast Data configuration as a topology named after it', async () => {
    const t = (await loadTopology(new URL('../fixtures/fastdata-config/registry', import.meta.url).pathname)) as FastDataTopology;
    assert.equal(t.name, 'registry');
    assert.deepEqual(t.fastData.projections.map((p) => p.name).sort(), ['pr_orders', 'pr_registry', 'pr_users']);
    assert.deepEqual(t.fastData.singleViews.map((v) => v.name), ['sv_customers']);
    await assert.rejects(loadTopology(dir), (e: unknown) => isTributaryError(e) && e.code === 'TRB_CONFIG' && /projection/.test(e.message));
  });
});
