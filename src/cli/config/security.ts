/**
 * Credentials and TLS settings, validated with the rest of the configuration before anything
 * connects: files are read here, so a missing CA file fails at start with the setting's name, not
 * at the first broker connection with an OpenSSL message.
 *
 * Secrets (passwords) are read from the environment, a `*_FILE` or the config file — never from a
 * flag, because command lines are visible to every user of the machine (`ps`). Every secret read
 * is registered in the source's Redactor, which the logger, the error printer and the ops server use.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { SASLOptions } from 'kafkajs';
import type { SettingSource } from './source.js';
import type { SettingKey } from './settings.js';
import { bad, boolean } from './values.js';

export const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

export interface KafkaSecurity {
  readonly sasl?: { readonly mechanism: SaslMechanism; readonly username: string; readonly password: string };
  /** TLS to the brokers; `options` is what the client gets, the rest is what `/status` may show. */
  readonly tls?: {
    readonly caFile?: string;
    readonly certFile?: string;
    readonly keyFile?: string;
    readonly rejectUnauthorized: boolean;
    readonly options: ConnectionOptions;
  };
}

export interface RegistryAuth {
  readonly username: string;
  readonly password: string;
}

function readSettingFile(setting: string, file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    return bad(setting, file, `a readable ${what} file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

/** A password from `<VAR>` or `<VAR>_FILE` (trailing newline dropped), whichever is set; both set is an error. Registered as a secret. */
function secret(source: SettingSource, key: 'kafka-sasl-password' | 'registry-password'): [string, string | undefined] {
  const [setting, value] = source.secret(key);
  const [fileSetting, file] = source.get(`${key}-file` as SettingKey);
  if (value !== undefined && file !== undefined) bad(fileSetting, file, `either ${setting} or ${fileSetting}, not both`);
  if (file === undefined) return [setting, value];
  const password = readSettingFile(fileSetting, file, 'password').replace(/\r?\n$/, '');
  source.redactor.add(password);
  return [fileSetting, password];
}

function kafkaSasl(source: SettingSource): KafkaSecurity['sasl'] {
  const [mechanismSetting, mechanismValue] = source.get('kafka-sasl-mechanism');
  const [userSetting, username] = source.get('kafka-sasl-username');
  const [passwordSetting, password] = secret(source, 'kafka-sasl-password');
  if (mechanismValue === undefined) {
    if (username !== undefined) bad(userSetting, username, 'to be set with KAFKA_SASL_MECHANISM (plain, scram-sha-256 or scram-sha-512)');
    if (password !== undefined) bad(passwordSetting, password, 'to be set with KAFKA_SASL_MECHANISM (plain, scram-sha-256 or scram-sha-512)', { secret: true });
    return undefined;
  }
  const mechanism = mechanismValue.toLowerCase();
  if (!(SASL_MECHANISMS as readonly string[]).includes(mechanism)) bad(mechanismSetting, mechanismValue, SASL_MECHANISMS.join(', '));
  if (username === undefined || username === '') bad(userSetting, username ?? '', `a user name (required by ${mechanismSetting}=${mechanism})`);
  if (password === undefined || password === '') bad(passwordSetting, '', `a password in KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE (required by ${mechanismSetting}=${mechanism})`);
  return { mechanism: mechanism as SaslMechanism, username, password };
}

function kafkaTls(source: SettingSource): KafkaSecurity['tls'] {
  const [tlsSetting, tlsValue] = source.get('kafka-tls');
  const [caSetting, caFile] = source.get('kafka-tls-ca-file');
  const [certSetting, certFile] = source.get('kafka-tls-cert-file');
  const [keySetting, keyFile] = source.get('kafka-tls-key-file');
  const anyFile = caFile !== undefined || certFile !== undefined || keyFile !== undefined;
  // A CA or client certificate means TLS; saying KAFKA_TLS=false beside one is a contradiction.
  const enabled = boolean([tlsSetting, tlsValue], anyFile);
  if (!enabled) {
    if (anyFile) bad(tlsSetting, tlsValue ?? '', 'true (or unset) when a KAFKA_TLS_*_FILE is set');
    return undefined;
  }
  if ((certFile === undefined) !== (keyFile === undefined)) {
    const [setting, value] = certFile === undefined ? [keySetting, keyFile ?? ''] : [certSetting, certFile];
    bad(setting, value, 'KAFKA_TLS_CERT_FILE and KAFKA_TLS_KEY_FILE together (client certificate and its key)');
  }
  const rejectUnauthorized = boolean(source.get('kafka-tls-reject-unauthorized'), true);
  const options: ConnectionOptions = {
    rejectUnauthorized,
    ...(caFile !== undefined ? { ca: [readSettingFile(caSetting, caFile, 'PEM CA certificate')] } : {}),
    ...(certFile !== undefined ? { cert: readSettingFile(certSetting, certFile, 'PEM certificate') } : {}),
    ...(keyFile !== undefined ? { key: readSettingFile(keySetting, keyFile, 'PEM private key') } : {}),
  };
  return {
    ...(caFile !== undefined ? { caFile } : {}),
    ...(certFile !== undefined ? { certFile } : {}),
    ...(keyFile !== undefined ? { keyFile } : {}),
    rejectUnauthorized,
    options,
  };
}

/**
 * Registry basic auth from SCHEMA_REGISTRY_USERNAME / _PASSWORD, or from the URL's userinfo
 * (`https://key:secret@host`, Confluent Cloud style), which is then removed from the URL the client
 * uses so it cannot reach a log line.
 */
export function registryAuth(source: SettingSource, registryUrl: string | undefined): { url: string | undefined; auth?: RegistryAuth } {
  const [userSetting, username] = source.get('registry-username');
  const [passwordSetting, password] = secret(source, 'registry-password');
  let url = registryUrl;
  let fromUrl: { username: string; password: string } | undefined;
  if (registryUrl !== undefined) {
    const parsed = new URL(registryUrl);
    if (parsed.username !== '' || parsed.password !== '') {
      fromUrl = { username: decodeURIComponent(parsed.username), password: decodeURIComponent(parsed.password) };
      parsed.username = '';
      parsed.password = '';
      url = parsed.toString().replace(/\/$/, registryUrl.endsWith('/') ? '/' : '');
    }
  }
  if (username === undefined && password === undefined) {
    source.redactor.add(fromUrl?.password);
    return { url, ...(fromUrl ? { auth: fromUrl } : {}) };
  }
  if (fromUrl) bad(userSetting, username ?? '', 'unset when the registry URL carries user:password');
  if (username === undefined || username === '') bad(userSetting, '', `a user name (${passwordSetting} is set)`);
  if (password === undefined || password === '') bad(passwordSetting, '', `a password (${userSetting} is set)`);
  return { url, auth: { username, password } };
}

/** Kafka SASL and TLS. */
export function kafkaSecurity(source: SettingSource): KafkaSecurity {
  const sasl = kafkaSasl(source);
  const tls = kafkaTls(source);
  return { ...(sasl ? { sasl } : {}), ...(tls ? { tls } : {}) };
}

/** The kafkajs client options for `security` (`ssl`, `sasl`), for kafkaTransport(). */
export function kafkaSecurityOptions(security: KafkaSecurity): { ssl?: ConnectionOptions; sasl?: SASLOptions } {
  return {
    ...(security.tls ? { ssl: security.tls.options } : {}),
    // kafkajs types each mechanism as its own literal; ours is validated to be one of them.
    ...(security.sasl ? { sasl: { ...security.sasl } as SASLOptions } : {}),
  };
}
