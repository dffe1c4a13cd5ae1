/**
 * Where a refresh has got to, in a JSON file, so an interrupted refresh (Ctrl-C, a crash, a
 * deploy) continues from the last batch Kafka acknowledged instead of starting over. Written
 * atomically (temporary file, then rename): a crash mid-write leaves the previous checkpoint.
 *
 *   {"version":1,"topology":"customer-360","view":"sv_customers","afterId":{"$oid":"…"},"sent":1500,"total":5000,…}
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { BSON } from 'mongodb';
import { TributaryError } from '../../errors.js';

export interface RefreshPosition {
  readonly topology: string;
  readonly view: string;
  /** `_id` of the last base document whose trigger Kafka acknowledged; undefined = from the start. */
  readonly afterId: unknown;
  /** Triggers sent so far (over every run of this refresh). */
  readonly sent: number;
  /** Base documents when the refresh started. */
  readonly total: number;
  readonly startedAt: string;
}

export interface RefreshCheckpoint {
  load(): RefreshPosition | undefined;
  save(position: RefreshPosition): void;
  clear(): void;
  /** Where it is kept, for messages. */
  readonly location: string;
}

/** A checkpoint in `file`; `_id` values keep their BSON type (ObjectId, Date, …) through Extended JSON. */
export function fileCheckpoint(file: string): RefreshCheckpoint {
  return {
    location: file,
    load() {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw new TributaryError('TRB_CONFIG', `cannot read the refresh checkpoint ${file}: ${(error as Error).message}`, { cause: error });
      }
      try {
        const parsed = JSON.parse(text) as Record<string, unknown>;
        if (parsed['version'] !== 1 || typeof parsed['view'] !== 'string' || typeof parsed['sent'] !== 'number') throw new Error('not a version 1 checkpoint');
        return {
          topology: String(parsed['topology']),
          view: parsed['view'],
          afterId: parsed['afterId'] === undefined ? undefined : BSON.EJSON.deserialize(parsed['afterId'] as BSON.Document, { relaxed: false }),
          sent: parsed['sent'],
          total: Number(parsed['total']),
          startedAt: String(parsed['startedAt']),
        };
      } catch (error) {
        throw new TributaryError('TRB_CONFIG', `the refresh checkpoint ${file} is damaged (${(error as Error).message}): delete it or pass --restart`, { cause: error });
      }
    },
    save(position) {
      const body = {
        version: 1,
        ...position,
        afterId: position.afterId === undefined ? undefined : BSON.EJSON.serialize(position.afterId, { relaxed: false }),
        updatedAt: new Date().toISOString(),
      };
      mkdirSync(dirname(file), { recursive: true });
      const temporary = `${file}.${process.pid}.tmp`;
      writeFileSync(temporary, `${JSON.stringify(body, null, 2)}\n`);
      renameSync(temporary, file);
    },
    clear() {
      rmSync(file, { force: true });
    },
  };
}

/** A checkpoint that lives as long as the process (the library default; tests). */
export function memoryCheckpoint(): RefreshCheckpoint & { readonly saved: RefreshPosition[] } {
  let current: RefreshPosition | undefined;
  const saved: RefreshPosition[] = [];
  return {
    location: 'memory',
    saved,
    load: () => current,
    save: (position) => void (saved.push(position), (current = position)),
    clear: () => void (current = undefined),
  };
}
