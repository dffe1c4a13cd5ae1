/** The `tributary` command as a user runs it: a child process, its output and exit code. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

const cli = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, ['bin/tributary.js', ...args], { encoding: 'utf8', env: { ...process.env, LOG_LEVEL: 'warn', ...env }, timeout: 120_000 });

describe('tributary CLI', () => {
  it('--help lists the commands; each command has its own --help', () => {
    const top = cli(['--help']);
    assert.equal(top.status, 0);
    for (const command of ['run', 'describe', 'demo', 'infra']) assert.match(top.stdout, new RegExp(`^  ${command}`, 'm'));
    for (const command of ['run', 'describe', 'demo', 'infra']) {
      const sub = cli([command, '--help']);
      assert.equal(sub.status, 0, `${command} --help`);
      assert.match(sub.stdout, new RegExp(`^Usage: tributary ${command}`));
    }
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
    assert.match(mermaid, /op_0_2_toTopic --> topic_shop_big_orders/);
  });

  it('a bad value names the setting, the value and what is accepted, and exits 2 before connecting', () => {
    const bad = cli(['run', 'topologies/orders-enricher.ts'], { KAFKA_BROKERS: 'not a broker list' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /invalid KAFKA_BROKERS="not a broker list": expected a comma-separated list of host:port/);
    const badFormat = cli(['describe', 'topologies/orders-enricher.ts', '--format', 'svg']);
    assert.equal(badFormat.status, 2);
    assert.match(badFormat.stderr, /invalid --format="svg": expected text, mermaid, json/);
    const unknownFlag = cli(['describe', '--colour']);
    assert.equal(unknownFlag.status, 2);
  });

  it('demo runs the example end to end on the embedded engine', () => {
    const demo = cli(['demo', '--records', '2000']);
    assert.equal(demo.status, 0, demo.stderr);
    const summary = /Summary: (\d+) records in, (\d+) big orders out, (\d+) dead letters/.exec(demo.stdout);
    assert.ok(summary, demo.stdout);
    assert.equal(Number(summary[1]), 2003);
    assert.ok(Number(summary[2]) > 0 && Number(summary[2]) < 2000);
    assert.equal(Number(summary[3]), 3);
  });
});
