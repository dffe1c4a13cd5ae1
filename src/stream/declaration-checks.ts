/**
 * Declaration checks: a stream declared wrongly fails where it is declared, with a TRB_CONFIG error
 * that names the stream, the option and what is accepted — not later with a raw TypeError from
 * describe() or from the first batch. TypeScript catches most of these at compile time; topology
 * files written in plain JavaScript (or built from data) are why they are checked at run time too.
 *
 *   t.stream('orders', { value: json() })
 *     --> TRB_CONFIG "stream 'orders': option key is missing: expected a serde such as string(), json() or avro()"
 *   t.stream('orders', { key: string, value: json() })
 *     --> TRB_CONFIG "stream 'orders': option key is the serde factory string, not a serde: call it (string())"
 */
import { TributaryError } from '../errors.js';

/** The options `Topology.stream()` knows; anything else is a typo. */
const STREAM_OPTIONS = ['key', 'value', 'name', 'stage', 'groupId', 'errors', 'deadLetterTopic', 'keyConcurrency', 'exactlyOnce', 'fromBeginning', 'retry', 'maxRecordBytes'] as const;
const RETRY_OPTIONS = ['initialMs', 'maxMs', 'maxAttempts'] as const;
const ERROR_DECISIONS = ['fail', 'dead-letter', 'skip'] as const;

/** Kafka's rule for topic names: 1–249 of letters, digits, '.', '_', '-', and not '.' or '..'. */
const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;

function refuse(stream: string, what: string, accepted: string, context: Record<string, unknown> = {}): never {
  throw new TributaryError('TRB_CONFIG', `stream '${stream}': ${what}: expected ${accepted}`, { context: { stream, ...context } });
}

function describeValue(value: unknown): string {
  if (typeof value === 'function') return `a function${value.name ? ` (${value.name})` : ''}`;
  if (typeof value === 'string') return JSON.stringify(value);
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : String(value);
}

/** Whether `name` is a legal Kafka topic name. */
export function isTopicName(name: unknown): name is string {
  return typeof name === 'string' && TOPIC_NAME.test(name) && name !== '.' && name !== '..';
}

function checkTopic(stream: string, option: string, topic: unknown): void {
  if (!isTopicName(topic)) {
    refuse(stream, `${option} ${describeValue(topic)} is not a topic name`, "1 to 249 letters, digits, '.', '_' or '-' (Kafka's rule)", { option });
  }
}

function checkSerde(stream: string, part: 'key' | 'value', serde: unknown): void {
  const accepted = 'a serde such as string(), json() or avro()';
  if (serde === undefined || serde === null) refuse(stream, `option ${part} is missing`, accepted, { option: part });
  if (typeof serde === 'function' && !('deserialize' in serde)) {
    refuse(stream, `option ${part} is the serde factory ${serde.name || '(anonymous)'}, not a serde: call it (${serde.name || 'factory'}())`, accepted, { option: part });
  }
  const s = serde as { name?: unknown; deserialize?: unknown; serialize?: unknown };
  if (typeof s !== 'object' || typeof s.name !== 'string' || typeof s.deserialize !== 'function' || typeof s.serialize !== 'function') {
    refuse(stream, `option ${part} is ${describeValue(serde)}, not a serde (name, deserialize, serialize)`, accepted, { option: part });
  }
}

function checkNumber(stream: string, option: string, value: unknown, min: number, integer: boolean, allowInfinity = false): void {
  if (value === undefined) return;
  const ok = typeof value === 'number' && value >= min && (allowInfinity && value === Number.POSITIVE_INFINITY ? true : Number.isFinite(value) && (!integer || Number.isInteger(value)));
  if (!ok) refuse(stream, `option ${option} is ${describeValue(value)}`, `${integer ? 'an integer' : 'a number'} ≥ ${min}${allowInfinity ? ' (or Infinity)' : ''}`, { option });
}

function checkBoolean(stream: string, option: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'boolean') refuse(stream, `option ${option} is ${describeValue(value)}`, 'true or false', { option });
}

function checkKnownKeys(stream: string, where: string, options: object, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) refuse(stream, `unknown ${where} ${JSON.stringify(key)}`, `one of ${known.join(', ')}`, { option: key });
  }
}

/** Checks what `topology.stream(topics, options)` was given, before anything is recorded. */
export function checkStreamDeclaration(topics: readonly unknown[], options: unknown): void {
  const given = (options as { name?: unknown } | null | undefined)?.name;
  // The name the stream will be known by, for the messages: options.name, else the topics joined.
  const name = typeof given === 'string' && given !== '' ? given : topics.map(String).join('+');
  if (typeof options !== 'object' || options === null) refuse(name, `options are ${describeValue(options)}`, 'an object with at least key and value serdes');
  const o = options as Record<string, unknown>;
  checkKnownKeys(name, 'option', o, STREAM_OPTIONS);
  if (o['name'] !== undefined && (typeof o['name'] !== 'string' || o['name'] === '')) refuse(name, `option name is ${describeValue(o['name'])}`, 'a non-empty string', { option: 'name' });
  const seen = new Set<unknown>();
  for (const topic of topics) {
    checkTopic(name, 'source topic', topic);
    if (seen.has(topic)) refuse(name, `source topic ${String(topic)} is listed twice`, 'each topic once', { option: 'topics' });
    seen.add(topic);
  }
  checkSerde(name, 'key', o['key']);
  checkSerde(name, 'value', o['value']);
  if (o['groupId'] !== undefined) {
    if (typeof o['groupId'] !== 'string' || o['groupId'] === '') refuse(name, `option groupId is ${describeValue(o['groupId'])}`, 'a non-empty string', { option: 'groupId' });
  }
  const errors = o['errors'];
  if (errors !== undefined && typeof errors !== 'function' && !(ERROR_DECISIONS as readonly unknown[]).includes(errors)) {
    refuse(name, `option errors is ${describeValue(errors)}`, `${ERROR_DECISIONS.join(', ')} or a handler (failure) => decision`, { option: 'errors' });
  }
  if (o['deadLetterTopic'] !== undefined) {
    checkTopic(name, 'option deadLetterTopic', o['deadLetterTopic']);
    if (topics.includes(o['deadLetterTopic'])) {
      refuse(name, `option deadLetterTopic ${String(o['deadLetterTopic'])} is one of its source topics`, 'another topic (a dead letter read again would fail again, for ever)', { option: 'deadLetterTopic' });
    }
  }
  checkNumber(name, 'keyConcurrency', o['keyConcurrency'], 1, true);
  checkNumber(name, 'maxRecordBytes', o['maxRecordBytes'], 1, true, true);
  checkBoolean(name, 'exactlyOnce', o['exactlyOnce']);
  checkBoolean(name, 'fromBeginning', o['fromBeginning']);
  const retry = o['retry'];
  if (retry !== undefined) {
    if (typeof retry !== 'object' || retry === null) refuse(name, `option retry is ${describeValue(retry)}`, `an object with ${RETRY_OPTIONS.join(', ')}`, { option: 'retry' });
    const r = retry as Record<string, unknown>;
    checkKnownKeys(name, 'retry option', r, RETRY_OPTIONS);
    checkNumber(name, 'retry.initialMs', r['initialMs'], 0, false);
    checkNumber(name, 'retry.maxMs', r['maxMs'], 0, false);
    checkNumber(name, 'retry.maxAttempts', r['maxAttempts'], 1, true, true);
    if (typeof r['initialMs'] === 'number' && typeof r['maxMs'] === 'number' && r['initialMs'] > r['maxMs']) {
      refuse(name, `retry.initialMs ${r['initialMs']} is above retry.maxMs ${r['maxMs']}`, 'initialMs ≤ maxMs', { option: 'retry' });
    }
  }
}

/** Checks the group id a stream ends up with against those of the streams declared before it. */
export function checkGroupId(name: string, groupId: string, groupIds: ReadonlyMap<string, string>): void {
  const other = groupIds.get(groupId);
  if (other !== undefined) {
    refuse(name, `group id ${groupId} is already the group of stream '${other}'`, 'one consumer group per stream (two subscriptions in one group split each other’s partitions)', { option: 'groupId' });
  }
}

/** Checks what `stream.pipe(...)` was given: every operator must be a function (an RxJS or Tributary operator). */
export function checkOperators(stream: string, operators: readonly unknown[]): void {
  operators.forEach((operator, i) => {
    if (typeof operator !== 'function') {
      refuse(stream, `operator ${i + 1} of pipe() is ${describeValue(operator)}`, 'an operator, e.g. map(fn), filter(fn), toTopic(topic, serdes)', { operator: i + 1 });
    }
  });
}
