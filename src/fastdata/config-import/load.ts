/**
 * loadFastDataProject(dir): reads a Fast Data project laid out as
 *
 *   <dir>/projections/*.json                     one projection field definition per file (or a Projection Storer config)
 *   <dir>/erSchema.json
 *   <dir>/projectionChangesSchema.json           optional
 *   <dir>/single-views/<view>/aggregation.json
 *   <dir>/single-views/<view>/singleViewKey.json
 *
 * and imports it with importFastDataConfig. A missing file or bad JSON is TRB_CONFIG naming the file.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { importWithFiles, type ImportedFastData, type ImportFastDataConfigOptions } from './import.js';
import { configError, Where } from './where.js';

export type LoadFastDataProjectOptions = Omit<ImportFastDataConfigOptions, 'projections' | 'erSchema' | 'projectionChangesSchema' | 'singleViewName' | 'aggregation' | 'singleViewKey' | 'singleViews'>;

const LAYOUT = 'projections/*.json, erSchema.json, projectionChangesSchema.json (optional), single-views/<view>/aggregation.json and singleViewKey.json';

export async function loadFastDataProject(dir: string, options: LoadFastDataProjectOptions = {}): Promise<ImportedFastData> {
  const projectionFiles = (await list(join(dir, 'projections'), 'file')).filter((f) => f.endsWith('.json')).sort();
  if (projectionFiles.length === 0) throw configError(new Where(join(dir, 'projections')), 'no projection definition (*.json) found', LAYOUT);
  const viewNames = (await list(join(dir, 'single-views'), 'dir')).sort();
  if (viewNames.length === 0) throw configError(new Where(join(dir, 'single-views')), 'no single view folder found', LAYOUT);
  const changesFile = join(dir, 'projectionChangesSchema.json');
  const changes = await readJson(changesFile, true);
  const viewFile = (view: string, file: string) => join(dir, 'single-views', view, file);
  return importWithFiles(
    {
      ...options,
      projections: await Promise.all(projectionFiles.map((f) => readJson(join(dir, 'projections', f)))),
      erSchema: await readJson(join(dir, 'erSchema.json')),
      ...(changes === undefined ? {} : { projectionChangesSchema: changes }),
      singleViews: await Promise.all(
        viewNames.map(async (name) => ({ name, aggregation: await readJson(viewFile(name, 'aggregation.json')), singleViewKey: await readJson(viewFile(name, 'singleViewKey.json')) })),
      ),
    },
    {
      projections: projectionFiles.map((f) => join(dir, 'projections', f)),
      erSchema: join(dir, 'erSchema.json'),
      projectionChangesSchema: changesFile,
      aggregation: (view) => viewFile(view, 'aggregation.json'),
      singleViewKey: (view) => viewFile(view, 'singleViewKey.json'),
    },
  );
}

async function list(dir: string, kind: 'file' | 'dir'): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.filter((e) => (kind === 'file' ? e.isFile() : e.isDirectory())).map((e) => e.name);
  } catch (error) {
    throw configError(new Where(dir), `cannot read the folder: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, LAYOUT);
  }
}

async function readJson(file: string, optional = false): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (optional && (error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw configError(new Where(file), `cannot read the file: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, LAYOUT);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw configError(new Where(file), `not valid JSON: ${error instanceof Error ? error.message : String(error)}`, 'a JSON document');
  }
}
