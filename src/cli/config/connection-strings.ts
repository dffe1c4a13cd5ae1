/**
 * Connection strings, accepted in every form their client accepts, and their credentials
 * registered as secrets before anything can print them.
 *
 * MongoDB: whatever the driver's own parser takes — one host or a replica-set list
 * (`mongodb://app:pw@h1:27017,h2:27017/db?replicaSet=rs0`), `mongodb+srv://`, IPv6 hosts in
 * brackets, every driver option. The driver validates it (no connection is made), so a URL refused
 * here is one the driver would refuse, and the message says why, with the password redacted.
 *
 * Kafka: a comma-separated list of `host:port`, `ipv4:port` or `[ipv6]:port`.
 *
 *   mongoUrl(['MONGODB_URL', 'mongodb://app:s3cret@h1:27017,h2:27017/x'], redactor)
 *     --> the URL, with 's3cret' registered in `redactor`
 *   kafkaBrokers(['KAFKA_BROKERS', 'b1:9092, [::1]:9093'])  --> ['b1:9092', '[::1]:9093']
 */
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import type { MongoClient as MongoClientType } from 'mongodb';
import { isSensitiveName, type Redactor } from '../../ops/secrets.js';
import { bad, type Found } from './values.js';

/** Decodes a percent-encoded part; a malformed escape is kept as written (the driver refuses it later). */
function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * Every credential a connection string (MongoDB, registry) holds: the user-info password and the values of
 * credential options (`tlsCertificateKeyFilePassword`, `authMechanismProperties=AWS_SESSION_TOKEN:…`),
 * raw and decoded.
 */
export function urlCredentials(url: string): string[] {
  const found: string[] = [];
  const rest = url.replace(/^[a-z+]+:\/\//i, '');
  const authorityEnd = rest.search(/[/?]/);
  const authority = authorityEnd < 0 ? rest : rest.slice(0, authorityEnd);
  const at = authority.lastIndexOf('@');
  if (at >= 0) {
    const userinfo = authority.slice(0, at);
    const colon = userinfo.indexOf(':');
    if (colon >= 0) found.push(userinfo.slice(colon + 1), decoded(userinfo.slice(colon + 1)));
  }
  const query = url.indexOf('?');
  if (query >= 0) {
    for (const pair of url.slice(query + 1).split('&')) {
      const eq = pair.indexOf('=');
      if (eq < 0 || !isSensitiveName(pair.slice(0, eq))) continue;
      const value = pair.slice(eq + 1);
      found.push(value, decoded(value));
      // authMechanismProperties=SERVICE_NAME:x,AWS_SESSION_TOKEN:secret — each property's value too.
      for (const property of decoded(value).split(',')) {
        const [name, ...parts] = property.split(':');
        if (name !== undefined && isSensitiveName(name) && parts.length) found.push(parts.join(':'));
      }
    }
  }
  return [...new Set(found.filter((s) => s !== ''))];
}

const requireFromHere = createRequire(import.meta.url);

/**
 * A MongoDB connection string the driver accepts, or undefined when unset. Its credentials are
 * registered in `redactor` first, so even a refusal cannot print them.
 */
export function mongoUrl([setting, value]: Found, redactor: Redactor): string | undefined {
  if (value === undefined) return undefined;
  redactor.add(...urlCredentials(value));
  if (!/^mongodb(\+srv)?:\/\//i.test(value)) bad(setting, value, 'a MongoDB connection string starting with mongodb:// or mongodb+srv://');
  // Loaded only when a URL is set: the commands that need no store do not pay for the driver.
  const { MongoClient } = requireFromHere('mongodb') as { MongoClient: typeof MongoClientType };
  try {
    // Parses and validates every part and option, as connect() would; opens no connection.
    new MongoClient(value);
  } catch (error) {
    bad(setting, value, `a connection string the MongoDB driver accepts (it says: ${redactor.redact((error as Error).message)})`);
  }
  return value;
}

/** One broker address: host name, IPv4, or IPv6 (written in brackets), and a port from 1 to 65535. */
export interface BrokerAddress {
  readonly host: string;
  readonly port: number;
}

const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62}))*\.?$/;

/** Parses one `host:port` / `[ipv6]:port`; undefined when it is neither. */
export function parseBroker(text: string): BrokerAddress | undefined {
  const match = /^(?:\[([0-9A-Fa-f:.]+(?:%[A-Za-z0-9_.-]+)?)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return undefined;
  if (match[1] !== undefined) return isIP(match[1].replace(/%.*$/, '')) === 6 ? { host: match[1], port } : undefined;
  const host = match[2] as string;
  return isIP(host) === 4 || (HOST_NAME.test(host) && !/^\d+(\.\d+)*$/.test(host)) ? { host, port } : undefined;
}

/** The bootstrap brokers, normalised (`host:port`, `[ipv6]:port`); the default when unset. */
export function kafkaBrokers([setting, value]: Found, fallback: readonly string[]): string[] {
  if (value === undefined) return [...fallback];
  const accepted = 'a comma-separated list of host:port, e.g. 127.0.0.1:9092,broker-2:9092 (IPv6 in brackets: [::1]:9092)';
  const entries = value.split(',').map((entry) => entry.trim()).filter(Boolean);
  if (entries.length === 0) bad(setting, value, accepted);
  return entries.map((entry) => {
    if (/^[a-z_]+:\/\//i.test(entry)) bad(setting, value, `${accepted}, without a scheme: TLS is --kafka-tls, SASL --kafka-sasl-mechanism (got ${JSON.stringify(entry)})`);
    if (!entry.startsWith('[') && (entry.match(/:/g) ?? []).length > 1) bad(setting, value, `${accepted}; an IPv6 address needs brackets (got ${JSON.stringify(entry)})`);
    const broker = parseBroker(entry);
    if (!broker) bad(setting, value, `${accepted} (got ${JSON.stringify(entry)}: a port from 1 to 65535 after a host name or address)`);
    return broker.host.includes(':') ? `[${broker.host}]:${broker.port}` : `${broker.host}:${broker.port}`;
  });
}
