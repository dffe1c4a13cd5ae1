/** The operator-facing docs stay true to the metric names defined in one file. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { METRIC_NAMES, SERVE_METRIC_DEFINITIONS } from '../../src/ops/metric-names.js';

const all = [...METRIC_NAMES, ...Object.keys(SERVE_METRIC_DEFINITIONS)];

describe('operations docs', () => {
  it('the Grafana dashboard charts every metric, and only metrics that exist', () => {
    const dashboard = JSON.parse(readFileSync('docs/grafana-dashboard.json', 'utf8')) as { panels: Array<{ targets: Array<{ expr: string }> }> };
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
    for (const name of all) assert.ok(exprs.some((e) => e.includes(name)), `${name} has no panel`);
    const used = new Set(exprs.flatMap((e) => e.match(/tributary_[a-z_]+/g) ?? []).map((n) => n.replace(/_(bucket|sum|count)$/, '')));
    for (const name of used) assert.ok(all.includes(name as never), `the dashboard uses ${name}, which Tributary does not export`);
  });

  it('docs/operations.md lists every metric', () => {
    const text = readFileSync('docs/operations.md', 'utf8');
    for (const name of all) assert.ok(text.includes(name), `${name} is missing from docs/operations.md`);
  });
});
