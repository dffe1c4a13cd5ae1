/**
 * customer-360 as `tributary demo` runs it: the topology, its seeded CDC history, what the sources
 * must hold, and how to show a view. The CLI hands this object to the demo command
 * (src/cli/commands/demo.ts), which knows no example of its own.
 *
 *   demoCommand(flags, print, customer360Demo)
 *     --> "customer-360 on the embedded engine ...", three varied views, a summary, two checks, next steps
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Row } from '../src/index.js';
import type { DemoExample } from '../src/cli/commands/demo.js';
import { customer360 } from './customer-360.js';
import { expectedProjections, generateHistory, liveProjections, produceHistory } from './customer-360.generator.js';

interface ShownOrder {
  order_id: string;
  status: string;
  total: number;
  lines: Array<{ sku: string; quantity: number }>;
}

const ordersOf = (v: Row) => (Array.isArray(v['orders']) ? (v['orders'] as ShownOrder[]) : []);
const lineCount = (v: Row) => ordersOf(v).reduce((n, o) => n + o.lines.length, 0);
const channelsOf = (v: Row) => (Array.isArray(v['channels']) ? (v['channels'] as string[]) : []);

type Customer360Run = ReturnType<typeof customer360> & { readonly view: ReturnType<typeof customer360>['customerView'] };

export const customer360Demo: DemoExample<Customer360Run, ReturnType<typeof generateHistory>> = {
  name: 'customer-360',
  // Beside this file, with its extension: .ts in a checkout, .js once compiled to dist/topologies.
  file: fileURLToPath(new URL(`./customer-360${extname(import.meta.url)}`, import.meta.url)),
  topology(run) {
    const t = run ? customer360({ topicPrefix: `${run.id}.`, name: `customer-360-${run.id}` }) : customer360();
    return Object.assign(t, { view: t.customerView });
  },
  history: (t, options) => generateHistory({ ...options, topics: t.sourceTopics }),
  produce: (producer, registry, history) => produceHistory(producer, registry, history),
  expectedProjections: (history) => expectedProjections(history.truth),
  liveProjections,
  sample,
  show,
};

/**
 * Up to `count` views that show different things: different people first, then the ones with the
 * most order lines and with marketing channels, so the few lines printed cover the whole view.
 */
function sample(views: readonly Row[], count = 3): Row[] {
  const withOrders = views.filter((v) => ordersOf(v).length > 0);
  const score = (v: Row) => Math.min(lineCount(v), 4) + (channelsOf(v).length > 0 ? 2 : 0) + (v['tier'] !== 'standard' ? 1 : 0) + (v['email'] ? 1 : 0);
  const ranked = [...withOrders].sort((a, b) => score(b) - score(a) || String(a['customer_id']).localeCompare(String(b['customer_id'])));
  const chosen: Row[] = [];
  const names = new Set<string>();
  for (const v of ranked) {
    if (chosen.length === count) break;
    if (names.has(String(v['name']))) continue;
    names.add(String(v['name']));
    chosen.push(v);
  }
  for (const v of ranked) if (chosen.length < count && !chosen.includes(v)) chosen.push(v);
  return chosen.sort((a, b) => String(a['customer_id']).localeCompare(String(b['customer_id'])));
}

/** A view in a few lines: the customer, then up to three orders with up to four lines each. */
function show(v: Row): string[] {
  const orders = ordersOf(v);
  const channels = channelsOf(v).join(',') || 'none';
  const head = `${String(v['customer_id'])}  ${String(v['name'])} <${String(v['email'] ?? 'no email')}>  ${String(v['tier'])}  spent ${String(v['total_spent'])}  channels ${channels}  email opt-in ${v['email_opt_in'] ? 'yes' : 'no'}`;
  const shown = orders.slice(0, 3).map((o) => {
    const lines = o.lines.slice(0, 4).map((l) => `${l.sku}×${l.quantity}`).join(' ') + (o.lines.length > 4 ? ` +${o.lines.length - 4}` : '');
    return `  ${o.order_id}  ${o.status.padEnd(9)} ${o.total.toFixed(2).padStart(8)}  ${lines || '(no lines)'}`;
  });
  return [head, ...shown, ...(orders.length > 3 ? [`  … ${orders.length - 3} more order${orders.length > 4 ? 's' : ''}`] : [])];
}
