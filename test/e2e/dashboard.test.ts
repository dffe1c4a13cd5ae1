/// <reference lib="dom" />
/**
 * The dashboard in a real headless browser (Debian's chromium driven by playwright-core; no
 * browser download): customer-360 on the embedded engine with its ops server, the page checked
 * against describe(), counters and freshness moving as events arrive, a stage paused from the page
 * (lag grows) and resumed (lag drains), the server restarted and the page reconnecting. Saves a
 * screenshot to test/e2e/output/dashboard.png (and docs/dashboard.png with UPDATE_SCREENSHOT=1).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { controlRoutes } from '../../src/cli/commands/control.js';
import { createDashboard, type Dashboard } from '../../src/dashboard/index.js';
import { startOpsServer, type OpsServer } from '../../src/ops/index.js';
import { TestDriver } from '../../src/testing/index.js';
import { customer360 } from '../../topologies/customer-360.js';
import { generateHistory, pipeHistory } from '../../topologies/customer-360.generator.js';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const TOKEN = 'dashboard-test-token';
const t = customer360();

describe('dashboard in a headless browser', () => {
  let driver: TestDriver;
  let browser: Browser;
  let page: Page;
  let dashboard: Dashboard;
  let server: OpsServer;
  let port = 0;

  const serve = async () => {
    dashboard = createDashboard(t, () => driver.running, { intervalMs: 250 });
    server = await startOpsServer({ port, controlToken: TOKEN, routes: [...controlRoutes(() => driver.running), ...dashboard.routes] });
    port = server.port;
  };

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `no browser at ${CHROMIUM}: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH`);
    driver = await TestDriver.start(t, { partitions: Object.fromEntries(t.allTopics.map((topic) => [topic, 2])) });
    await serve();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
    page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  });
  after(async () => {
    await browser?.close();
    dashboard?.close();
    await server?.close();
    await driver?.close();
  });

  const totalLag = async () => Number(await page.textContent('#total-lag'));

  it('draws describe(), moves with the data, pauses and resumes a stage, and reconnects after a restart', { timeout: 180_000 }, async () => {
    await page.goto(`http://127.0.0.1:${port}/dashboard`);
    await page.waitForFunction(() => document.querySelector('#conn')?.textContent === 'live');
    await page.waitForSelector('#graph [data-node]');

    // Nodes and edges are describe()'s.
    const subs = t.describe().subTopologies;
    for (const s of subs) assert.equal(await page.locator(`[data-node="stream:${s.name}"]`).count(), 1, s.name);
    const expectedEdges = subs.reduce((n, s) => n + s.sources.length + s.sinks.length + s.deadLetterTopics.length, 0);
    assert.equal(await page.locator('#graph [data-edge]').count(), expectedEdges);
    assert.equal(await page.locator('#graph [data-node]').count(), dashboard.graph.nodes.length);

    // Events arrive: a rate on the orders source edge and the view collection's freshness move.
    await pipeHistory(driver, generateHistory({ seed: 11, customers: 20, events: 600 }));
    const ordersEdge = dashboard.graph.edges.find((e) => e.kind === 'consume' && e.target === t.sourceTopics.orders)!;
    await page.waitForFunction((id) => document.querySelector(`[data-rate-for="${id}"]`)?.textContent !== '0/s', ordersEdge.id, { timeout: 30_000 });
    await page.waitForFunction(() => (document.querySelector('[data-collection="sv_customers"] td:nth-child(3)')?.textContent ?? '—') !== '—', undefined, { timeout: 30_000 });
    await driver.idle(30_000);
    await page.waitForFunction(() => document.querySelector('#total-lag')?.textContent === '0', undefined, { timeout: 30_000 });

    // Click a node: its detail.
    await page.click('[data-node="stream:aggregate:sv_customers"]');
    await page.waitForFunction(() => document.querySelector('#detail h3')?.textContent?.includes('aggregate:sv_customers'));

    // Without the token the control API refuses; with it, ingest pauses (undo offered) and lag grows.
    await page.click('button[data-action="pause"][data-target="ingest"]');
    await page.waitForFunction(() => document.querySelector('#control-result')?.getAttribute('data-ok') === 'false');
    await page.fill('#token', TOKEN);
    await page.click('button[data-action="pause"][data-target="ingest"]');
    await page.waitForFunction(() => document.querySelector('#control-result')?.getAttribute('data-ok') === 'true');
    assert.equal(await page.isVisible('#undo'), true, 'undo offered');
    await page.waitForFunction(() => document.querySelector('[data-node="stream:ingest:pr_orders"]')?.getAttribute('data-state') === 'paused');
    await pipeHistory(driver, generateHistory({ seed: 12, customers: 5, events: 200 }));
    await page.waitForFunction(() => Number(document.querySelector('#total-lag')?.textContent) > 0, undefined, { timeout: 30_000 });
    const grown = await totalLag();
    assert.ok(grown > 0);
    assert.equal(await page.getAttribute('#lag tbody tr:first-child', 'data-lag'), String(Math.max(...(await page.$$eval('#lag tbody tr', (rows) => rows.map((r) => Number(r.getAttribute('data-lag'))))))), 'worst first');

    mkdirSync('test/e2e/output', { recursive: true });
    await page.screenshot({ path: 'test/e2e/output/dashboard.png', fullPage: true });
    if (process.env['UPDATE_SCREENSHOT'] === '1') copyFileSync('test/e2e/output/dashboard.png', 'docs/dashboard.png');

    await page.click('button[data-action="resume"][data-target="ingest"]');
    await page.waitForFunction(() => document.querySelector('#total-lag')?.textContent === '0', undefined, { timeout: 60_000 });

    // The server restarts: the page says so, then reconnects by itself.
    dashboard.close();
    await server.close();
    await page.waitForFunction(() => document.querySelector('#conn')?.textContent === 'reconnecting…', undefined, { timeout: 30_000 });
    await serve();
    await page.waitForFunction(() => document.querySelector('#conn')?.textContent === 'live', undefined, { timeout: 30_000 });
    await page.waitForFunction(() => document.querySelector('#total-lag')?.textContent === '0', undefined, { timeout: 30_000 });
  });
});
