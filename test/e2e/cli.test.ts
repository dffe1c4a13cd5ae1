/** The `tributary` command as a user runs it: a child process, its output and exit code. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_SEED } from '../../src/cli/commands/demo.js';
import { expectedProjections, generateHistory } from '../../topologies/customer-360.generator.js';

const cli = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, ['bin/tributary.js', ...args], { encoding: 'utf8', env: { ...process.env, LOG_LEVEL: 'warn', ...env }, timeout: 120_000 });

describe('tributary CLI', () => {
  it('--help lists the commands; each command has its own --help; --version prints the package version', () => {
    const commands = ['run', 'describe', 'topics', 'serve', 'pause', 'resume', 'status', 'refresh', 'demo', 'infra'];
    const top = cli(['--help']);
    assert.equal(top.status, 0);
    for (const command of commands) assert.match(top.stdout, new RegExp(`^  ${command}`, 'm'));
    for (const command of commands) {
      const sub = cli([command, '--help']);
      assert.equal(sub.status, 0, `${command} --help`);
      assert.match(sub.stdout, new RegExp(`^Usage: tributary ${command}`));
      assert.match(sub.stdout, /--config <file\.json>/, `${command} takes --config`);
    }
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    assert.equal(cli(['--version']).stdout, `tributary ${version}\n`);
  });

  it('each command takes only its own flags, and reads its own settings from --config', () => {
    const misplaced = cli(['serve', 'topologies/customer-360.ts', '--kafka-brokers', '127.0.0.1:9092']);
    assert.equal(misplaced.status, 2);
    assert.match(misplaced.stderr, /^tributary: TRB_CONFIG: --kafka-brokers is not an option of "serve" \(it is one of run, topics, refresh, dlq\)\n\nUsage: tributary serve/);
    const file = join(mkdtempSync(join(tmpdir(), 'trb-e2e-cli-')), 'tributary.json');
    writeFileSync(file, JSON.stringify({ port: 'eighty', mongo: 'mongodb://127.0.0.1:1' }));
    const serve = cli(['serve', 'topologies/customer-360.ts', '--config', file], { MONGODB_URL: '' });
    assert.equal(serve.status, 2);
    assert.match(serve.stderr, /tributary: TRB_CONFIG: invalid .*tributary\.json: "port"="eighty": expected an integer port/);
    writeFileSync(file, JSON.stringify({ format: 'mermaid' }));
    assert.match(cli(['describe', 'topologies/orders-enricher.ts', '--config', file]).stdout, /^flowchart LR/);
  });

  it('topics --offline lists every topic a topology reads and writes, with its role', () => {
    const topics = cli(['topics', 'topologies/customer-360.ts', '--offline']);
    assert.equal(topics.status, 0, topics.stderr);
    assert.match(topics.stdout, /^crm\.public\.customers +source$/m);
    assert.match(topics.stdout, /^pr_customers\.pr-update +internal$/m);
    assert.match(topics.stdout, /^sv_customers\.sv-trigger +internal$/m);
    assert.match(topics.stdout, /^crm\.public\.customers\.dlq +dead-letter$/m);
  });

  it('describe prints text, JSON and a Mermaid flowchart of the example topology', () => {
    const text = cli(['describe', 'topologies/orders-enricher.ts']);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /Source: shop\.orders/);
    assert.match(text.stdout, /Sink: topic shop\.big-orders/);

    const json = JSON.parse(cli(['describe', 'topologies/orders-enricher.ts', '--format', 'json']).stdout) as { subTopologies: Array<{ sinks: unknown[]; deadLetterTopics: string[] }> };
    assert.deepEqual(json.subTopologies[0]?.sinks, [{ kind: 'topic', name: 'shop.big-orders' }]);
    assert.deepEqual(json.subTopologies[0]?.deadLetterTopics, ['shop.orders.dlq']);

    const mermaid = cli(['describe', 'topologies/orders-enricher.ts', '--format', 'mermaid']).stdout;
    assert.match(mermaid, /^flowchart LR\n/);
    assert.match(mermaid, /topic_shop_orders\[\["shop\.orders"\]\] *\n|topic_shop_orders\[\["shop\.orders"\]\]/);
    assert.match(mermaid, /op_0_\d+_toTopic --> topic_shop_big_orders/);

    const dot = cli(['describe', 'topologies/orders-enricher.ts', '--format', 'dot']).stdout;
    assert.match(dot, /^digraph "orders-enricher" \{\n {2}rankdir=LR;/);
    assert.match(dot, /"topic:shop\.orders" -> "stream:[^"]+";/);
    assert.match(dot, /"stream:[^"]+" -> "topic:shop\.big-orders";/);
    assert.match(dot, /-> "dlq:shop\.orders\.dlq" \[style=dashed/);
  });

  it('a bad value names the setting, the value and what is accepted, and exits 2 before connecting', () => {
    const bad = cli(['run', 'topologies/orders-enricher.ts'], { KAFKA_BROKERS: 'not a broker list' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^tributary: TRB_CONFIG: invalid KAFKA_BROKERS="not a broker list": expected a comma-separated list of host:port/);
    const badFormat = cli(['describe', 'topologies/orders-enricher.ts', '--format', 'svg']);
    assert.equal(badFormat.status, 2);
    assert.match(badFormat.stderr, /invalid --format="svg": expected text, mermaid, json, dot/);
    const unknownFlag = cli(['describe', '--colour']);
    assert.equal(unknownFlag.status, 2);
    assert.match(unknownFlag.stderr, /unknown option --colour for "describe"/);
    const replicaSet = cli(['run', 'topologies/orders-enricher.ts'], { MONGODB_URL: 'mongodb://app:s3cret@h1:27017,h2:27017/x?tls=sometimes' });
    assert.equal(replicaSet.status, 2);
    assert.match(replicaSet.stderr, /invalid MONGODB_URL="mongodb:\/\/app:\*\*\*@h1:27017,h2:27017\/x\?tls=sometimes": expected a connection string the MongoDB driver accepts/);
    assert.ok(!replicaSet.stderr.includes('s3cret'));
  });

  it('demo runs customer-360 end to end on the embedded engine and checks it', () => {
    const demo = cli(['demo', '--events', '2000', '--customers', '60']);
    assert.equal(demo.status, 0, demo.stderr);
    const summary = /Summary: (\d+) events in, projections pr_customers (\d+), pr_orders (\d+), pr_order_lines (\d+), pr_preferences (\d+) \(live rows\), (\d+) views, (\d+) dead letters, [\d.]+ s \([\d,]+ events\/s/.exec(demo.stdout);
    assert.ok(summary, demo.stdout);
    // The same seeded history, generated here: what the sources hold at the end.
    const history = generateHistory({ seed: DEMO_SEED, events: 2000, customers: 60 });
    const expected = expectedProjections(history.truth);
    assert.deepEqual(summary.slice(1).map(Number), [
      2000,
      expected.pr_customers.length,
      expected.pr_orders.length,
      expected.pr_order_lines.length,
      expected.pr_preferences.length,
      history.truth.customers.filter((c) => c.full_name !== '').length, // validate() drops nameless customers
      0,
    ]);
    assert.match(demo.stdout, /^Check: views match the oracle \((\d+) of \1\)$/m);
    assert.match(demo.stdout, /^Check: projections match the source tables$/m);
    assert.match(demo.stdout, /^Some views of sv_customers:\n {2}c\d{4} {2}/m);

    const bad = cli(['demo', '--events', 'lots']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /invalid --events="lots": expected an integer from 1 to 5000000/);
  });
});
