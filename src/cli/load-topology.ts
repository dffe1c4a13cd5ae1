/**
 * Loads a topology file: its default export, a Topology or a function (sync or async) returning
 * one. JavaScript files are imported as they are. TypeScript files (.ts, .mts, .cts) need a loader:
 * tsx, imported here and only here, so the commands that load no `.ts` file (`--help`, `status`,
 * a `.mjs` topology) never pay for it. tsx is an optional peer dependency: the project that holds
 * the topology installs it (`npm install --save-dev tsx`). Without it, a Node with built-in type
 * stripping (22.18+, 24) is tried before giving up.
 *
 * The check is a brand (`isTopology`), not `instanceof`: a topology file may resolve another copy
 * of the package than the CLI's (a global install running a project's topology).
 *
 * A directory is an existing Fast Data project (projections/, erSchema.json, single-views/…, the
 * layout of `loadFastDataProject`): it is imported and run as `fastData({ name: <directory name> })`,
 * so `tributary describe ./fast-data` works before any code is written (docs/from-fast-data.md).
 */
import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isTributaryError, TributaryError } from '../errors.js';
import { loadFastDataProject } from '../fastdata/config-import/load.js';
import { fastData } from '../fastdata/fast-data.js';
import { isTopology, type Topology } from '../stream/topology.js';

const TYPESCRIPT = /\.[cm]?tsx?$/;
/** Set by bin/tributary.js when it already runs the sources through tsx (a repository checkout). */
const LOADER_READY = Symbol.for('tributary.typescript-loader');

export async function loadTopology(file: string): Promise<Topology> {
  const path = resolve(file);
  if ((await stat(path).catch(() => null))?.isDirectory()) return fastDataProject(path);
  if (TYPESCRIPT.test(path)) await typescriptLoader(path);
  let module: { default?: unknown };
  try {
    module = (await import(pathToFileURL(path).href)) as { default?: unknown };
  } catch (error) {
    // A declaration the file makes may be refused (TRB_TOPOLOGY, e.g. a join on a missing field): a setting to fix, named with its file.
    // Its own code is kept in the message unless it is the one this error carries (printed once).
    const code = isTributaryError(error) && error.code !== 'TRB_CONFIG' ? ` (${error.code})` : '';
    throw new TributaryError('TRB_CONFIG', `cannot load topology file ${file}: ${(error as Error).message}${code}`, { cause: error });
  }
  const exported = typeof module.default === 'function' ? await (module.default as () => unknown)() : module.default;
  if (!isTopology(exported)) {
    throw new TributaryError('TRB_CONFIG', `${file} must export default a topology (topology('name') ...) or a function returning one`);
  }
  return exported;
}

/** A Fast Data configuration folder as a topology named after the folder. */
async function fastDataProject(dir: string): Promise<Topology> {
  const { projections, singleViews } = await loadFastDataProject(dir);
  const name = basename(dir).replace(/[^A-Za-z0-9._-]/g, '-') || 'fast-data';
  return fastData({ name, projections, singleViews });
}

let registered: Promise<void> | undefined;

/** Registers tsx once: from beside this package, else from the topology's own project. */
function typescriptLoader(topologyFile: string): Promise<void> {
  const global = globalThis as { [LOADER_READY]?: boolean };
  if (global[LOADER_READY]) return Promise.resolve();
  registered ??= (async () => {
    const api = (await import('tsx/esm/api').catch(() => importFrom(topologyFile, 'tsx/esm/api'))) as { register: () => unknown } | undefined;
    if (api) {
      api.register();
      global[LOADER_READY] = true;
      return;
    }
    if ((process.features as { typescript?: unknown }).typescript) return; // Node strips the types itself
    throw new TributaryError(
      'TRB_CONFIG',
      `${topologyFile} is TypeScript, which needs tsx to load: install it in the project (npm install --save-dev tsx), or compile the topology to JavaScript`,
    );
  })();
  return registered;
}

/** A package resolved from the directory of `file`, or undefined when that project does not have it. */
async function importFrom(file: string, specifier: string): Promise<unknown> {
  try {
    return (await import(pathToFileURL(createRequire(file).resolve(specifier)).href)) as unknown;
  } catch {
    return undefined;
  }
}
