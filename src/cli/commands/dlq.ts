/**
 * `tributary dlq <topic> list|replay`: look at a dead-letter topic and send fixed records back.
 * The reading and the replay are src/stream/control/dead-letters.ts; this file parses and prints.
 *
 *   tributary dlq shop.orders.dlq list --limit 20
 *     0:17  TRB_DECODE  from shop.orders 2:1093 (stream orders)  key "o-77"  312 B  Unexpected token } in JSON at position 40
 *   tributary dlq shop.orders.dlq replay --codes TRB_DECODE
 *     replayed 3 dead letters: shop.orders 3
 */
import { TributaryError } from '../../errors.js';
import { createLogger } from '../../ops/logger.js';
import { readDeadLetters, replayDeadLetters, type DeadLetter } from '../../stream/control/dead-letters.js';
import { kafkaTransport } from '../../stream/transport/kafka/kafka-transport.js';
import type { CommandSpec } from '../command.js';
import { readKafka, readLogLevel } from '../config/sections.js';
import { GENERAL_WARN, KAFKA_CONNECTION } from '../config/settings.js';
import type { SettingSource } from '../config/source.js';
import { integer, list, oneOf } from '../config/values.js';
import { kafkaTransportOptions } from '../kafka-client.js';

const ACTIONS = ['list', 'replay'] as const;
const FORMATS = ['text', 'json'] as const;

export const dlqSpec: CommandSpec = {
  name: 'dlq',
  summary: 'list the dead letters of a topic, or replay chosen ones to where they came from',
  positionals: ['<dlq-topic>', '<list|replay>'],
  description: `list: prints the dead letters of <dlq-topic> up to its end: where each sits, the error code and
message, the record it was (origin topic, partition, offset; stream), its key and size. Reads with a
throwaway consumer group that commits nothing.
replay: sends the chosen dead letters (all, or filtered by --codes / --offsets / --limit) back to
their origin topic as they were (key, value, own headers) plus the header tributary.replayed-from
= <dlq-topic>:<partition>:<offset>; run it once the cause is fixed. The dead letters stay in the
DLQ (Kafka topics are append-only). A record replayed after newer ones of its key is older data:
projections refuse it by its source position, other consumers must judge.`,
  sections: [
    { title: 'Options', keys: ['limit', 'codes', 'offsets', 'format'], help: { format: 'text|json (list), default text' } },
    { ...KAFKA_CONNECTION, help: { 'kafka-client-id': 'client id the brokers see; default tributary-dlq' } },
    { title: 'Kafka tuning (environment or config file)', keys: ['kafka-connection-timeout-ms'] },
    GENERAL_WARN,
  ],
  footer: 'Exit codes: 0 done, 1 a failure, 2 bad configuration.',
};

function describeLetter(l: DeadLetter): string {
  const origin = l.origin ? `from ${l.origin.topic} ${l.origin.partition}:${l.origin.offset}${l.stream ? ` (stream ${l.stream})` : ''}` : 'no origin headers';
  const key = l.key === null ? 'no key' : `key ${JSON.stringify(l.key.toString('utf8').slice(0, 60))}`;
  return `${l.partition}:${l.offset}  ${l.code ?? '?'}  ${origin}  ${key}  ${l.value?.length ?? 0} B  ${(l.message ?? '').replace(/\s+/g, ' ').slice(0, 200)}`;
}

const asJson = (l: DeadLetter) => ({ ...l, key: l.key?.toString('base64') ?? null, value: l.value?.toString('base64') ?? null, headers: Object.fromEntries(Object.entries(l.headers).map(([k, v]) => [k, v?.toString()])) });

export async function dlqCommand(topic: string, action: string, source: SettingSource, print: (line: string) => void): Promise<number> {
  if (!(ACTIONS as readonly string[]).includes(action)) throw new TributaryError('TRB_CONFIG', `unknown action ${JSON.stringify(action)}: expected ${ACTIONS.join(' or ')}`);
  const kafka = readKafka(source);
  const limit = integer(source.get('limit'), undefined, { min: 1 });
  const codes = list(source.get('codes'), 'error codes');
  const offsets = list(source.get('offsets'), 'partition:offset pairs');
  for (const o of offsets ?? []) if (!/^\d+:\d+$/.test(o)) throw new TributaryError('TRB_CONFIG', `invalid --offsets entry ${JSON.stringify(o)}: expected partition:offset, e.g. 0:17`);
  const format = oneOf(source.get('format'), 'text', FORMATS);
  const logger = createLogger({ level: readLogLevel(source, 'warn'), redactor: source.redactor });
  const transport = kafkaTransport(kafkaTransportOptions(kafka, { clientId: 'tributary-dlq', logger }));
  try {
    const letters = await readDeadLetters(transport, topic, { ...(limit ? { limit } : {}), ...(codes ? { codes } : {}), ...(offsets ? { offsets } : {}) });
    if (action === 'list') {
      if (format === 'json') print(JSON.stringify(letters.map(asJson), null, 2));
      else {
        for (const l of letters) print(describeLetter(l));
        print(`${letters.length} dead letter${letters.length === 1 ? '' : 's'} in ${topic}${codes || offsets || limit ? ' (filtered)' : ''}`);
      }
      return 0;
    }
    if (letters.length === 0) {
      print(`nothing to replay: no dead letter of ${topic} matches`);
      return 0;
    }
    const sent = await replayDeadLetters(transport, letters);
    print(`replayed ${letters.length} dead letter${letters.length === 1 ? '' : 's'}: ${[...sent].map(([t, n]) => `${t} ${n}`).join(', ')}`);
    return 0;
  } finally {
    await transport.disconnect();
  }
}
