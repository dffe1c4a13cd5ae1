/**
 * The package as users get it. `npm pack` (which builds dist/), the tarball installed into a fresh
 * project with npm, then:
 *   - every entry imports with no loader, and `tributary --help` loads no TypeScript tooling;
 *   - `tributary demo` runs the example compiled into the package;
 *   (a) a plain .mjs topology runs on the embedded engine through `tributary/testing`;
 *   (b) the tutorial's TypeScript project (docs/tutorial.md, its files extracted from the page)
 *       passes `tsc --strict` without skipLibCheck, and its tests run on the embedded engine;
 *   (c) `npx tributary run` runs the tutorial's topology against the real services, and
 *       `npx tributary serve` reads its views back;
 *   and a topology that resolves another copy of the package (the installed one) is accepted by
 *   this repository's CLI (brand checks, not instanceof).
 * Installs use the npm cache first (`--prefer-offline`); the npm registry is the fallback. The
 * dev tools are installed at the versions this repository uses, so they are in the cache.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MongoClient } from 'mongodb';
import { services, uniqueName } from '../integration/services.js';
import { freePort, until } from './helpers.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const tutorial = readFileSync(join(repo, 'docs', 'tutorial.md'), 'utf8');
const fromFastData = readFileSync(join(repo, 'docs', 'from-fast-data.md'), 'utf8');
const installed = (name: string) => (JSON.parse(readFileSync(join(repo, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
const NPM = ['--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];

/** Files of the tutorial: fenced blocks whose first line is `// <file>` (or `// <file> (continued)`, appended). */
function tutorialFiles(markdown: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const [, body] of markdown.matchAll(/^```[a-z]*\n([\s\S]*?)^```$/gm)) {
    const marker = /^\/\/ ([\w.-]+\.(?:ts|json))( \(continued\))?\n/.exec(body ?? '');
    if (!marker) continue;
    const [, name, continued] = marker as unknown as [string, string, string | undefined];
    files.set(name, continued ? `${files.get(name) ?? ''}\n${(body as string).slice(marker[0].length)}` : (body as string));
  }
  return files;
}

/** The environment of a child: this one, without the test runner's marker (a nested `node --test` would report to us, not print). */
function childEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { NODE_TEST_CONTEXT: _nested, ...rest } = process.env;
  return { ...rest, ...env };
}

function run(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}, timeout = 300_000): SpawnSyncReturns<string> {
  return spawnSync(command, args, { cwd, encoding: 'utf8', env: childEnv(env), timeout });
}

function ok(result: SpawnSyncReturns<string>, what: string): string {
  assert.equal(result.status, 0, `${what} exited ${result.status ?? result.signal}:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

describe('the package, installed', { timeout: 900_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), 'tributary-package-'));
  const project = join(root, 'bookstore');
  const files = tutorialFiles(tutorial);
  /** Records every module a command loads from tsx or esbuild (a resolve hook), to prove what is not loaded. */
  const spy = join(root, 'spy.mjs');
  const spyLog = join(root, 'spy.log');

  before(async () => {
    ok(run('npm', ['pack', '--pack-destination', root, '--loglevel=error'], repo), 'npm pack');
    const tarball = readdirSync(root).find((f) => f.endsWith('.tgz'));
    assert.ok(tarball, 'npm pack wrote a tarball');
    mkdirSync(project);
    // The tutorial's commands, with the dev tools pinned to this repository's versions (in the npm cache).
    for (const command of ['npm init -y && npm pkg set type=module', `npm install ../tributary/${tarball}`, 'npm install --save-dev typescript tsx @types/node']) {
      assert.ok(tutorial.includes(command), `the tutorial says: ${command}`);
    }
    ok(run('npm', ['init', '-y'], project), 'npm init');
    ok(run('npm', ['pkg', 'set', 'type=module'], project), 'npm pkg set');
    ok(run('npm', ['install', ...NPM, join(root, tarball)], project), 'npm install <tarball>');
    ok(run('npm', ['install', ...NPM, '--save-dev', `typescript@${installed('typescript')}`, `tsx@${installed('tsx')}`, `@types/node@${installed('@types/node')}`], project), 'npm install dev tools');
    for (const [name, text] of [...files, ...tutorialFiles(fromFastData)]) writeFileSync(join(project, name), text);
    // docs/from-fast-data.md: `cp -r ../tributary/test/fixtures/fastdata-config/registry fast-data`
    cpSync(join(repo, 'test', 'fixtures', 'fastdata-config', 'registry'), join(project, 'fast-data'), { recursive: true });
    writeFileSync(spy, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(root, 'spy-hooks.mjs')).href)});\n`);
    writeFileSync(
      join(root, 'spy-hooks.mjs'),
      `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  if (/\\/node_modules\\/(tsx|esbuild|typescript)\\//.test(resolved.url)) appendFileSync(${JSON.stringify(spyLog)}, resolved.url + '\\n');
  return resolved;
}\n`,
    );
  });

  after(() => rmSync(root, { recursive: true, force: true }));

  const loadedTooling = (args: readonly string[]): string[] => {
    rmSync(spyLog, { force: true });
    ok(run(process.execPath, ['--import', pathToFileURL(spy).href, 'node_modules/tributary/bin/tributary.js', ...args], project), `tributary ${args.join(' ')}`);
    try {
      return readFileSync(spyLog, 'utf8').split('\n').filter(Boolean);
    } catch {
      return [];
    }
  };

  it('has the tutorial files', () => {
    assert.deepEqual([...files.keys()].sort(), ['bookstore.test.ts', 'bookstore.ts', 'changes.ts', 'feed.ts', 'topics.ts', 'tsconfig.json']);
  });

  it('imports every entry with no loader, from compiled JavaScript', () => {
    const entries = ['tributary', 'tributary/testing', 'tributary/runtime', 'tributary/ops', 'tributary/serve'];
    const out = ok(run(process.execPath, ['-e', `for (const e of ${JSON.stringify(entries)}) { const m = await import(e); console.log(e, Object.keys(m).length, import.meta.resolve(e)); }`, '--input-type=module'], project), 'import');
    for (const entry of entries) assert.match(out, new RegExp(`^${entry} \\d+ file://.*/node_modules/tributary/dist/src/.*\\.js$`, 'm'));
    ok(run(process.execPath, ['-e', "import('tributary')"], project), 'node -e "import(\'tributary\')"');
    const pkg = JSON.parse(readFileSync(join(project, 'node_modules', 'tributary', 'package.json'), 'utf8')) as { dependencies: Record<string, string>; peerDependenciesMeta: Record<string, { optional: boolean }> };
    assert.equal(pkg.dependencies['tsx'], undefined, 'tsx is not a dependency');
    assert.deepEqual(pkg.peerDependenciesMeta['tsx'], { optional: true });
  });

  it('loads tsx only for a .ts topology: not for --help, not for a .mjs topology', () => {
    writeFileSync(join(project, 'orders.mjs'), ORDERS_MJS);
    assert.deepEqual(loadedTooling(['--help']), []);
    assert.deepEqual(loadedTooling(['describe', 'orders.mjs']), []);
    assert.ok(loadedTooling(['describe', 'bookstore.ts']).some((url) => url.includes('/node_modules/tsx/')), 'the spy sees tsx when a .ts file is loaded');
    const help = ok(run('npx', ['tributary', '--help'], project), 'npx tributary --help');
    assert.match(help, /^Usage: tributary <command>/);
  });

  it('runs the demo from the compiled example, with next steps that point into the installed package', () => {
    const out = ok(run('npx', ['tributary', 'demo', '--events', '800', '--customers', '30'], project), 'npx tributary demo');
    assert.match(out, /^Check: views match the oracle \((\d+) of \1\)$/m);
    assert.match(out, /^ {2}npx tributary describe node_modules\/tributary\/dist\/topologies\/customer-360\.js --format mermaid /m);
    assert.match(out, /^ {2}node_modules\/tributary\/docs\/tutorial\.md /m);
  });

  it('(a) runs a plain .mjs topology on the embedded engine through tributary/testing', () => {
    writeFileSync(join(project, 'orders.mjs'), ORDERS_MJS);
    writeFileSync(join(project, 'orders.test.mjs'), ORDERS_TEST_MJS);
    const out = ok(run(process.execPath, ['--test', '--test-reporter=tap', 'orders.test.mjs'], project), 'node --test orders.test.mjs');
    assert.match(out, /^# pass 1$/m);
  });

  it('(b) type-checks the tutorial with tsc --strict and no skipLibCheck, and runs its tests on the embedded engine', () => {
    for (const command of ['npx tsc', 'node --import tsx --test bookstore.test.ts']) assert.ok(tutorial.includes(`\n${command}\n`), `the tutorial says: ${command}`);
    const config = readFileSync(join(project, 'tsconfig.json'), 'utf8');
    assert.match(config, /"strict": true/);
    assert.doesNotMatch(config, /skipLibCheck/);
    ok(run('npx', ['tsc'], project), 'npx tsc');
    const out = ok(run(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', 'bookstore.test.ts'], project), 'the tutorial tests');
    assert.match(out, /^# pass 5$/m);
    assert.match(out, /^# fail 0$/m);
  });

  it('imports a Fast Data configuration as docs/from-fast-data.md shows: a folder, a topology file, its test', () => {
    assert.deepEqual([...tutorialFiles(fromFastData).keys()].sort(), ['fast-data.test.ts', 'fast-data.ts']);
    for (const command of ['cp -r ../tributary/test/fixtures/fastdata-config/registry fast-data', 'npx tributary describe fast-data', 'npx tsc', 'node --import tsx --test fast-data.test.ts', 'npx tributary describe fast-data.ts']) {
      assert.ok(fromFastData.includes(`\n${command}\n`), `the page says: ${command}`);
    }
    const folder = ok(run('npx', ['tributary', 'describe', 'fast-data'], project), 'npx tributary describe fast-data');
    assert.match(folder, /^Topology: fast-data$/m);
    assert.match(folder, /Source: food-delivery\.registry\.ingestion/);
    assert.match(folder, /aggregate:sv_customers/);
    ok(run('npx', ['tsc'], project), 'npx tsc');
    const out = ok(run(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', 'fast-data.test.ts'], project), 'the page\'s test');
    assert.match(out, /^# pass 1$/m);
    assert.match(ok(run('npx', ['tributary', 'describe', 'fast-data.ts'], project), 'npx tributary describe fast-data.ts'), /^Topology: food-delivery$/m);
  });

  it("accepts a topology built by another copy of the package (this repository's CLI, the installed package's topology)", () => {
    writeFileSync(join(project, 'orders.mjs'), ORDERS_MJS);
    const out = ok(run(process.execPath, [join(repo, 'bin', 'tributary.js'), 'describe', join(project, 'orders.mjs')], repo), 'describe with a second copy');
    assert.match(out, /^Topology: orders$/m);
  });

  it('(c) npx tributary run: the tutorial on Kafka and MongoDB, read back with npx tributary serve', async () => {
    for (const command of ['npx tsx topics.ts', 'npx tributary run bookstore.ts', 'npx tsx feed.ts', 'npx tributary serve bookstore.ts --port 3000 &']) {
      assert.ok(tutorial.includes(`\n${command}\n`), `the tutorial says: ${command}`);
    }
    const prefix = `${uniqueName('tut').replace(/[^A-Za-z0-9-]/g, '')}.`;
    const database = prefix.replace(/[^A-Za-z0-9]/g, '_').slice(0, 60);
    const env = { TOPIC_PREFIX: prefix, MONGODB_DATABASE: database, KAFKA_BROKERS: services.kafkaBrokers.join(','), MONGODB_URL: services.mongoUrl, LOG_LEVEL: 'warn' };
    ok(run('npx', ['tsx', 'topics.ts'], project, env, 120_000), 'npx tsx topics.ts');
    const opsPort = await freePort();
    // The bin npx runs, started directly so that SIGTERM reaches it (npx does not forward signals) and its exit code is its own.
    const pipeline = start(process.execPath, ['node_modules/.bin/tributary', 'run', 'bookstore.ts', '--http-port', String(opsPort)], project, env);
    let reader: ReturnType<typeof start> | undefined;
    const mongo = new MongoClient(services.mongoUrl);
    try {
      await until('the pipeline ready', async () => ((await fetch(`http://127.0.0.1:${opsPort}/-/ready`)).ok ? true : undefined), 120_000);
      ok(run('npx', ['tsx', 'feed.ts'], project, env, 120_000), 'npx tsx feed.ts');
      await mongo.connect();
      const views = mongo.db(database).collection('sv_books');
      await until('three book views', async () => ((await views.countDocuments({ __STATE__: 'PUBLIC' })) === 3 && (await views.countDocuments({ 'authors.name': 'Sir Terry Pratchett' })) === 1 ? true : undefined), 120_000);

      const port = await freePort();
      reader = start(process.execPath, ['node_modules/.bin/tributary', 'serve', 'bookstore.ts', '--port', String(port)], project, env);
      const served = await until('the read API', async () => {
        const response = await fetch(`http://127.0.0.1:${port}/sv-books/?_p=book_id,title,price,authors`);
        return response.ok ? ((await response.json()) as Array<Record<string, unknown>>) : undefined;
      });
      const byId = Object.fromEntries(served.map(({ _id, ...view }) => (assert.ok(_id), [view['book_id'], view])));
      assert.deepEqual(byId, {
        b1: { book_id: 'b1', title: 'Good Omens', price: '24.99', authors: [{ author_id: 'a3', name: 'Neil Gaiman' }, { author_id: 'a2', name: 'Sir Terry Pratchett' }] },
        b2: { book_id: 'b2', title: 'The Dispossessed', price: '39.00', authors: [{ author_id: 'a1', name: 'Ursula K. Le Guin' }] },
        b3: { book_id: 'b3', title: 'Stardust', price: '7.50', authors: [{ author_id: 'a3', name: 'Neil Gaiman' }] },
      });
      for (const view of Object.values(byId)) assert.ok(tutorial.includes(JSON.stringify(view).slice(1)), `the tutorial shows ${JSON.stringify(view)}`);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- tributary run:\n${pipeline.output()}\n--- tributary serve:\n${reader?.output() ?? ''}`, { cause: error });
    } finally {
      reader?.child.kill('SIGTERM');
      pipeline.child.kill('SIGTERM');
      const [pipelineExit] = await Promise.all([pipeline.exited, reader?.exited]);
      await mongo.db(database).dropDatabase().catch(() => undefined);
      await mongo.close();
      assert.equal(pipelineExit, 0, `tributary run exits 0 on SIGTERM:\n${pipeline.output()}`);
    }
  });
});

function start(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv) {
  const child = spawn(command, args, { cwd, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

const ORDERS_MJS = `import { filter, hasValue, json, mapValues, string, toTopic, topology } from 'tributary';

const t = topology('orders');
t.stream('orders', { key: string(), value: json() }).pipe(
  filter(hasValue),
  filter((r) => r.value.total >= 100),
  mapValues((order) => ({ ...order, big: true })),
  toTopic('big-orders', { key: string(), value: json() }),
);
export default t;
`;

const ORDERS_TEST_MJS = `import { test } from 'node:test';
import assert from 'node:assert/strict';
import { json, string } from 'tributary';
import { TestDriver } from 'tributary/testing';
import orders from './orders.mjs';

test('keeps the big orders', async () => {
  const driver = await TestDriver.start(orders);
  try {
    await driver.pipeInput('orders', [{ key: 'o1', value: { total: 5 } }, { key: 'o2', value: { total: 250 } }, { key: 'o3', value: null }], { key: string(), value: json() });
    await driver.idle();
    const out = await driver.readOutput('big-orders', { key: string(), value: json() });
    assert.deepEqual(out.map((r) => [r.key, r.value]), [['o2', { total: 250, big: true }]]);
  } finally {
    await driver.close();
  }
});
`;
