/**
 * The demo command runs the example it is handed (the CLI injects customer-360; the command imports
 * no example) and prints varied sample views, two checks and the next steps.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { demoCommand } from '../../src/cli/commands/demo.js';
import { customer360Demo } from '../../topologies/customer-360.demo.js';

describe('tributary demo', () => {
  it('runs the injected example on the embedded engine: different people in the samples, checks, next steps', async () => {
    const lines: string[] = [];
    const picked: string[] = [];
    const example = { ...customer360Demo, sample: (views: Parameters<typeof customer360Demo.sample>[0]) => customer360Demo.sample(views).map((v) => (picked.push(String(v['name'])), v)) };
    await demoCommand({ events: '2000', customers: '60' }, (line) => lines.push(line), example, {});
    const output = lines.join('\n');
    assert.match(output, /^customer-360 on the embedded engine/);
    assert.equal(picked.length, 3);
    assert.equal(new Set(picked).size, 3, `three different people: ${picked.join(', ')}`);
    for (const name of picked) assert.match(output, new RegExp(`  c\\d{4}  ${name} <`));
    assert.match(output, /Check: views match the oracle/);
    assert.match(output, /Check: projections match the source tables/);
    const next = lines.slice(lines.indexOf('Next steps:'));
    assert.ok(next.length === 4, output);
    assert.match(next[1] ?? '', /^ {2}npx tributary describe topologies\/customer-360\.ts --format mermaid +the topology/);
    assert.match(next[2] ?? '', /^ {2}npx tributary demo --real +the same on Kafka/);
    assert.match(next[3] ?? '', /^ {2}docs\/tutorial\.md +build your own/);
  });
});
