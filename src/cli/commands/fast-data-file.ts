/** A topology file that must hold a Fast Data topology (refresh, explain, verify work on its single views). */
import { TributaryError } from '../../errors.js';
import { FastDataTopology } from '../../fastdata/fast-data.js';
import { loadTopology } from '../load-topology.js';

export async function loadFastDataTopology(file: string, command: string): Promise<FastDataTopology> {
  const topology = await loadTopology(file);
  if (!(topology instanceof FastDataTopology)) throw new TributaryError('TRB_CONFIG', `${file} is not a Fast Data topology (fastData(...)): ${command} works on single views`);
  return topology;
}
