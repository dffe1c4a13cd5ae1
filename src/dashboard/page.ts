/**
 * The dashboard page: one HTML document with its script and styles inline (no CDN, nothing to
 * fetch but the ops server's own routes). It draws the server-rendered graph (`graph.svg`), then
 * updates it from the Server-Sent Events of `/dashboard/events`: rates on edges, state on nodes,
 * the lag table with sparklines and trends, collection freshness, and the controls.
 */
import { STATE_COLOURS } from './svg.js';

const SCRIPT = String.raw`
const $ = (s) => document.querySelector(s);
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
const COLOURS = ${JSON.stringify(STATE_COLOURS)};
let last = null;
let selected = null;
let undoTimer = null;

function spark(values) {
  if (!values.length) return '';
  const max = Math.max(1, ...values), w = 90, h = 18;
  const pts = values.map((v, i) => (values.length === 1 ? w : (i * w) / (values.length - 1)).toFixed(1) + ',' + (h - (v / max) * h).toFixed(1)).join(' ');
  return '<svg width="' + w + '" height="' + h + '"><polyline fill="none" stroke="#4e79a7" points="' + pts + '"/></svg>';
}
const arrow = (t) => (t === 'up' ? '<span class="up">&#9650;</span>' : t === 'down' ? '<span class="down">&#9660;</span>' : '<span class="flat">&#9654;</span>');
const age = (ms) => (ms === null ? '—' : ms < 1000 ? ms + ' ms' : (ms / 1000).toFixed(1) + ' s');

async function loadGraph() {
  const svg = await (await fetch('/dashboard/graph.svg')).text();
  $('#graph').innerHTML = svg;
  for (const g of document.querySelectorAll('#graph [data-node]')) g.addEventListener('click', () => { selected = g.getAttribute('data-node'); detail(); });
  if (last) render(last);
}

function render(s) {
  last = s;
  $('#at').textContent = s.at;
  $('#total-lag').textContent = s.totalLag;
  for (const [id, rate] of Object.entries(s.edges)) {
    const t = document.querySelector('[data-rate-for="' + CSS.escape(id) + '"]');
    if (t) t.textContent = rate + '/s';
  }
  for (const st of s.streams) {
    const id = 'stream:' + st.name;
    const r = document.querySelector('[data-border-for="' + CSS.escape(id) + '"]');
    if (r) r.setAttribute('stroke', COLOURS[st.state] || '#888');
    const t = document.querySelector('[data-sub-for="' + CSS.escape(id) + '"]');
    if (t) t.textContent = st.state + ' · ' + st.recordsInPerSec + '/s' + (st.batchMeanMs === null ? '' : ' · ' + st.batchMeanMs + ' ms/batch') + (st.deadLetters ? ' · DLQ ' + st.deadLetters : '');
    const g = document.querySelector('[data-node="' + CSS.escape(id) + '"]');
    if (g) g.setAttribute('data-state', st.state);
  }
  for (const c of s.collections) {
    const t = document.querySelector('[data-sub-for="' + CSS.escape('collection:' + c.name) + '"]');
    if (t) t.textContent = c.writesPerSec + ' writes/s · last ' + age(c.lastWriteAgeMs) + (c.endToEndP99Ms === null ? '' : ' · p99 ' + c.endToEndP99Ms + ' ms');
  }
  $('#lag tbody').innerHTML = s.lag.map((l) =>
    '<tr data-stream="' + esc(l.stream) + '" data-topic="' + esc(l.topic) + '" data-partition="' + l.partition + '" data-lag="' + l.lag + '">' +
    '<td>' + esc(l.stream) + '</td><td>' + esc(l.topic) + '</td><td>' + l.partition + '</td><td>' + (l.committed === null ? '<i>none</i>' : l.committed) + '</td><td>' + l.end +
    '</td><td class="num">' + l.lag + '</td><td class="num">' + l.behindSeconds + ' s</td><td>' + spark(l.spark) + '</td><td>' + arrow(l.trend) + '</td></tr>').join('');
  $('#collections tbody').innerHTML = s.collections.map((c) =>
    '<tr data-collection="' + esc(c.name) + '"><td>' + esc(c.name) + '</td><td class="num">' + c.writesPerSec + '</td><td>' + age(c.lastWriteAgeMs) + '</td><td>' + (c.endToEndP99Ms === null ? '—' : c.endToEndP99Ms + ' ms') + '</td></tr>').join('');
  const stages = [...new Set(s.streams.map((x) => x.name.includes(':') ? x.name.split(':')[0] : x.name))];
  const buttons = (target) => '<button data-action="pause" data-target="' + esc(target) + '">pause</button> <button data-action="resume" data-target="' + esc(target) + '">resume</button>';
  const controls = stages.map((t) => '<div class="ctl"><b>' + esc(t) + '</b> ' + buttons(t) + '</div>').join('') +
    s.streams.map((x) => '<div class="ctl">' + esc(x.name) + ' <span class="state" style="color:' + (COLOURS[x.state] || '#888') + '">' + x.state + '</span> ' + buttons(x.name) + '</div>').join('');
  if ($('#controls-list').getAttribute('data-sig') !== controls) { $('#controls-list').innerHTML = controls; $('#controls-list').setAttribute('data-sig', controls); }
  detail();
}

function detail() {
  const box = $('#detail');
  if (!selected || !last) { box.innerHTML = '<i>click a node for its detail</i>'; return; }
  const [kind, ...rest] = selected.split(':');
  const name = rest.join(':');
  let html = '<h3>' + esc(name) + ' <small>' + kind + '</small></h3>';
  if (kind === 'stream') {
    const st = last.streams.find((x) => x.name === name);
    if (st) html += '<p>state <b>' + st.state + '</b>, ' + st.partitions + ' partitions, ' + st.recordsInPerSec + ' records/s, batch ' + (st.batchMeanMs ?? '—') + ' ms, dead letters ' + st.deadLetters + '</p>' +
      '<p>errors by code: ' + (Object.entries(st.errorsByCode).map(([c, n]) => esc(c) + ' ' + n).join(', ') || 'none') + '</p>' +
      '<p>last error decision: ' + (st.lastError ? esc(st.lastError.code + ' at ' + st.lastError.at + ': ' + st.lastError.message) : 'none') + '</p>';
  } else {
    const c = last.collections.find((x) => x.name === name);
    if (c) html += '<p>' + c.writesPerSec + ' writes/s, last write ' + age(c.lastWriteAgeMs) + ' ago, CDC→view p99 ' + (c.endToEndP99Ms ?? '—') + ' ms</p>';
    const rows = last.lag.filter((l) => l.topic === name);
    if (rows.length) html += '<p>lag ' + rows.reduce((n, l) => n + l.lag, 0) + ' records</p>';
  }
  box.innerHTML = html;
}

async function control(action, target, undoable) {
  const token = $('#token').value || sessionStorage.getItem('tributary-token') || '';
  if (token) sessionStorage.setItem('tributary-token', token);
  const r = await fetch('/control/' + action, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer ' + token }, body: JSON.stringify({ target }) });
  const body = await r.json().catch(() => ({}));
  $('#control-result').textContent = r.ok ? action + 'd ' + (body.paused || body.resumed || []).join(', ') : 'refused: ' + r.status + ' ' + (body.error || body.message || '');
  $('#control-result').setAttribute('data-ok', String(r.ok));
  clearTimeout(undoTimer);
  $('#undo').hidden = true;
  if (r.ok && undoable) {
    const inverse = action === 'pause' ? 'resume' : 'pause';
    $('#undo').hidden = false;
    $('#undo').onclick = () => control(inverse, target, false);
    undoTimer = setTimeout(() => ($('#undo').hidden = true), 10000);
  }
}

document.addEventListener('click', (e) => {
  const b = e.target.closest('button[data-action]');
  if (b) control(b.getAttribute('data-action'), b.getAttribute('data-target'), true);
});

function connect() {
  const es = new EventSource('/dashboard/events');
  es.addEventListener('topology', () => loadGraph());
  es.addEventListener('tick', (e) => render(JSON.parse(e.data)));
  es.addEventListener('state', (e) => { const d = JSON.parse(e.data); $('#events').insertAdjacentHTML('afterbegin', '<li>' + esc(d.at + ' ' + d.stream + ': ' + d.from + ' → ' + d.to) + '</li>'); });
  es.onopen = () => { $('#conn').textContent = 'live'; $('#conn').className = 'live'; };
  es.onerror = () => { $('#conn').textContent = 'reconnecting…'; $('#conn').className = 'down'; };
}
connect();

// --- single-view definitions (blue/green) ---
async function definitions() {
  const r = await fetch('/dashboard/definitions').catch(() => null);
  const list = r && r.ok ? await r.json() : [];
  $('#definitions tbody').innerHTML = list.map((d) =>
    '<tr data-view="' + esc(d.view) + '"><td>' + esc(d.view) + '</td><td>' + esc(d.live ? d.live.version : '(not recorded)') + '</td><td>' + esc(d.declared) +
    '</td><td>' + (d.writes ? 'writes' : '<span class="down" title="' + esc(d.fenced || '') + '">fenced</span>') + '</td><td>' +
    esc(d.switching ? 'switching to ' + d.switching.version : d.shadow ? 'shadow ' + d.shadow.version : '—') + '</td></tr>').join('');
}
definitions();
setInterval(definitions, 5000);
// --- end single-view definitions ---
`;

export function dashboardPage(title: string): string {
  const safe = title.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${safe} · Tributary</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body { font: 13px/1.4 sans-serif; margin: 0; color: #222; }
header { display: flex; gap: 16px; align-items: baseline; padding: 8px 14px; background: #f4f4f4; border-bottom: 1px solid #ddd; }
header h1 { font-size: 16px; margin: 0; }
#conn.live { color: #59a14f; } #conn.down { color: #e15759; }
main { display: grid; grid-template-columns: 1fr 320px; gap: 12px; padding: 12px; }
#graph { overflow: auto; border: 1px solid #ddd; }
table { border-collapse: collapse; width: 100%; } td, th { border-bottom: 1px solid #eee; padding: 2px 6px; text-align: left; } .num { text-align: right; }
.up { color: #e15759; } .down { color: #59a14f; } .flat { color: #999; }
.ctl { margin: 3px 0; } section { margin-top: 12px; }
</style></head>
<body>
<header><h1>${safe}</h1><span id="conn" class="down">connecting…</span><span>total lag <b id="total-lag">—</b></span><span id="at"></span>
<span>export: <a href="/dashboard/graph.svg" download>SVG</a> · <a href="/dashboard/graph.mmd">Mermaid</a> · <a href="/dashboard/graph.json">JSON</a> · <a href="/dashboard/snapshot">snapshot</a></span></header>
<main>
<div>
<div id="graph"></div>
<section><h2>Lag (worst first)</h2><table id="lag"><thead><tr><th>stream</th><th>topic</th><th>p</th><th>committed</th><th>end</th><th>lag</th><th>behind</th><th>15 min</th><th>trend</th></tr></thead><tbody></tbody></table></section>
<section><h2>Single-view definitions</h2><table id="definitions"><thead><tr><th>view</th><th>live</th><th>this process</th><th>writes</th><th>blue/green</th></tr></thead><tbody></tbody></table></section>
<section><h2>Collections</h2><table id="collections"><thead><tr><th>collection</th><th>writes/s</th><th>last write</th><th>CDC→view p99 (1 min)</th></tr></thead><tbody></tbody></table></section>
</div>
<aside>
<section id="detail"><i>click a node for its detail</i></section>
<section><h2>Controls</h2><label>control token <input id="token" type="password" autocomplete="off"></label>
<div id="controls-list"></div><p><span id="control-result"></span> <button id="undo" hidden>undo</button></p></section>
<section><h2>State changes</h2><ul id="events"></ul></section>
</aside>
</main>
<script>${SCRIPT}</script>
</body></html>
`;
}
