import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configSource, runConfig, redactedConfig, type RunConfig } from '../../src/cli/config.js';
import { kafkaSecurityOptions } from '../../src/cli/config/security.js';
import { createLogger } from '../../src/ops/logger.js';
import { Redactor, redactText } from '../../src/ops/secrets.js';
import { isTributaryError } from '../../src/errors.js';

const loadConfig = (env: Record<string, string>, flags: Record<string, string> = {}): RunConfig => runConfig(configSource(env, flags));

const dir = mkdtempSync(join(tmpdir(), 'trb-sec-'));
const file = (name: string, text: string) => (writeFileSync(join(dir, name), text), join(dir, name));

/** Asserts a TRB_CONFIG error whose message names the setting and what is accepted. */
function refused(env: Record<string, string>, setting: string, accepted: RegExp, flags: Record<string, string> = {}): void {
  assert.throws(() => loadConfig(env, flags), (error: unknown) => {
    assert.ok(isTributaryError(error) && error.code === 'TRB_CONFIG', String(error));
    assert.match(error.message, new RegExp(`invalid ${setting.replace(/[-/\\^$*+?.()|[\]{}]/g, '\\$&')}=`));
    assert.match(error.message, accepted);
    return true;
  });
}

describe('security settings', () => {
  it('builds SASL options for each mechanism and never puts the password in /status', () => {
    for (const mechanism of ['plain', 'scram-sha-256', 'SCRAM-SHA-512']) {
      const config = loadConfig({ KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: 'app', KAFKA_SASL_PASSWORD: 'pa55-word' });
      assert.deepEqual(kafkaSecurityOptions(config.kafka.security), { sasl: { mechanism: mechanism.toLowerCase(), username: 'app', password: 'pa55-word' } });
      assert.deepEqual(config.redactor.secrets, ['pa55-word']);
      const shown = JSON.stringify(redactedConfig(config));
      assert.ok(!shown.includes('pa55-word'), shown);
      assert.match(shown, /"kafkaSasl":\{"mechanism":"[a-z0-9-]+","username":"app"\}/);
    }
  });

  it('reads the password from a *_FILE, from the config file, and refuses both at once', () => {
    const pw = file('pw', 'from-file-secret\n');
    const viaFile = loadConfig({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'app', KAFKA_SASL_PASSWORD_FILE: pw });
    assert.equal(viaFile.kafka.security.sasl?.password, 'from-file-secret');
    const cfg = file('cfg.json', JSON.stringify({ 'kafka-sasl-mechanism': 'scram-sha-256', 'kafka-sasl-username': 'app', 'kafka-sasl-password': 'in-config' }));
    assert.equal(loadConfig({ TRIBUTARY_CONFIG: cfg }).kafka.security.sasl?.password, 'in-config');
    refused({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'app', KAFKA_SASL_PASSWORD: 'x', KAFKA_SASL_PASSWORD_FILE: pw }, 'KAFKA_SASL_PASSWORD_FILE', /not both/);
    refused({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'app', KAFKA_SASL_PASSWORD_FILE: join(dir, 'missing') }, 'KAFKA_SASL_PASSWORD_FILE', /readable password file \(ENOENT\)/);
  });

  it('names the setting, the value and what is accepted for every bad SASL or TLS value', () => {
    refused({ KAFKA_SASL_MECHANISM: 'gssapi', KAFKA_SASL_USERNAME: 'a', KAFKA_SASL_PASSWORD: 'b' }, 'KAFKA_SASL_MECHANISM', /plain, scram-sha-256, scram-sha-512/);
    refused({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_PASSWORD: 'secret' }, 'KAFKA_SASL_USERNAME', /a user name/);
    refused({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'a' }, 'KAFKA_SASL_PASSWORD', /KAFKA_SASL_PASSWORD_FILE/);
    refused({ KAFKA_SASL_USERNAME: 'a' }, 'KAFKA_SASL_USERNAME', /with KAFKA_SASL_MECHANISM/);
    refused({ KAFKA_TLS: 'yes' }, 'KAFKA_TLS', /true or false/);
    refused({ KAFKA_TLS_CA_FILE: join(dir, 'no-ca.pem') }, 'KAFKA_TLS_CA_FILE', /readable PEM CA certificate file/);
    refused({ KAFKA_TLS: 'false', KAFKA_TLS_CA_FILE: file('ca.pem', 'PEM') }, 'KAFKA_TLS', /true \(or unset\)/);
    refused({ KAFKA_TLS_CERT_FILE: file('c.pem', 'PEM') }, 'KAFKA_TLS_CERT_FILE', /KAFKA_TLS_KEY_FILE together/);
    refused({}, '--kafka-sasl-mechanism', /scram-sha-512/, { 'kafka-sasl-mechanism': 'md5', 'kafka-sasl-username': 'a' });
  });

  it('turns TLS on with a CA file (read at load time) and keeps rejectUnauthorized on by default', () => {
    const ca = file('ca2.pem', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const config = loadConfig({ KAFKA_TLS_CA_FILE: ca });
    assert.deepEqual(kafkaSecurityOptions(config.kafka.security), { ssl: { rejectUnauthorized: true, ca: ['-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'] } });
    assert.deepEqual(kafkaSecurityOptions(loadConfig({ KAFKA_TLS: 'true', KAFKA_TLS_REJECT_UNAUTHORIZED: 'false' }).kafka.security), { ssl: { rejectUnauthorized: false } });
    assert.deepEqual(kafkaSecurityOptions(loadConfig({}).kafka.security), {});
    assert.ok(!JSON.stringify(redactedConfig(config)).includes('MIIB'));
  });

  it('takes registry credentials from variables or the URL, and strips them from the URL', () => {
    const fromVars = loadConfig({ SCHEMA_REGISTRY_URL: 'https://registry.example/apis/ccompat/v7', SCHEMA_REGISTRY_USERNAME: 'key', SCHEMA_REGISTRY_PASSWORD: 'reg-secret' });
    assert.deepEqual(fromVars.registry?.auth, { username: 'key', password: 'reg-secret' });
    const fromUrl = loadConfig({ SCHEMA_REGISTRY_URL: 'https://key:p%40ss-word@registry.example/apis/ccompat/v7' });
    assert.equal(fromUrl.registry?.url, 'https://registry.example/apis/ccompat/v7');
    assert.deepEqual(fromUrl.registry?.auth, { username: 'key', password: 'p@ss-word' });
    assert.ok(fromUrl.redactor.secrets.includes('p@ss-word'));
    assert.ok(!JSON.stringify(redactedConfig(fromUrl)).includes('p@ss'));
    refused({ SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081', SCHEMA_REGISTRY_PASSWORD: 'x-secret' }, 'SCHEMA_REGISTRY_USERNAME', /a user name/);
    refused({ SCHEMA_REGISTRY_URL: 'http://u:p@127.0.0.1:8081', SCHEMA_REGISTRY_USERNAME: 'v', SCHEMA_REGISTRY_PASSWORD: 'w-secret' }, 'SCHEMA_REGISTRY_USERNAME', /unset when the registry URL carries/);
  });

  it('hides the MongoDB password and the control token from /status and registers them as secrets', () => {
    const config = loadConfig({ MONGODB_URL: 'mongodb://app:m0ngo-pw@127.0.0.1:27017/?authSource=admin', TRIBUTARY_CONTROL_TOKEN: 'tok-1234567890abcdef' });
    const shown = JSON.stringify(redactedConfig(config));
    assert.ok(!shown.includes('m0ngo-pw') && !shown.includes('tok-1234567890abcdef'), shown);
    assert.match(shown, /mongodb:\/\/app:\*\*\*@127\.0\.0\.1:27017/);
    assert.deepEqual([...config.redactor.secrets].sort(), ['m0ngo-pw', 'tok-1234567890abcdef']);
  });
});

describe('secret scrubbing', () => {
  it('redacts only the password of a URL, and credential options', () => {
    assert.equal(redactText('mongodb://app:s3cret@db:27017/x?tls=true'), 'mongodb://app:***@db:27017/x?tls=true');
    assert.equal(redactText('mongodb://db1:27017,db2:27017/x'), 'mongodb://db1:27017,db2:27017/x');
    assert.equal(redactText('mongodb://app:s3cret@db1:27017,db2:27017/x'), 'mongodb://app:***@db1:27017,db2:27017/x');
    assert.equal(redactText('mongodb+srv://app:p@ss@cluster0.example.net/x'), 'mongodb+srv://app:***@cluster0.example.net/x');
    assert.equal(redactText('mongodb://h/?tls=true&tlsCertificateKeyFilePassword=kf%20pw&w=1'), 'mongodb://h/?tls=true&tlsCertificateKeyFilePassword=***&w=1');
    assert.equal(redactText('mongodb://h/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:tok,x:y'), 'mongodb://h/?authMechanism=MONGODB-AWS&authMechanismProperties=***');
    assert.equal(redactText('{"password":"x\\"y","user":"u"}'), '{"password":"***","user":"u"}');
    assert.equal(redactText('authorization: Bearer abcdefgh12345'), 'authorization: Bearer ***');
    assert.equal(redactText('not a url'), 'not a url');
  });

  it('replaces raw, JSON-escaped and URL-encoded forms, and ignores values too short to be secrets', () => {
    const redactor = new Redactor(['p"a ss', 'ab']);
    const scrub = (text: string) => redactor.redact(text);
    assert.equal(scrub('x p"a ss y'), 'x *** y');
    assert.equal(scrub('{"m":"p\\"a ss"}'), '{"m":"***"}');
    assert.equal(scrub('u=p%22a%20ss'), 'u=***');
    assert.equal(scrub('ab stays'), 'ab stays');
  });

  it('keeps secrets out of every log line, messages and error stacks included', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) }, secrets: ['hunter2-secret'] });
    logger.info('connecting with hunter2-secret');
    logger.error({ err: new Error('SASL refused password hunter2-secret'), config: { brokers: ['b:9092'], token: 'hunter2-secret' } }, 'failed');
    assert.equal(lines.length, 2);
    for (const line of lines) assert.ok(!line.includes('hunter2'), line);
    assert.match(lines[0]!, /connecting with \*\*\*/);
    assert.match(lines[1]!, /SASL refused password \*\*\*/);
  });
});
