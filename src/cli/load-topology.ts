import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TributaryError } from '../errors.js';
import { Topology } from '../stream/topology.js';

/** A topology file's default export: a Topology, or a function (sync or async) returning one. */
export async function loadTopology(file: string): Promise<Topology> {
  let module: { default?: unknown };
  try {
    module = (await import(pathToFileURL(resolve(file)).href)) as { default?: unknown };
  } catch (error) {
    throw new TributaryError('TRB_CONFIG', `cannot load topology file ${file}: ${(error as Error).message}`, { cause: error });
  }
  const exported = typeof module.default === 'function' ? await (module.default as () => unknown)() : module.default;
  if (!(exported instanceof Topology)) {
    throw new TributaryError('TRB_CONFIG', `${file} must export default a topology (topology('name') ...) or a function returning one`);
  }
  return exported;
}
