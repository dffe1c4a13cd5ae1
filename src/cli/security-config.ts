/**
 * Credentials and TLS settings, validated with the rest of the configuration (config.ts) before
 * anything connects: files are read here, so a missing CA file fails at start with the setting's
 * name, not at the first broker connection with an OpenSSL message.
 *
 * Secrets (passwords) are read from the environment, a `*_FILE` or the config file — never from a
 * flag, because command lines are visible to every user of the machine (`ps`). Every secret read
 * is returned in `secrets`, which the logger scrubs from every line.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { SASLOptions } from 'kafkajs';
import { TributaryError } from '../errors.js';

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

export interface SecurityConfig {
  readonly kafka: KafkaSecurity;
  readonly registryAuth?: { readonly username: string; readonly password: string };
  /** Every secret value read, for the logger's scrubber. */
  readonly secrets: readonly string[];
}

/** Finds a setting: returns where it came from (for messages) and its value, or undefined. */
export type Pick = (flag: string, variable: string) => [string, string | undefined];

function bad(setting: string, value: string, accepted: string): never {
  throw new TributaryError('TRB_CONFIG', `invalid ${setting}=${JSON.stringify(value)}: expected ${accepted}`, { context: { setting, value, accepted } });
}

function readSettingFile(setting: string, file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    return bad(setting, file, `a readable ${what} file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

function booleanOr(setting: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value === '') return fallback;
  const v = value.toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  return bad(setting, value, 'true or false');
}

/** A password from `<VAR>` or `<VAR>_FILE` (trailing newline dropped), whichever is set; both set is an error. */
function secret(pick: Pick, flag: string, variable: string): [string, string | undefined] {
  const [setting, value] = pick(flag, variable);
  const [fileSetting, file] = pick(`${flag}-file`, `${variable}_FILE`);
  if (value !== undefined && file !== undefined) bad(fileSetting, file, `either ${variable} or ${variable}_FILE, not both`);
  if (file !== undefined) return [fileSetting, readSettingFile(fileSetting, file, 'password').replace(/\r?\n$/, '')];
  return [setting, value];
}

function kafkaSasl(pick: Pick, secrets: string[]): KafkaSecurity['sasl'] {
  const [mechanismSetting, mechanismValue] = pick('kafka-sasl-mechanism', 'KAFKA_SASL_MECHANISM');
  const [userSetting, username] = pick('kafka-sasl-username', 'KAFKA_SASL_USERNAME');
  const [passwordSetting, password] = secret(pick, 'kafka-sasl-password', 'KAFKA_SASL_PASSWORD');
  if (mechanismValue === undefined) {
    if (username !== undefined) bad(userSetting, username, 'to be set with KAFKA_SASL_MECHANISM (plain, scram-sha-256 or scram-sha-512)');
    if (password !== undefined) bad(passwordSetting, '***', 'to be set with KAFKA_SASL_MECHANISM (plain, scram-sha-256 or scram-sha-512)');
    return undefined;
  }
  const mechanism = mechanismValue.toLowerCase();
  if (!(SASL_MECHANISMS as readonly string[]).includes(mechanism)) bad(mechanismSetting, mechanismValue, SASL_MECHANISMS.join(', '));
  if (username === undefined || username === '') bad(userSetting, username ?? '', `a user name (required by ${mechanismSetting}=${mechanism})`);
  if (password === undefined || password === '') bad(passwordSetting, '', `a password in KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE (required by ${mechanismSetting}=${mechanism})`);
  secrets.push(password);
  return { mechanism: mechanism as SaslMechanism, username, password };
}

function kafkaTls(pick: Pick): KafkaSecurity['tls'] {
  const [tlsSetting, tlsValue] = pick('kafka-tls', 'KAFKA_TLS');
  const [caSetting, caFile] = pick('kafka-tls-ca-file', 'KAFKA_TLS_CA_FILE');
  const [certSetting, certFile] = pick('kafka-tls-cert-file', 'KAFKA_TLS_CERT_FILE');
  const [keySetting, keyFile] = pick('kafka-tls-key-file', 'KAFKA_TLS_KEY_FILE');
  const [rejectSetting, rejectValue] = pick('kafka-tls-reject-unauthorized', 'KAFKA_TLS_REJECT_UNAUTHORIZED');
  const anyFile = caFile !== undefined || certFile !== undefined || keyFile !== undefined;
  // A CA or client certificate means TLS; saying KAFKA_TLS=false beside one is a contradiction.
  const enabled = booleanOr(tlsSetting, tlsValue, anyFile);
  if (!enabled) {
    if (anyFile) bad(tlsSetting, tlsValue ?? '', 'true (or unset) when a KAFKA_TLS_*_FILE is set');
    return undefined;
  }
  if ((certFile === undefined) !== (keyFile === undefined)) {
    const [setting, value] = certFile === undefined ? [keySetting, keyFile ?? ''] : [certSetting, certFile];
    bad(setting, value, 'KAFKA_TLS_CERT_FILE and KAFKA_TLS_KEY_FILE together (client certificate and its key)');
  }
  const rejectUnauthorized = booleanOr(rejectSetting, rejectValue, true);
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
function registryAuth(pick: Pick, registryUrl: string | undefined, secrets: string[]): { url: string | undefined; auth?: SecurityConfig['registryAuth'] } {
  const [userSetting, username] = pick('registry-username', 'SCHEMA_REGISTRY_USERNAME');
  const [passwordSetting, password] = secret(pick, 'registry-password', 'SCHEMA_REGISTRY_PASSWORD');
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
    if (fromUrl?.password) secrets.push(fromUrl.password);
    return { url, ...(fromUrl ? { auth: fromUrl } : {}) };
  }
  if (fromUrl) bad(userSetting, username ?? '', 'unset when the registry URL carries user:password');
  if (username === undefined || username === '') bad(userSetting, '', `a user name (${passwordSetting} is set)`);
  if (password === undefined || password === '') bad(passwordSetting, '', `a password (${userSetting} is set)`);
  secrets.push(password);
  return { url, auth: { username, password } };
}

export function loadSecurity(pick: Pick, registryUrl: string | undefined, mongoUrl: string | undefined): SecurityConfig & { registryUrl: string | undefined } {
  const secrets: string[] = [];
  const sasl = kafkaSasl(pick, secrets);
  const tls = kafkaTls(pick);
  const registry = registryAuth(pick, registryUrl, secrets);
  if (mongoUrl !== undefined) {
    // mongodb+srv and multi-host URLs do not all parse as WHATWG URLs: take the userinfo by hand.
    const password = /^[a-z+]+:\/\/[^:/@]*:([^@/]*)@/i.exec(mongoUrl)?.[1];
    if (password) secrets.push(decodeURIComponent(password), password);
  }
  return {
    kafka: { ...(sasl ? { sasl } : {}), ...(tls ? { tls } : {}) },
    ...(registry.auth ? { registryAuth: registry.auth } : {}),
    registryUrl: registry.url,
    secrets: [...new Set(secrets)],
  };
}

/** The kafkajs client options for `security` (`ssl`, `sasl`), for kafkaTransport(). */
export function kafkaSecurityOptions(security: KafkaSecurity): { ssl?: ConnectionOptions; sasl?: SASLOptions } {
  return {
    ...(security.tls ? { ssl: security.tls.options } : {}),
    // kafkajs types each mechanism as its own literal; ours is validated to be one of them.
    ...(security.sasl ? { sasl: { ...security.sasl } as SASLOptions } : {}),
  };
}
