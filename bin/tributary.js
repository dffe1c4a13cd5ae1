#!/usr/bin/env node
// The `tributary` command. An installed package runs the compiled CLI in dist/ and loads no
// TypeScript tooling (tsx is imported only to load a `.ts` topology file, see
// src/cli/load-topology.ts). A checkout of the repository (src/ is not shipped in the package)
// runs the TypeScript sources through tsx instead, so its tests never need a build.
import { existsSync } from 'node:fs';
import { URL } from 'node:url';

const source = new URL('../src/cli/main.ts', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  // Tells load-topology that `.ts` files already load, so it does not register tsx a second time.
  globalThis[Symbol.for('tributary.typescript-loader')] = true;
  await import(source.href);
} else {
  await import('../dist/src/cli/main.js');
}
