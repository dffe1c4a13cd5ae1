/**
 * The dashboard's feed, without a browser: the graph matches describe(), the snapshot's numbers
 * come from the metrics registry and the broker (embedded engine), lag is right for partitions the
 * group never committed, and the SSE stream sends topology, ticks and state changes.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { createDashboard, type DashboardSnapshot } from '../../src/dashboard/index.js';
import { startOpsServer } from '../../src/ops/index.js';
import { TestDriver } from '../../src/testing/index.js';
import { customer360 } from '../../topologies/customer-360.js';
import { generateHistory, pipeHistory } from '../../topologies/customer-360.generator.js';

const t = customer360();
const partitions = Object.fromEntries(t.allTopics.map((topic) => [topic, 2]));

async function getJson<T>(url: string): Promise<T> {
  const r = await fetch(url);
  assert.equal(r.status, 200, url);
  return (await r.json()) as T;
}

/** Reads an SSE stream until `done(events)` holds; returns the events seen. `onEvent` hears each one as it arrives. */
function readEvents(
  url: string,
  done: (events: Array<{ event: string; data: unknown }>) => boolean,
  onEvent: (event: { event: string; data: unknown }) => void = () => undefined,
  timeoutMs = 10_000,
): Promise<Array<{ event: string; data: unknown }>> {
  return new Promise((resolve, reject) => {
    const events: Array<{ event: string; data: unknown }> = [];
    let buffer = '';
    const req = request(url, (res) => {
      assert.match(String(res.headers['content-type']), /^text\/event-stream/);
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) {
            events.push({ event, data: JSON.parse(data) as unknown });
            onEvent(events.at(-1) as { event: string; data: unknown });
          }
        }
        if (done(events)) {
          req.destroy();
          resolve(events);
        }
      });
    });
    req.on('error', (error) => (events.length && done(events) ? resolve(events) : reject(error)));
    req.end();
    setTimeout(() => (req.destroy(), reject(new Error(`SSE: timed out with ${events.map((e) => e.event).join(',')}`))), timeoutMs).unref();
  });
}

describe('dashboard feed', () => {
  it('graph = describe(); snapshot rates, states and lag from the registry and the broker; SSE sends topology, ticks and state changes', async () => {
    const driver = await TestDriver.start(t, { partitions });
    const dashboard = createDashboard(t, () => driver.running, { intervalMs: 100 });
    const server = await startOpsServer({ port: 0, routes: dashboard.routes });
    try {
      // The graph: every stream, every source topic, sink and dead-letter topic of describe(), one edge each.
      const graph = await getJson<{ nodes: Array<{ id: string; kind: string }>; edges: Array<{ id: string; kind: string }> }>(`${server.url}/dashboard/graph.json`);
      const subs = t.describe().subTopologies;
      for (const s of subs) {
        assert.ok(graph.nodes.some((n) => n.id === `stream:${s.name}`), s.name);
        for (const src of s.sources) assert.ok(graph.nodes.some((n) => n.id === `topic:${src.topic}`), src.topic);
        for (const sink of s.sinks) assert.ok(graph.nodes.some((n) => n.id === `${sink.kind === 'collection' ? 'collection' : 'topic'}:${sink.name}`), sink.name);
        for (const dlq of s.deadLetterTopics) assert.ok(graph.nodes.some((n) => n.id === `dlq:${dlq}`), dlq);
      }
      assert.equal(graph.edges.length, subs.reduce((n, s) => n + s.sources.length + s.sinks.length + s.deadLetterTopics.length, 0));
      assert.match(await (await fetch(`${server.url}/dashboard/graph.mmd`)).text(), /^flowchart LR/);
      const svg = await (await fetch(`${server.url}/dashboard/graph.svg`)).text();
      for (const n of graph.nodes) assert.ok(svg.includes(`data-node="${n.id}"`), `svg has ${n.id}`);
      assert.match(await (await fetch(`${server.url}/dashboard`)).text(), /<title>customer-360 · Tributary<\/title>/);

      await dashboard.tick();
      await pipeHistory(driver, generateHistory({ seed: 5, customers: 10, events: 300 }));
      await driver.idle(30_000);
      const snapshot = (await dashboard.tick()) as DashboardSnapshot;
      assert.deepEqual(snapshot.streams.map((s) => s.name).sort(), t.streams().map((s) => s.name).sort());
      assert.ok(snapshot.streams.every((s) => s.state === 'running'), JSON.stringify(snapshot.streams.map((s) => s.state)));
      const consume = graph.edges.filter((e) => e.kind === 'consume' && e.id.startsWith(`topic:${t.sourceTopics.orders}`));
      assert.ok(consume.length === 1 && (snapshot.edges[consume[0]!.id] ?? 0) > 0, 'records/s on the orders source edge');
      const view = snapshot.collections.find((c) => c.name === 'sv_customers');
      assert.ok(view && view.lastWriteAgeMs !== null && view.endToEndP99Ms !== null, JSON.stringify(view));
      assert.equal(snapshot.totalLag, 0);
      assert.ok(snapshot.lag.every((l) => l.committed !== null || BigInt(l.end) === 0n));
      assert.deepEqual((await getJson<DashboardSnapshot>(`${server.url}/dashboard/snapshot`)).streams.map((s) => s.name).sort(), snapshot.streams.map((s) => s.name).sort());

      // SSE: topology and a tick on connect; a state change when a stage is paused; lag grows while it is.
      // The pause comes once the stream is connected (its first event), so the state change cannot be missed.
      let connected!: () => void;
      const isConnected = new Promise<void>((resolve) => (connected = resolve));
      const events = readEvents(`${server.url}/dashboard/events`, (list) => list.some((e) => e.event === 'state' && (e.data as { to: string }).to === 'paused'), () => connected());
      await isConnected;
      driver.running.pause('ingest');
      const seen = await events;
      assert.equal(seen[0]?.event, 'topology');
      assert.ok(seen.some((e) => e.event === 'tick'));
      await pipeHistory(driver, generateHistory({ seed: 6, customers: 3, events: 40 }));
      const paused = (await dashboard.tick()) as DashboardSnapshot;
      assert.ok(paused.totalLag > 0, 'lag grows while ingest is paused');
      assert.equal(paused.lag[0]?.lag, Math.max(...paused.lag.map((l) => l.lag)), 'worst first');
      const ingest = new Set(t.streams().filter((s) => s.stage === 'ingest').map((s) => s.name));
      assert.ok(ingest.size === 4 && paused.streams.filter((s) => ingest.has(s.name)).every((s) => s.state === 'paused'));
      driver.running.resume('ingest');
      await driver.idle(30_000);
      assert.equal(((await dashboard.tick()) as DashboardSnapshot).totalLag, 0, 'drained after resume');
    } finally {
      dashboard.close();
      await server.close();
      await driver.close();
    }
  });

  it('lag of a partition the group never committed counts from the low watermark', async () => {
    const driver = await TestDriver.start(t, { partitions, startPaused: true });
    const dashboard = createDashboard(t, () => driver.running, { intervalMs: 60_000 });
    try {
      await pipeHistory(driver, generateHistory({ seed: 7, customers: 4, events: 30 }));
      const snapshot = (await dashboard.tick()) as DashboardSnapshot;
      const rows = snapshot.lag.filter((l) => l.lag > 0);
      assert.ok(rows.length > 0);
      for (const row of rows) {
        assert.equal(row.committed, null, 'never committed');
        assert.equal(row.lag, Number(row.end), 'counted from offset 0 (the low watermark)');
      }
    } finally {
      dashboard.close();
      await driver.close();
    }
  });
});
