/**
 * `classifyMongoError` decides, for the whole mongo store, whether the retrier may try again. No I/O:
 * the driver's error classes are built by hand the way the driver builds them.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  BSON,
  MongoBulkWriteError,
  MongoClientClosedError,
  MongoDriverError,
  MongoInvalidArgumentError,
  MongoNetworkError,
  MongoNetworkTimeoutError,
  MongoNotConnectedError,
  MongoOperationTimeoutError,
  MongoServerError,
  MongoServerSelectionError,
  type BulkWriteResult,
  type TopologyDescription,
  type WriteError,
} from 'mongodb';
import { MongoDocumentStore, classifyMongoError } from '../../src/store/mongo/mongo-store.js';
import { OperationDeadlineError, storeError } from '../../src/store/mongo/errors.js';
import { isDuplicateKey } from '../../src/store/types.js';
import { MemoryDocumentStore } from '../../src/store/memory/memory-store.js';
import { TributaryError } from '../../src/errors.js';

const serverError = (code: number, message = `server error ${code}`, errorLabels: string[] = []): MongoServerError =>
  new MongoServerError({ message, code, errorLabels });

/** What the server sends for a failed ordered bulkWrite: a top-level code and per-statement errors. */
const bulkError = (code: number | undefined, writeErrorCodes: number[]): MongoBulkWriteError =>
  new MongoBulkWriteError(
    { message: 'bulk write failed', code: code ?? 0, writeErrors: writeErrorCodes.map((c, index) => ({ code: c, index }) as unknown as WriteError) },
    {} as unknown as BulkWriteResult,
  );

const retriable = (error: unknown): boolean => classifyMongoError(error).retriable;

describe('classifyMongoError', () => {
  it('retries what passes by itself: network, server selection, timeouts', () => {
    assert.equal(retriable(new MongoNetworkError('connection reset')), true);
    assert.equal(retriable(new MongoNetworkTimeoutError('socket timed out')), true);
    assert.equal(retriable(new MongoServerSelectionError('no server', { error: null } as unknown as TopologyDescription)), true);
    assert.equal(retriable(new MongoOperationTimeoutError('timed out')), true);
    /** The driver's pool wait-queue timeout is not exported; it is recognised by name. */
    class WaitQueueTimeout extends MongoDriverError {
      override get name(): string {
        return 'MongoWaitQueueTimeoutError';
      }
    }
    assert.equal(retriable(new WaitQueueTimeout('timed out waiting for a connection')), true);
  });

  it('retries socket failures the driver did not wrap (issue #16: `write ECONNRESET` stopped a partition), also as a cause', () => {
    const reset = Object.assign(new Error('write ECONNRESET'), { code: 'ECONNRESET', syscall: 'write' });
    assert.equal(retriable(reset), true);
    for (const code of ['ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'EAI_AGAIN']) assert.equal(retriable(Object.assign(new Error(code), { code })), true, code);
    assert.equal(retriable(new Error('wrapped', { cause: reset })), true, 'found in the cause chain');
    assert.equal(retriable(Object.assign(new Error('no such file'), { code: 'ENOENT' })), false, 'other system errors stay permanent');
    assert.equal(retriable(new TypeError('bad argument')), false);
  });

  it('retries "not primary", shutdown, interruption and time-limit codes, and anything labelled retryable', () => {
    for (const code of [10107, 13435, 13436, 189, 91, 11600, 11602, 50, 262, 6, 7, 89, 9001, 112]) {
      assert.equal(retriable(serverError(code)), true, `code ${code}`);
    }
    assert.equal(retriable(serverError(2, 'labelled', ['RetryableWriteError'])), true, 'the server label wins');
  });

  it('retries duplicate keys, a concurrent-upsert race, whether reported as a command or a bulk error', () => {
    assert.equal(retriable(serverError(11000, 'E11000 duplicate key error collection: db.c')), true);
    assert.equal(retriable(bulkError(11000, [11000])), true);
    assert.equal(retriable(bulkError(undefined, [11000])), true);
  });

  it('does not retry validation-type refusals', () => {
    const permanent: [number, string][] = [
      [2, 'BadValue, e.g. a key starting with $ or containing .'],
      [9, 'FailedToParse'],
      [28, 'PathNotViable'],
      [40, 'ConflictingUpdateOperators'],
      [52, 'DollarPrefixedFieldName'],
      [57, 'DottedFieldName'],
      [66, 'ImmutableField'],
      [85, 'IndexOptionsConflict'],
      [86, 'IndexKeySpecsConflict'],
      [121, 'DocumentValidationFailure'],
      [10334, 'BSONObjectTooLarge'],
      [17419, 'document too large after update'],
    ];
    for (const [code, name] of permanent) {
      assert.equal(retriable(serverError(code)), false, name);
      assert.equal(retriable(bulkError(code, [code])), false, `${name} in a bulk write`);
    }
    assert.equal(retriable(bulkError(undefined, [121])), false, 'a per-statement code counts');
  });

  it('does not retry client-side refusals: bad arguments, closed client, unserialisable or oversized BSON', () => {
    assert.equal(retriable(new MongoInvalidArgumentError('Document is larger than the maximum size 16777216')), false);
    assert.equal(retriable(new MongoNotConnectedError('Client must be connected before running operations')), false);
    assert.equal(retriable(new MongoClientClosedError()), false);
    assert.equal(retriable(new BSON.BSONError('key must not contain a null byte')), false);
    assert.equal(retriable(new RangeError('The value of "offset" is out of range.')), false, 'what the driver throws for a document over ~17 MB');
    assert.equal(retriable(new TypeError('x is not a function')), false);
    assert.equal(retriable('a string'), false);
  });

  it('retries a driver call that outlived the store\'s deadline (operationTimeoutMs)', () => {
    assert.equal(retriable(new OperationDeadlineError('no answer from the driver in 1000 ms')), true);
  });

  it('retries unknown server codes (the TRB_STORE_* default), including backend failures reported as code 1', () => {
    assert.equal(retriable(serverError(1, 'database is locked')), true);
    assert.equal(retriable(serverError(424242)), true);
  });
});

describe('MongoDocumentStore construction', () => {
  it('refuses database names MongoDB would not accept, and bad write limits, without I/O', () => {
    for (const database of ['', 'a.b', 'a b', 'a/b', 'x'.repeat(64)]) {
      assert.throws(() => new MongoDocumentStore({ url: 'mongodb://127.0.0.1:27017', database }), (e: unknown) => e instanceof TributaryError && e.code === 'TRB_CONFIG', database);
    }
    assert.throws(() => new MongoDocumentStore({ url: 'not-a-url', database: 'ok' }), (e: unknown) => e instanceof TributaryError && e.code === 'TRB_CONFIG' && !e.message.includes('not-a-url'));
    assert.equal(new MongoDocumentStore({ url: 'mongodb://127.0.0.1:27017', database: 'ok_1' }).kind, 'mongo');
    for (const operationTimeoutMs of [Number.NaN, Number.POSITIVE_INFINITY, -1, 1.5, 2 ** 31]) {
      assert.throws(() => new MongoDocumentStore({ url: 'mongodb://127.0.0.1:27017', database: 'ok_1', operationTimeoutMs }), (e: unknown) => e instanceof TributaryError && e.code === 'TRB_CONFIG', String(operationTimeoutMs));
    }
    assert.equal(new MongoDocumentStore({ url: 'mongodb://127.0.0.1:27017', database: 'ok_1', operationTimeoutMs: 0 }).kind, 'mongo', '0 = no deadline');
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      for (const option of ['maxOperationsPerCommand', 'maxConcurrentWrites'] as const) {
        assert.throws(() => new MongoDocumentStore({ url: 'mongodb://127.0.0.1:27017', database: 'ok_1', [option]: bad }), (e: unknown) => e instanceof TributaryError && e.code === 'TRB_CONFIG', `${option}=${bad}`);
      }
    }
  });

  it('a store closed by its owner fails later operations permanently and keeps its client (no reconnect behind its back)', async () => {
    const store = new MongoDocumentStore({ url: 'mongodb://127.0.0.1:27017/?directConnection=true', database: 'ok_1' });
    await store.close(); // never connected: no I/O
    const failure = await store.collection('c').find({}).then(() => undefined, (error: unknown) => error);
    assert.ok(failure instanceof TributaryError, String(failure));
    assert.equal(failure.code, 'TRB_STORE_READ');
    assert.equal(failure.retriable, false);
    assert.equal(store.clientReplacements, 0);
  });
});

describe('isDuplicateKey', () => {
  it('is told by the store layer: a MongoDB refusal with code 11000, as a command or inside a bulk error, marked through any wrapper', () => {
    const marked = (error: unknown) => isDuplicateKey(storeError('TRB_STORE_WRITE', 'write failed', error, { collection: 'c' }));
    assert.equal(marked(serverError(11000, 'E11000 duplicate key error collection: db.c')), true);
    assert.equal(marked(bulkError(undefined, [11000])), true);
    assert.equal(marked(bulkError(11000, [11000])), true);
    assert.equal(marked(serverError(2, 'BadValue')), false);
    assert.equal(marked(new MongoNetworkError('connection reset')), false);
    const wrapped = new TributaryError('TRB_PROCESS', 'lineage write failed', { cause: storeError('TRB_STORE_WRITE', 'write failed', serverError(11000), {}) });
    assert.equal(isDuplicateKey(wrapped), true, 'found anywhere in the cause chain');
    assert.equal(isDuplicateKey(new Error('E11000 in a message is not a mark')), false);
  });

  it('the embedded engine marks its unique-index refusals the same way', async () => {
    const store = new MemoryDocumentStore();
    const c = store.collection('c');
    await c.createIndexes([{ name: 'k_unique', fields: { k: 1 }, unique: true }]);
    await c.bulkWrite([{ kind: 'insert', document: { _id: 1, k: 'a' } }]);
    const failure = await c.bulkWrite([{ kind: 'insert', document: { _id: 2, k: 'a' } }]).then(() => undefined, (error: unknown) => error);
    assert.ok(failure instanceof TributaryError, String(failure));
    assert.equal(isDuplicateKey(failure), true);
  });
});
