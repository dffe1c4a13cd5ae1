/**
 * The environment of a benchmark run, detected — never written by hand: CPU model and count,
 * memory, OS, Node, the Kafka broker's version and count, the document store's server and version
 * (its `buildInfo`) and, where the PostgreSQL under DocumentDB is reachable, `SELECT version()` and
 * the DocumentDB extension's version. What cannot be detected is recorded as not detected, with why.
 *
 *   detectEnvironment({ brokers, mongodbUrl, postgresUrl })  --> Environment  (bench/lib/run.ts, once per run)
 *   describeEnvironment(environment)                          --> 'CPU: … × 2; memory …; …'  (the summary's line)
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';

export interface Environment {
  readonly cpu: { readonly model: string; readonly count: number };
  readonly memoryGiB: number;
  readonly os: string;
  readonly node: string;
  readonly kafka: {
    readonly version: string | null;
    readonly brokers: number | null;
    /** Partitions on the brokers when the run opened (leftovers of earlier runs make a broker slower); absent in runs before 2026-12-06. */
    readonly partitions?: number | null;
    readonly note: string;
  };
  readonly store: {
    /** e.g. 'DocumentDB 0.106-0', 'FerretDB 1.24.2', 'MongoDB 7.0.14', or the wire version when nothing names the server. */
    readonly server: string;
    /** The fields of `buildInfo` that name the server. */
    readonly buildInfo: Readonly<Record<string, string>> | null;
    /** `SELECT version()` of the PostgreSQL under the store, when reachable. */
    readonly postgres: string | null;
    readonly note: string;
  };
}

const run = promisify(execFile);
/** The first line of an error, with any credentials in a URL masked (psql's "Command failed: psql <url> …" names its URL). */
const message = (error: unknown) => (error instanceof Error ? (error.message.split('\n')[0] ?? error.message) : String(error)).replace(/\/\/[^/@\s]*@/g, '//***@');

function osName(): string {
  let pretty: string | undefined;
  try {
    pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1];
  } catch {
    // not Linux, or no os-release: the kernel line alone
  }
  return [pretty, `${os.type()} ${os.release()} ${os.arch()}`].filter(Boolean).join(', ');
}

/** Kafka versions named by the classpath of local `kafka.Kafka` processes (jar file names such as kafka-server-4.3.1.jar). */
export function kafkaVersionsOfLocalBrokers(): string[] {
  const versions = new Set<string>();
  let pids: string[] = [];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return [];
  }
  for (const pid of pids) {
    let args: string[];
    try {
      args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // gone, or not ours to read
    }
    if (!args.includes('kafka.Kafka')) continue;
    const at = args.findIndex((a) => a === '-cp' || a === '-classpath');
    const entries = at >= 0 ? (args[at + 1] ?? '').split(':') : [];
    for (const entry of entries) {
      let jars = [path.basename(entry)];
      if (entry.endsWith('*')) {
        try {
          jars = readdirSync(path.dirname(entry));
        } catch {
          jars = [];
        }
      }
      for (const jar of jars) {
        const version = /^kafka-server-(\d[\w.-]*)\.jar$/.exec(jar)?.[1] ?? /^kafka_\d+\.\d+-(\d[\w.-]*)\.jar$/.exec(jar)?.[1];
        if (version !== undefined) versions.add(version);
      }
    }
  }
  return [...versions];
}

async function detectKafka(brokers: readonly string[]): Promise<Environment['kafka']> {
  let count: number | null = null;
  let partitions: number | null = null;
  let reached = '';
  const kafka = new Kafka({ clientId: 'bench-environment', brokers: [...brokers], logLevel: logLevel.NOTHING, connectionTimeout: 3_000, retry: { retries: 1 } });
  const admin = kafka.admin();
  try {
    await admin.connect();
    count = (await admin.describeCluster()).brokers.length;
    partitions = (await admin.fetchTopicMetadata()).topics.reduce((n, t) => n + t.partitions.length, 0);
  } catch (error) {
    reached = `cluster not described: ${message(error)}; `;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  const local = brokers.every((b) => /^(127\.0\.0\.1|localhost|\[::1\]):/.test(b));
  const versions = local ? kafkaVersionsOfLocalBrokers() : [];
  if (versions.length === 1) return { version: versions[0] as string, brokers: count, partitions, note: `${reached}version from the classpath of the local kafka.Kafka process` };
  const why = !local ? 'the brokers are not on this machine' : versions.length === 0 ? 'no local kafka.Kafka process names its version' : `local brokers disagree (${versions.join(', ')})`;
  return { version: null, brokers: count, partitions, note: `${reached}version not detected: ${why}` };
}

/** The server's name and version from `buildInfo` and, for DocumentDB, the extension's version in PostgreSQL. */
export function storeServerName(buildInfo: Readonly<Record<string, string>> | null, documentdbExtension: string | null): string {
  if (documentdbExtension) return `DocumentDB ${documentdbExtension}${buildInfo?.['version'] ? ` (gateway reports MongoDB ${buildInfo['version']})` : ''}`;
  if (!buildInfo) return 'not detected';
  if (buildInfo['ferretdb']) return `FerretDB ${buildInfo['ferretdb']}`;
  if (buildInfo['gitVersion']) return `MongoDB ${buildInfo['version'] ?? '?'}`;
  return `a MongoDB-wire server reporting version ${buildInfo['version'] ?? '?'} (buildInfo names no server)`;
}

async function psql(url: string, sql: string): Promise<string> {
  const { stdout } = await run('psql', [url, '-XAtqc', sql], { timeout: 10_000, env: { ...process.env, PGCONNECT_TIMEOUT: '3' } });
  return stdout.trim();
}

async function detectStore(mongodbUrl: string | undefined, postgresUrl: string | undefined): Promise<Environment['store']> {
  const notes: string[] = [];
  let buildInfo: Record<string, string> | null = null;
  if (mongodbUrl) {
    const client = new MongoClient(mongodbUrl, { serverSelectionTimeoutMS: 5_000 });
    try {
      await client.connect();
      const info = await client.db('admin').command({ buildInfo: 1 });
      buildInfo = {};
      for (const key of ['version', 'gitVersion']) if (typeof info[key] === 'string') buildInfo[key] = info[key] as string;
      const ferret = info['ferretdb'] as { version?: unknown } | undefined;
      if (typeof ferret?.version === 'string') buildInfo['ferretdb'] = ferret.version;
    } catch (error) {
      notes.push(`buildInfo failed: ${message(error)}`);
    } finally {
      await client.close().catch(() => undefined);
    }
  } else notes.push('no MONGODB_URL');
  let postgres: string | null = null;
  let extension: string | null = null;
  if (postgresUrl) {
    try {
      postgres = await psql(postgresUrl, 'SELECT version()');
      extension = (await psql(postgresUrl, "SELECT extversion FROM pg_extension WHERE extname = 'documentdb'")) || null;
    } catch (error) {
      notes.push(`PostgreSQL under the store not reached: ${message(error)}`);
    }
  } else notes.push('PostgreSQL under the store not given (BENCH_STORE_POSTGRES_URL)');
  return { server: storeServerName(buildInfo, extension), buildInfo, postgres, note: notes.join('; ') };
}

export async function detectEnvironment(services: { brokers: readonly string[]; mongodbUrl?: string; postgresUrl?: string }): Promise<Environment> {
  const cpus = os.cpus();
  const [kafka, store] = await Promise.all([detectKafka(services.brokers), detectStore(services.mongodbUrl, services.postgresUrl)]);
  return {
    cpu: { model: cpus[0]?.model.trim() ?? 'unknown', count: cpus.length },
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    os: osName(),
    node: process.version,
    kafka,
    store,
  };
}

/** One line for the summary, every part from the detected environment. */
export function describeEnvironment(e: Environment): string {
  const partitions = typeof e.kafka.partitions === 'number' ? ` holding ${e.kafka.partitions} partitions at the start` : '';
  const kafka = `Kafka ${e.kafka.version ?? 'version not detected'}${e.kafka.brokers !== null ? `, ${e.kafka.brokers} broker${e.kafka.brokers === 1 ? '' : 's'}${partitions}` : ''}`;
  const store = `store: ${e.store.server}${e.store.postgres ? ` on ${e.store.postgres.replace(/ on \S+-linux-gnu.*$/, '')}` : ''}`;
  return `${e.cpu.count} × ${e.cpu.model}; ${e.memoryGiB} GiB memory; ${e.os}; Node ${e.node}; ${kafka}; ${store}`;
}
