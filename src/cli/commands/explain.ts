/**
 * `tributary explain <topology-file> <single-view> <key>`: why a view document looks as it does —
 * the document, every projection row that went into it with its source position (topic,
 * partition, offset, LSN or other counter) and when it was written, and the trigger that last
 * rebuilt it. Reads the store only.
 */
import { findView } from '../../fastdata/refresh/refresh-view.js';
import { explainView, viewKeyFromText, type Explanation } from '../../fastdata/singleview/lineage.js';
import { MongoDocumentStore } from '../../store/mongo/mongo-store.js';
import { usageError, type CommandSpec } from '../command.js';
import { readMongo } from '../config/sections.js';
import { MONGO } from '../config/settings.js';
import type { SettingSource } from '../config/source.js';
import { oneOf } from '../config/values.js';
import { loadFastDataTopology } from './fast-data-file.js';

export const explainSpec: CommandSpec = {
  name: 'explain',
  summary: 'a view document, the projection rows in it with their source positions, its last trigger',
  positionals: ['<topology-file>', '<single-view>', '<key>'],
  description: `Shows one view document, each projection row that went into it (the rows its aggregation reads
now) with the source record that last wrote the row — topic, partition, offset, ordering counter
(Debezium LSN or ts_ms, GoldenGate pos, Kafka timestamp) — and when it was written, and the
trigger that last rebuilt the view (from <view>-lineage).

<key> is the view key as JSON ('{"customer_id":"c0001"}'), or the bare value when the key has one
field (c0001).`,
  sections: [
    { title: 'Output', keys: ['format'], help: { format: 'text|json, default text' } },
    { ...MONGO, note: `${MONGO.note ?? ''} MONGODB_URL is required.`.trim() },
    { title: 'General', keys: ['config'] }, // no logger: LOG_LEVEL is not read
  ],
  footer: 'Exit codes: 0 shown, 1 failed, 2 bad configuration.',
};

export async function explainCommand(file: string, viewName: string, keyText: string, source: SettingSource, print: (line: string) => void): Promise<number> {
  const format = oneOf(source.get('format'), 'text', ['text', 'json'] as const);
  const mongo = readMongo(source);
  if (!mongo) throw usageError('explain', 'explain reads the view and its projections: set MONGODB_URL or --mongo');
  const view = findView(await loadFastDataTopology(file, 'explain'), viewName);
  const key = viewKeyFromText(view, keyText);
  const store = new MongoDocumentStore({ url: mongo.url, database: mongo.database });
  try {
    await store.connect();
    const explanation = await explainView(view, key, store);
    if (format === 'json') print(JSON.stringify(explanation));
    else for (const line of explanationLines(explanation)) print(line);
    return 0;
  } finally {
    await store.close().catch(() => undefined);
  }
}

export function explanationLines(e: Explanation): string[] {
  const time = (t: unknown) => (t instanceof Date ? t.toISOString() : t === null || t === undefined ? '—' : String(t));
  const lines = [`${e.view} ${JSON.stringify(e.key)} — definition ${e.definition.declared} (live: ${e.definition.live ?? 'not recorded'})`];
  lines.push(e.document ? `document: ${JSON.stringify(e.document)}` : 'document: none stored');
  const lineage = e.lineage;
  if (lineage) {
    const trigger = (lineage['trigger'] ?? {}) as Record<string, unknown>;
    const info = (trigger['kafkaInfo'] ?? {}) as Record<string, unknown>;
    lines.push(
      `last rebuilt ${time(lineage['aggregatedAt'])} (${String(lineage['outcome'])}, definition ${String(lineage['definition'])}) by a change of ${String(trigger['projection'])} ${JSON.stringify(trigger['identifier'])}` +
        ` from ${String(info['topic'])}[${String(info['partition'])}]@${String(info['offset'])} at ${time(info['timestamp'])}${Number(trigger['attempts']) > 0 ? `, retry ${String(trigger['attempts'])}` : ''}`,
    );
    if (e.definition.promotedAt && lineage['aggregatedAt'] instanceof Date && lineage['aggregatedAt'] < e.definition.promotedAt) lines.push(`  since then: definition ${e.definition.live} was promoted at ${time(e.definition.promotedAt)}`);
  } else lines.push('last rebuilt: no lineage recorded (lineage off, or not aggregated since lineage was recorded)');
  lines.push(`sources (${e.sources.length} rows, as the aggregation reads them now):`);
  const width = Math.max(5, ...e.sources.map((s) => s.path.length));
  for (const s of e.sources) {
    const p = s.position;
    lines.push(`  ${s.path.padEnd(width)}  ${s.projection} ${JSON.stringify(s.primaryKey)}  ${String(p.topic)}[${String(p.partition)}]@${String(p.offset)}  ${String(p.counterType)} ${String(p.counter)}  source time ${time(p.timestamp)}  written ${time(s.updatedAt)}`);
  }
  return lines;
}
