// Lint is part of `npm test`. Type-aware rules catch the mistakes that hurt a stream engine most:
// promises nobody awaits (lost writes, unhandled rejections) and `any` leaking into public types.
// `tributary/layers` keeps the dependency direction of src/ (docs/DESIGN §3):
//   cli → fastdata, serve, dashboard, testing → stream → store → ops → errors
import { dirname, relative, resolve, sep } from 'node:path';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const SRC = resolve(import.meta.dirname, 'src');

/** What each layer (a folder of src/, or errors.ts / index.ts) may import besides itself. Type-only imports count too. */
export const LAYERS = {
  errors: [],
  ops: ['errors'],
  store: ['ops', 'errors'],
  stream: ['store', 'ops', 'errors'],
  fastdata: ['stream', 'store', 'ops', 'errors'],
  serve: ['fastdata', 'stream', 'store', 'ops', 'errors'],
  dashboard: ['stream', 'ops', 'errors'],
  testing: ['fastdata', 'stream', 'store', 'ops', 'errors'],
  cli: ['fastdata', 'serve', 'dashboard', 'testing', 'stream', 'store', 'ops', 'errors'],
  index: ['fastdata', 'serve', 'dashboard', 'stream', 'store', 'ops', 'errors'],
  // the package's other entries (package.json "exports"): barrels over the layers they publish
  runtime: ['fastdata', 'stream', 'store', 'ops', 'errors'],
  operations: ['dashboard', 'ops', 'errors'],
};

/** The layer of a file under src/ ('errors' for src/errors.ts), or undefined outside src/. */
function layerOf(file) {
  const path = relative(SRC, file);
  if (path.startsWith('..') || path === '') return undefined;
  const [first] = path.split(sep);
  return first.replace(/\.(ts|js)$/, '');
}

const layers = {
  meta: {
    type: 'problem',
    docs: { description: 'imports in src/ follow the layer direction (LAYERS in eslint.config.js)' },
    schema: [{ type: 'object', properties: { allowOutside: { type: 'array', items: { type: 'string' } } }, additionalProperties: false }],
    messages: {
      upward: "layer '{{from}}' may not import '{{to}}' ({{specifier}}): {{from}} may import {{allowed}}",
      outside: "src/ may not import outside src/ ({{specifier}}): hand it in instead",
      unknown: "'{{layer}}' is not in the layer table: add it to LAYERS in eslint.config.js",
    },
  },
  create(context) {
    const from = layerOf(context.filename);
    if (from === undefined) return {};
    const allowOutside = new Set((context.options[0]?.allowOutside ?? []).map((p) => resolve(import.meta.dirname, p)));
    const check = (node, source) => {
      if (!source || typeof source.value !== 'string' || !source.value.startsWith('.')) return;
      const target = resolve(dirname(context.filename), source.value);
      const to = layerOf(target);
      if (to === undefined) {
        if (!allowOutside.has(target)) context.report({ node, messageId: 'outside', data: { specifier: source.value } });
        return;
      }
      if (to === from) return;
      if (!(from in LAYERS)) return context.report({ node, messageId: 'unknown', data: { layer: from } });
      if (!(to in LAYERS)) return context.report({ node, messageId: 'unknown', data: { layer: to } });
      if (!LAYERS[from].includes(to)) {
        context.report({ node, messageId: 'upward', data: { from, to, specifier: source.value, allowed: LAYERS[from].join(', ') || 'nothing' } });
      }
    };
    return {
      ImportDeclaration: (node) => check(node, node.source),
      ExportAllDeclaration: (node) => check(node, node.source),
      ExportNamedDeclaration: (node) => check(node, node.source),
      ImportExpression: (node) => check(node, node.source.type === 'Literal' ? node.source : undefined),
    };
  },
};

export default tseslint.config(
  { ignores: ['node_modules/', '.infra/', 'dist/', '.bench-build/', 'coverage/', 'tmp-explore/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] }] },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { tributary: { rules: { layers } } },
    rules: { 'tributary/layers': 'error' },
  },
  {
    // The CLI's composition root hands the demo its example (the demo command imports none).
    files: ['src/cli/program.ts'],
    rules: { 'tributary/layers': ['error', { allowOutside: ['topologies/customer-360.demo.js'] }] },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
