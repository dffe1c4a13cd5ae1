/**
 * `/dashboard` on the ops server: the page, the graph exports, the JSON snapshot and the
 * Server-Sent Events feed.
 *
 *   GET /dashboard            the page (no external assets)
 *   GET /dashboard/events     SSE: `topology` on connect, `tick` every interval, `state` on a stream's state change
 *   GET /dashboard/snapshot   the latest tick as JSON (the same object the `tick` event carries)
 *   GET /dashboard/graph.svg | graph.mmd | graph.json | graph.dot   the topology graph as SVG, Mermaid, JSON, DOT
 */
import type { ServerResponse } from 'node:http';
import type { OpsRoute } from '../ops/http-server.js';
import type { TopologyDescription } from '../stream/describe.js';
import { graphDot } from './dot.js';
import { topologyGraph, type TopologyGraph } from './graph.js';
import { dashboardPage } from './page.js';
import { DashboardSampler, type DashboardEngine, type DashboardSnapshot, type SamplerOptions } from './sampler.js';
import { graphSvg } from './svg.js';

export interface DashboardOptions extends SamplerOptions {
  /** Scrape interval (default 1000 ms). */
  readonly intervalMs?: number;
  /** Which definition of each single view is live (blue/green refreshes), for `/dashboard/definitions`. */
  readonly definitions?: () => Promise<ReadonlyArray<Record<string, unknown>>>;
}

export interface Dashboard {
  readonly routes: OpsRoute[];
  readonly graph: TopologyGraph;
  /** Scrapes now (also done every interval); for tests. */
  tick(): Promise<DashboardSnapshot | undefined>;
  /** Stops the timer and ends every open event stream. */
  close(): void;
}

/** What the page draws: the topology's name and description (a `Topology` is one). */
export interface DashboardTopology {
  readonly name: string;
  describe(): TopologyDescription;
}

/**
 * The dashboard is handed what it shows and reaches into nothing else: the topology's description,
 * and the running engine (status, broker lag, metric samples; a `RunningTopology` is one), or
 * undefined while it starts.
 */
export function createDashboard(topology: DashboardTopology, running: () => DashboardEngine | undefined, options: DashboardOptions = {}): Dashboard {
  const description = topology.describe();
  const graph = topologyGraph(description.toJSON());
  const sampler = new DashboardSampler(graph, running, options);
  const clients = new Set<ServerResponse>();
  let states = new Map<string, string>();

  const send = (res: ServerResponse, event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  const tick = async () => {
    const snapshot = await sampler.tick();
    if (!snapshot) return undefined;
    const next = new Map(snapshot.streams.map((s) => [s.name, s.state]));
    for (const [stream, state] of next) {
      const before = states.get(stream);
      if (before !== undefined && before !== state) for (const res of clients) send(res, 'state', { at: snapshot.at, stream, from: before, to: state });
    }
    states = next;
    for (const res of clients) send(res, 'tick', snapshot);
    return snapshot;
  };
  // Scraping runs whether or not a page is open, so the sparklines have history when one opens;
  // the snapshot (and the state changes it carries) is worked out only for open pages.
  const recordOnly = async () => {
    states = new Map(); // no page saw these states: an open page starts from the next snapshot's
    await sampler.record();
  };
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void (clients.size > 0 ? tick() : recordOnly()).catch(() => undefined).finally(() => (busy = false));
  }, options.intervalMs ?? 1000);
  timer.unref();

  const page = dashboardPage(topology.name);
  const routes: OpsRoute[] = [
    { method: 'GET', path: '/dashboard', handler: async () => ({ status: 200, body: page, contentType: 'text/html; charset=utf-8' }) },
    {
      method: 'GET',
      path: '/dashboard/events',
      handler: async () => ({
        status: 200,
        body: null,
        stream: (res, req) => {
          // A client that reconnects after 1 s (EventSource's default is 3 s): a restarted server is found quickly.
          res.write('retry: 1000\n\n');
          send(res, 'topology', graph);
          const latest = sampler.snapshot();
          if (latest) send(res, 'tick', latest);
          // The first page open: state changes count from what it was just sent.
          if (latest && clients.size === 0) states = new Map(latest.streams.map((s) => [s.name, s.state]));
          clients.add(res);
          const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
          keepAlive.unref();
          req.on('close', () => {
            clearInterval(keepAlive);
            clients.delete(res);
          });
        },
      }),
    },
    { method: 'GET', path: '/dashboard/snapshot', handler: async () => ({ status: sampler.snapshot() ? 200 : 503, body: sampler.snapshot() ?? { error: 'starting' } }) },
    { method: 'GET', path: '/dashboard/graph.svg', handler: async () => ({ status: 200, body: graphSvg(graph, sampler.snapshot()), contentType: 'image/svg+xml' }) },
    { method: 'GET', path: '/dashboard/graph.mmd', handler: async () => ({ status: 200, body: description.toMermaid(), contentType: 'text/plain; charset=utf-8' }) },
    { method: 'GET', path: '/dashboard/graph.json', handler: async () => ({ status: 200, body: graph }) },
    // --- single-view definitions (blue/green): which one is live, and whether this process writes ---
    {
      method: 'GET',
      path: '/dashboard/definitions',
      handler: async () => {
        if (!options.definitions) return { status: 200, body: [] };
        try {
          return { status: 200, body: await options.definitions() };
        } catch (error) {
          return { status: 503, body: { error: error instanceof Error ? error.message : String(error) } };
        }
      },
    },
    // --- end single-view definitions ---
    { method: 'GET', path: '/dashboard/graph.dot', handler: async () => ({ status: 200, body: graphDot(graph), contentType: 'text/vnd.graphviz; charset=utf-8' }) },
  ];
  return {
    routes,
    graph,
    tick,
    close() {
      clearInterval(timer);
      for (const res of clients) res.end();
      clients.clear();
    },
  };
}
