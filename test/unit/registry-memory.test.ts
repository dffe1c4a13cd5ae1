/**
 * The registry contract on the in-process registry, and the classification of the Confluent
 * client's failures (`registryError`): an outage (no HTTP answer, which the client library reports
 * as a made-up status 400), 408, 429 and 5xx are TRB_CONNECT and retriable; the registry's own 4xx
 * answers and the library's schema errors are TRB_SCHEMA; 401/403 are TRB_AUTH.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { memoryRegistry, registryError } from '../../src/stream/serdes/registry.js';
import { registryContract } from '../contract/registry-contract.js';

registryContract('memory', () => memoryRegistry());

/** What @kafkajs/confluent-schema-registry rejects with: its ResponseError (message, status). */
const responseError = (status: number, message: string) => Object.assign(new Error(`Confluent_Schema_Registry - ${message}`), { name: 'ResponseError', status });

describe('registryError: what a failed registry call means', () => {
  const classify = (error: unknown) => {
    const e = registryError(error, 'call', {});
    return `${e.code} ${e.retriable}`;
  };

  it('a request with no answer (refused, reset, timed out, name not resolved) is an outage: TRB_CONNECT, retriable', () => {
    for (const cause of ['connect ECONNREFUSED 127.0.0.1:8081', 'read ECONNRESET', 'socket hang up', 'Timeout (30000ms)', 'getaddrinfo ENOTFOUND registry.internal', 'connect ETIMEDOUT 10.0.0.1:8081']) {
      assert.equal(classify(responseError(400, `Error, status 400: ${cause}`)), 'TRB_CONNECT true', cause);
    }
  });

  it('408, 429 and 5xx answers are transient; other 4xx answers are about the request', () => {
    assert.equal(classify(responseError(408, 'Error, status 408: Request Timeout')), 'TRB_CONNECT true');
    assert.equal(classify(responseError(429, 'Too many requests')), 'TRB_CONNECT true');
    assert.equal(classify(responseError(503, 'Error, status 503: Service Unavailable')), 'TRB_CONNECT true');
    assert.equal(classify(responseError(404, "Subject 'x-value' not found.")), 'TRB_SCHEMA false');
    assert.equal(classify(responseError(409, 'Schema being registered is incompatible with an earlier schema')), 'TRB_SCHEMA false');
    assert.equal(classify(responseError(422, 'Invalid schema')), 'TRB_SCHEMA false');
    assert.equal(classify(responseError(400, 'Error, status 400: {"bad":"request"}')), 'TRB_SCHEMA false', 'a 400 the registry sent stays permanent');
  });

  it('credentials refused: TRB_AUTH; the library refusing its arguments: TRB_SCHEMA; anything else: TRB_CONNECT', () => {
    assert.equal(classify(responseError(401, 'Unauthorized')), 'TRB_AUTH false');
    assert.equal(classify(responseError(403, 'Forbidden')), 'TRB_AUTH false');
    assert.equal(classify(Object.assign(new Error('Invalid name: undefined'), { name: 'ConfluentSchemaRegistryArgumentError' })), 'TRB_SCHEMA false');
    assert.equal(classify(Object.assign(new Error('Compatibility does not match'), { name: 'ConfluentSchemaRegistryCompatibilityError' })), 'TRB_SCHEMA false');
    assert.equal(classify(new Error('something unexpected')), 'TRB_CONNECT true');
  });
});
