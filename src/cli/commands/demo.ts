/**
 * The embedded demo: runs the orders-enricher example topology on the in-memory broker, registry
 * and store (nothing installed, no network), feeds it generated orders plus a few malformed ones,
 * and prints a sample of the output and a summary.
 */
import { TributaryError } from '../../errors.js';
import { json, string } from '../../stream/serdes/index.js';
import { avro } from '../../stream/serdes/avro.js';
import { TestDriver } from '../../testing/test-driver.js';
import { loadTopology } from '../load-topology.js';

export const demoHelp = `Usage: tributary demo [--records <n>]

Runs the example topology topologies/orders-enricher.ts end to end on the embedded engine
(in-memory broker, schema registry and store; nothing to install): generates orders on a
6-partition topic, adds three malformed records, waits until everything is committed, and prints
some enriched orders, the dead letters and a summary.

Options:
  --records <n>   orders to generate (default 20000)`;

interface Order {
  order_id: string;
  customer_id: string;
  total: number;
}

export async function demoCommand(flags: Readonly<Record<string, string | undefined>>, print: (line: string) => void): Promise<void> {
  const count = Number(flags.records ?? 20_000);
  if (!Number.isInteger(count) || count < 1 || count > 5_000_000) {
    throw new TributaryError('TRB_CONFIG', `invalid --records=${JSON.stringify(flags.records)}: expected an integer from 1 to 5000000`);
  }
  const file = new URL('../../../topologies/orders-enricher.ts', import.meta.url).pathname;
  const topology = await loadTopology(file);
  print(topology.describe().toText());

  const driver = await TestDriver.start(topology, { partitions: { 'shop.orders': 6 } });
  try {
    const orders = Array.from({ length: count }, (_, i) => ({
      key: `o-${i}`,
      value: { order_id: `o-${i}`, customer_id: `c-${i % 997}`, total: Math.round(((i * 7919) % 2000) * 1.5) / 1 } satisfies Order,
    }));
    const started = performance.now();
    await driver.pipeInput('shop.orders', orders, { key: string(), value: json<Order>() });
    driver.pipeRaw('shop.orders', [
      { key: Buffer.from('bad-1'), value: Buffer.from('{"order_id": "bad-1", "total": ') },
      { key: Buffer.from('bad-2'), value: Buffer.from('not json at all') },
      { key: Buffer.from('bad-3'), value: Buffer.from([0xff, 0xfe, 0x00]) },
    ]);
    await driver.idle(120_000);
    const seconds = (performance.now() - started) / 1000;

    const out = await driver.readOutput('shop.big-orders', { key: string(), value: avro<Order & { band: string }>() });
    const dlq = driver.broker.partitions('shop.orders.dlq').flat();
    print('\nSample of shop.big-orders (Avro, decoded through the embedded schema registry):');
    for (const r of out.slice(0, 5)) print(`  ${r.key}  ${JSON.stringify(r.value)}`);
    print('\nDead letters (shop.orders.dlq), original bytes kept:');
    for (const m of dlq) print(`  key=${m.key?.toString()}  ${String(m.headers['tributary.error.code'])}  ${String(m.headers['tributary.error.message']).slice(0, 70)}`);
    print(
      `\nSummary: ${count + 3} records in, ${out.length} big orders out, ${dlq.length} dead letters, ` +
        `${seconds.toFixed(2)} s (${Math.round((count + 3) / seconds).toLocaleString('en-US')} records/s on the embedded engine)`,
    );
  } finally {
    await driver.close();
  }
}
