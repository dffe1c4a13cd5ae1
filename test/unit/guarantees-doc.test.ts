/**
 * docs/guarantees.md claims nothing without a test: every test file it names exists, and every test
 * it quotes ("name", or "prefix…") is declared in that file (it/describe/test title). A renamed or
 * deleted test fails here until the document says what proves the guarantee now.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
const doc = readFileSync(join(ROOT, 'docs/guarantees.md'), 'utf8');

interface Citation {
  readonly file: string;
  /** Quoted test titles after the file, up to the next file; a trailing '…' marks a prefix. */
  readonly titles: readonly string[];
}

/** Every `test/...` path in the document, with the quoted titles that follow it on its line. */
function citations(text: string): Citation[] {
  const out: Citation[] = [];
  const files = [...text.matchAll(/`(test\/[^`\s]+\.ts)`/g)];
  files.forEach((match, i) => {
    const start = (match.index ?? 0) + match[0].length;
    const lineEnd = text.indexOf('\n', start);
    const end = Math.min(files[i + 1]?.index ?? text.length, lineEnd === -1 ? text.length : lineEnd);
    const span = text.slice(start, end);
    out.push({ file: match[1] as string, titles: [...span.matchAll(/"([^"]+)"/g)].map((m) => m[1] as string) });
  });
  return out;
}

/** The titles declared in a test file, quotes unescaped. */
function declaredTitles(file: string): string[] {
  const source = readFileSync(join(ROOT, file), 'utf8');
  return [...source.matchAll(/\b(?:it|describe|test|suite)\(\s*(['"`])((?:\\.|(?!\1).)*)\1/g)].map((m) => (m[2] as string).replace(/\\(['"`])/g, '$1'));
}

/**
 * A quoted title as a pattern over declared titles: exact, or a prefix when it ends with '…'; a
 * word of it may stand for a template placeholder (the doc's "N random moments" for
 * `${KILLS} random moments`).
 */
function titlePattern(title: string): RegExp {
  const prefix = title.endsWith('…');
  const words = (prefix ? title.slice(0, -1) : title).split(' ').map((w) => `(?:${w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}|\\$\\{[^}]*\\})`);
  return new RegExp(`^${words.join(' ')}${prefix ? '' : '$'}`);
}

describe('docs/guarantees.md', () => {
  const cited = citations(doc);

  it('names test files, and quotes test titles', () => {
    assert.ok(cited.length >= 20, `${cited.length} citations`);
    assert.ok(cited.reduce((n, c) => n + c.titles.length, 0) >= 20);
  });

  it('every test file it names exists, and every test it quotes is declared there', () => {
    const missing: string[] = [];
    for (const { file, titles } of cited) {
      if (!existsSync(join(ROOT, file))) {
        missing.push(`${file} (no such file)`);
        continue;
      }
      const declared = declaredTitles(file);
      for (const title of titles) if (!declared.some((d) => titlePattern(title).test(d))) missing.push(`${file}: "${title}"`);
    }
    assert.deepEqual(missing, [], `cited in docs/guarantees.md but not found:\n${missing.join('\n')}`);
  });
});
