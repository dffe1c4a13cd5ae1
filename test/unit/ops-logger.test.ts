import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs from 'kafkajs';
import type { LogEntry, logLevel } from 'kafkajs';
import { createLogger, kafkajsLogCreator, kafkajsLogLevel } from '../../src/ops/logger.js';
import { Redactor } from '../../src/ops/secrets.js';

/** A pino destination that keeps every line, parsed. */
function capture(): { lines: Array<Record<string, unknown>>; write(line: string): void } {
  const lines: Array<Record<string, unknown>> = [];
  return { lines, write: (line) => void lines.push(JSON.parse(line) as Record<string, unknown>) };
}

// kafkajs logLevel values (ERROR=1, WARN=2, INFO=4, DEBUG=5), mirrored so the test needs no runtime import.
const KAFKAJS = { NOTHING: 0, ERROR: 1, WARN: 2, INFO: 4, DEBUG: 5 } as const;

function entry(level: number, message: string, extra: Record<string, unknown> = {}): LogEntry {
  return {
    namespace: 'Connection',
    level: level as logLevel,
    label: 'X',
    log: { timestamp: '2024-01-01T00:00:00.000Z', message, ...extra },
  };
}

describe('createLogger', () => {
  it('writes JSON with name and level, honouring the level option', () => {
    const out = capture();
    const logger = createLogger({ destination: out, level: 'warn', name: 'test' });
    logger.info('hidden');
    logger.warn({ stream: 'orders' }, 'shown');
    assert.equal(out.lines.length, 1);
    assert.equal(out.lines[0]!['msg'], 'shown');
    assert.equal(out.lines[0]!['level'], 40);
    assert.equal(out.lines[0]!['name'], 'test');
    assert.equal(out.lines[0]!['stream'], 'orders');
  });

  it('defaults to info whatever LOG_LEVEL says (the CLI configuration reads it), and rejects unknown levels', () => {
    const saved = process.env['LOG_LEVEL'];
    try {
      process.env['LOG_LEVEL'] = 'DEBUG';
      assert.equal(createLogger({ destination: capture() }).level, 'info');
      assert.equal(createLogger({ destination: capture(), level: 'DEBUG' }).level, 'debug');
      assert.equal(createLogger({ destination: capture() }).bindings()['name'], 'tributary');
      assert.throws(() => createLogger({ destination: capture(), level: 'verbose' }), { code: 'TRB_CONFIG' });
    } finally {
      if (saved === undefined) delete process.env['LOG_LEVEL'];
      else process.env['LOG_LEVEL'] = saved;
    }
  });

  it('redacts credentials in connection strings and registered secrets from every line, also secrets registered later', () => {
    const out = capture();
    const redactor = new Redactor();
    const logger = createLogger({ destination: out, level: 'info', redactor });
    logger.info({ url: 'mongodb://app:pw-in-url@h1:27017,h2:27017/x?authSource=admin&tlsCertificateKeyFilePassword=kf-pass' }, 'connecting');
    redactor.add('registered-later');
    logger.warn({ err: new Error('broker said registered-later is wrong') }, 'failed');
    const text = JSON.stringify(out.lines);
    assert.ok(!/pw-in-url|kf-pass|registered-later/.test(text), text);
    assert.equal(out.lines[0]!['url'], 'mongodb://app:***@h1:27017,h2:27017/x?authSource=admin&tlsCertificateKeyFilePassword=***');
  });

  it('removes secrets', () => {
    const out = capture();
    const logger = createLogger({ destination: out, level: 'info', redact: ['token'] });
    logger.info(
      {
        password: 'p1',
        sasl: { mechanism: 'plain', username: 'u', password: 'p2' },
        mongo: { password: 'p3', host: 'h' },
        authorization: 'Bearer abc',
        headers: { authorization: 'Bearer def' },
        token: 't',
      },
      'connecting',
    );
    const line = out.lines[0]!;
    assert.deepEqual(line['sasl'], { mechanism: 'plain', username: 'u' });
    assert.deepEqual(line['mongo'], { host: 'h' });
    assert.deepEqual(line['headers'], {});
    for (const key of ['password', 'authorization', 'token']) assert.equal(key in line, false, key);
    assert.doesNotMatch(JSON.stringify(out.lines), /p1|p2|p3|abc|def/);
  });
});

describe('kafkajsLogCreator', () => {
  it('mirrors the real kafkajs logLevel values', () => {
    assert.deepEqual({ ...kafkajs.logLevel }, { ...KAFKAJS });
  });

  it('maps kafkajs levels onto pino levels with namespace and fields', () => {
    const out = capture();
    const logger = createLogger({ destination: out, level: 'debug' });
    const log = kafkajsLogCreator(logger)(KAFKAJS.DEBUG as logLevel);
    log(entry(KAFKAJS.ERROR, 'Connection error', { broker: 'localhost:9092', clientId: 'c1', error: 'ECONNREFUSED' }));
    log(entry(KAFKAJS.WARN, 'rebalancing'));
    log(entry(KAFKAJS.INFO, 'Consumer has joined the group', { groupId: 'g' }));
    log(entry(KAFKAJS.DEBUG, 'Request Metadata'));
    log(entry(KAFKAJS.NOTHING, 'never'));
    assert.deepEqual(
      out.lines.map((line) => [line['level'], line['msg']]),
      [
        [50, 'Connection error'],
        [40, 'rebalancing'],
        [30, 'Consumer has joined the group'],
        [20, 'Request Metadata'],
      ],
    );
    const first = out.lines[0]!;
    assert.equal(first['namespace'], 'Connection');
    assert.equal(first['component'], 'kafkajs');
    assert.equal(first['broker'], 'localhost:9092');
    assert.equal(first['error'], 'ECONNREFUSED');
    assert.equal('timestamp' in first, false);
    assert.equal(out.lines[2]!['groupId'], 'g');
  });

  it('applies the pino level filter and redaction to kafkajs entries', () => {
    const out = capture();
    const log = kafkajsLogCreator(createLogger({ destination: out, level: 'info' }))(KAFKAJS.DEBUG as logLevel);
    log(entry(KAFKAJS.DEBUG, 'dropped by pino'));
    log(entry(KAFKAJS.INFO, 'connecting', { sasl: { mechanism: 'plain', username: 'u', password: 'hunter2' }, level: 'x' }));
    assert.equal(out.lines.length, 1);
    assert.deepEqual(out.lines[0]!['sasl'], { mechanism: 'plain', username: 'u' });
    assert.equal(out.lines[0]!['level'], 30);
    assert.equal(out.lines[0]!['kafkajs_level'], 'x');
    assert.doesNotMatch(JSON.stringify(out.lines), /hunter2/);
  });

  it('derives the kafkajs logLevel from the pino level', () => {
    const level = (name: string): number => kafkajsLogLevel(createLogger({ destination: capture(), level: name }));
    assert.equal(level('trace'), KAFKAJS.DEBUG);
    assert.equal(level('debug'), KAFKAJS.DEBUG);
    assert.equal(level('info'), KAFKAJS.INFO);
    assert.equal(level('warn'), KAFKAJS.WARN);
    assert.equal(level('error'), KAFKAJS.ERROR);
    assert.equal(level('fatal'), KAFKAJS.ERROR);
    assert.equal(level('silent'), KAFKAJS.NOTHING);
  });
});
