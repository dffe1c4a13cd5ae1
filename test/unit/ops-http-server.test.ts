import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createMetrics } from '../../src/ops/metrics.js';
import { startOpsServer } from '../../src/ops/http-server.js';
import type { HealthReport, OpsServer, OpsServerOptions } from '../../src/ops/http-server.js';
import { TributaryError } from '../../src/errors.js';
import { Redactor } from '../../src/ops/secrets.js';

const started: OpsServer[] = [];
after(async () => {
  await Promise.all(started.map((server) => server.close()));
});

async function start(options: OpsServerOptions = {}): Promise<OpsServer> {
  const server = await startOpsServer({ port: 0, ...options });
  started.push(server);
  return server;
}

async function json(response: Response): Promise<Record<string, unknown>> {
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  return (await response.json()) as Record<string, unknown>;
}

describe('ops HTTP server', () => {
  it('binds 127.0.0.1 by default and reports the real port', async () => {
    const server = await start();
    assert.equal(server.address.address, '127.0.0.1');
    assert.equal(server.host, '127.0.0.1');
    assert.ok(server.port > 0);
    assert.equal(server.url, `http://127.0.0.1:${server.port}`);
  });

  it('serves Prometheus metrics from the provider', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.recordsIn('orders', 'cdc.orders', 3);
    const server = await start({ metrics: async () => ({ contentType: metrics.contentType, body: await metrics.text() }) });
    const response = await fetch(`${server.url}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0.0.4/);
    assert.match(await response.text(), /tributary_records_in_total\{stream="orders",topic="cdc.orders"\} 3/);
  });

  it('serves the Metrics object itself (what runTopology was given), without a wrapper function', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.recordsOut('orders', 'shop.big-orders', 2);
    const server = await start({ metrics });
    const response = await fetch(`${server.url}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0.0.4/);
    assert.match(await response.text(), /tributary_records_out_total\{stream="orders",topic="shop.big-orders"\} 2/);
  });

  it('answers 404 for endpoints without a provider and for unknown paths', async () => {
    const server = await start();
    for (const path of ['/metrics', '/topology', '/nope']) {
      const response = await fetch(`${server.url}${path}`);
      assert.equal(response.status, 404, path);
      assert.equal(typeof (await json(response))['error'], 'string');
    }
  });

  it('reports liveness: ok without a provider, 503 with reasons when a check fails', async () => {
    let report: HealthReport = { ok: true, checks: { loop: { ok: true } } };
    const plain = await start();
    const ok = await fetch(`${plain.url}/-/healthz`);
    assert.equal(ok.status, 200);
    assert.equal((await json(ok))['status'], 'ok');

    const server = await start({ health: () => report });
    assert.deepEqual(await json(await fetch(`${server.url}/-/healthz`)), { status: 'ok', checks: { loop: { ok: true } }, reasons: [] });
    report = { ok: false, checks: { loop: { ok: false, detail: 'stalled 12s' } } };
    const failing = await fetch(`${server.url}/-/healthz`);
    assert.equal(failing.status, 503);
    assert.deepEqual((await json(failing))['reasons'], ['loop: stalled 12s']);
  });

  it('flips readiness from 503 to 200 when the provider does', async () => {
    let ready = false;
    const server = await start({
      readiness: () => ({ ok: ready, checks: { kafka: ready ? { ok: true } : { ok: false, detail: 'no partitions assigned' }, mongo: { ok: true } } }),
    });
    const before = await fetch(`${server.url}/-/ready`);
    assert.equal(before.status, 503);
    const body = await json(before);
    assert.equal(body['status'], 'fail');
    assert.deepEqual(body['reasons'], ['kafka: no partitions assigned']);
    ready = true;
    const now = await fetch(`${server.url}/-/ready`);
    assert.equal(now.status, 200);
    assert.equal((await json(now))['status'], 'ok');
  });

  it('turns a throwing health provider into a 503', async () => {
    const server = await start({
      readiness: () => {
        throw new Error('boom');
      },
    });
    const response = await fetch(`${server.url}/-/ready`);
    assert.equal(response.status, 503);
    assert.deepEqual((await json(response))['reasons'], ['provider: boom']);
  });

  it('serves the topology as JSON and rejects other methods on built-ins', async () => {
    const server = await start({ topology: () => ({ streams: [{ name: 'orders', sources: ['cdc.orders'] }] }) });
    const response = await fetch(`${server.url}/topology`);
    assert.equal(response.status, 200);
    assert.deepEqual(await json(response), { streams: [{ name: 'orders', sources: ['cdc.orders'] }] });
    const post = await fetch(`${server.url}/metrics`, { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
  });

  describe('routes', () => {
    const calls: unknown[] = [];
    const routes: OpsServerOptions['routes'] = [
      {
        method: 'POST',
        path: '/control/pause',
        auth: true,
        handler: async ({ body, query }) => {
          calls.push({ body, stream: query.get('stream') });
          return { status: 200, body: { paused: true } };
        },
      },
      { method: 'GET', path: '/info', handler: async ({ query }) => ({ status: 200, body: { q: query.get('q') } }) },
      {
        method: 'GET',
        path: '/broken',
        handler: async () => {
          throw new TributaryError('TRB_PROCESS', 'handler exploded');
        },
      },
    ];

    it('requires the bearer token on auth routes', async () => {
      const errors: unknown[] = [];
      const server = await start({ routes, controlToken: 's3cret-token-0123456789', onError: (error) => errors.push(error) });
      const url = `${server.url}/control/pause?stream=orders`;
      const init = { method: 'POST', body: JSON.stringify({ partitions: [1] }) };

      const missing = await fetch(url, init);
      assert.equal(missing.status, 401);
      assert.deepEqual(await json(missing), { error: 'unauthorized' });

      const wrong = await fetch(url, { ...init, headers: { authorization: 'Bearer s3cret-token-0123456789X' } });
      assert.equal(wrong.status, 401);
      assert.deepEqual(await json(wrong), { error: 'unauthorized' });

      const wrongScheme = await fetch(url, { ...init, headers: { authorization: 'Basic s3cret-token' } });
      assert.equal(wrongScheme.status, 401);
      await wrongScheme.body?.cancel();
      assert.equal(calls.length, 0);

      const right = await fetch(url, { ...init, headers: { authorization: 'Bearer s3cret-token-0123456789' } });
      assert.equal(right.status, 200);
      assert.deepEqual(await json(right), { paused: true });
      assert.deepEqual(calls, [{ body: { partitions: [1] }, stream: 'orders' }]);

      const badJson = await fetch(url, { method: 'POST', body: '{nope', headers: { authorization: 'Bearer s3cret-token-0123456789' } });
      assert.equal(badJson.status, 400);
      await badJson.body?.cancel();

      const open = await fetch(`${server.url}/info?q=x`);
      assert.deepEqual(await json(open), { q: 'x' });
      const wrongMethod = await fetch(`${server.url}/info`, { method: 'POST' });
      assert.equal(wrongMethod.status, 405);
      await wrongMethod.body?.cancel();

      const broken = await fetch(`${server.url}/broken`);
      assert.equal(broken.status, 500);
      assert.deepEqual(await json(broken), { error: 'handler exploded', code: 'TRB_PROCESS' });
      assert.equal(errors.length, 1);
    });

    it('disables auth routes with 403 when no token is configured', async () => {
      const server = await start({ routes });
      const response = await fetch(`${server.url}/control/pause`, { method: 'POST', headers: { authorization: 'Bearer anything' } });
      assert.equal(response.status, 403);
      assert.deepEqual(await json(response), { error: 'control disabled: no token configured' });
      assert.equal((await fetch(`${server.url}/info`)).status, 200);
    });

    it('rejects duplicate and reserved route paths at start', async () => {
      await assert.rejects(startOpsServer({ port: 0, routes: [routes[1]!, routes[1]!] }), { code: 'TRB_CONFIG' });
      await assert.rejects(startOpsServer({ port: 0, routes: [{ ...routes[1]!, path: '/metrics' }] }), { code: 'TRB_CONFIG' });
    });
  });

  describe('read token and redaction', () => {
    const READ = 'read-token-0123456789abcdef';
    const CONTROL = 'control-token-0123456789abc';
    const SECRET = 'planted-s3cret-value';
    const routes: OpsServerOptions['routes'] = [
      { method: 'GET', path: '/status', handler: async () => ({ status: 200, body: { mongo: `mongodb://app:${SECRET}@h1:27017,h2:27017/x`, note: `saw ${SECRET}` } }) },
      { method: 'GET', path: '/page', handler: async () => ({ status: 200, body: `<p>tlsCertificateKeyFilePassword=${SECRET}</p>`, contentType: 'text/html' }) },
      { method: 'GET', path: '/events', handler: async () => ({ status: 200, body: null, stream: (res) => res.end(`data: {"error":"auth failed for ${SECRET}"}\n\n`) }) },
      { method: 'GET', path: '/broken', handler: async () => { throw new TributaryError('TRB_STORE_WRITE', `cannot write with mongodb://u:${SECRET}@db/x`); } },
      { method: 'POST', path: '/control/pause', auth: true, handler: async () => ({ status: 200, body: { paused: [] } }) },
    ];
    const options = (extra: OpsServerOptions = {}): OpsServerOptions => ({
      routes,
      redactor: new Redactor([SECRET]),
      metrics: async () => ({ contentType: 'text/plain', body: `# HELP x ${SECRET}\nx 1\n` }),
      topology: () => ({ lastError: `SASL refused ${SECRET}` }),
      health: () => { throw new Error(`probe saw ${SECRET}`); },
      ...extra,
    });

    it('asks for the read token on every route but the probes, and takes the control token or Basic auth too', async () => {
      const server = await start(options({ readToken: READ, controlToken: CONTROL }));
      for (const path of ['/metrics', '/topology', '/status', '/page', '/events', '/nope']) {
        const refused = await fetch(`${server.url}${path}`);
        assert.equal(refused.status, 401, path);
        assert.match(refused.headers.get('www-authenticate') ?? '', /Bearer.*Basic/);
        await refused.body?.cancel();
        const wrong = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${READ}x` } });
        assert.equal(wrong.status, 401, path);
        await wrong.body?.cancel();
      }
      for (const path of ['/-/healthz', '/-/ready']) {
        const probe = await fetch(`${server.url}${path}`);
        assert.equal(probe.status, 503, `${path} open to probes (its provider fails)`);
        await probe.body?.cancel();
      }
      const basic = `Basic ${Buffer.from(`anyone:${READ}`).toString('base64')}`;
      for (const authorization of [`Bearer ${READ}`, `Bearer ${CONTROL}`, basic]) {
        const ok = await fetch(`${server.url}/status`, { headers: { authorization } });
        assert.equal(ok.status, 200, authorization);
        await ok.body?.cancel();
      }
      const readCannotControl = await fetch(`${server.url}/control/pause`, { method: 'POST', headers: { authorization: `Bearer ${READ}` } });
      assert.equal(readCannotControl.status, 401);
      await readCannotControl.body?.cancel();
      const control = await fetch(`${server.url}/control/pause`, { method: 'POST', headers: { authorization: `Bearer ${CONTROL}` } });
      assert.equal(control.status, 200);
      await control.body?.cancel();
    });

    it('refuses tokens shorter than 16 characters or with spaces', async () => {
      await assert.rejects(startOpsServer({ port: 0, controlToken: 's3cret' }), (e: Error & { code?: string }) => e.code === 'TRB_CONFIG' && /controlToken: expected at least 16 characters/.test(e.message) && !e.message.includes('s3cret'));
      await assert.rejects(startOpsServer({ port: 0, readToken: 'has a space in it, long' }), { code: 'TRB_CONFIG' });
    });

    it('scrubs every body it sends: JSON, text, HTML, event streams, metrics, errors and health reasons', async () => {
      const server = await start(options());
      const bodies: string[] = [];
      for (const path of ['/metrics', '/topology', '/status', '/page', '/events', '/broken', '/-/healthz', '/-/ready']) {
        const response = await fetch(`${server.url}${path}`);
        bodies.push(`${path} ${response.status} ${await response.text()}`);
      }
      const all = bodies.join('\n');
      assert.ok(!all.includes(SECRET), all);
      assert.match(all, /mongodb:\/\/app:\*\*\*@h1:27017,h2:27017\/x/);
      assert.match(all, /tlsCertificateKeyFilePassword=\*\*\*/);
      assert.match(all, /\/broken 500 \{"error":"cannot write with mongodb:\/\/u:\*\*\*@db\/x","code":"TRB_STORE_WRITE"\}/);
      assert.match(all, /\/-\/healthz 503 .*probe saw \*\*\*/);
    });
  });

  it('reports a port in use as TRB_CONFIG', async () => {
    const server = await start();
    await assert.rejects(startOpsServer({ port: server.port }), { code: 'TRB_CONFIG' });
  });

  it('closes promptly despite a keep-alive connection, and close is idempotent', async () => {
    const server = await startOpsServer({ port: 0 });
    const response = await fetch(`${server.url}/-/healthz`, { headers: { connection: 'keep-alive' } });
    await response.text();
    const t0 = performance.now();
    await Promise.all([server.close(), server.close()]);
    assert.ok(performance.now() - t0 < 1000);
    await assert.rejects(fetch(`${server.url}/-/healthz`));
  });
});
