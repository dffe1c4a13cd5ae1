import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { createMetrics } from '../../src/ops/metrics.js';
import {
  ASSIGNED_PARTITIONS,
  BATCH_DURATION_SECONDS,
  BATCH_SIZE,
  COMMIT_DURATION_SECONDS,
  CONSUMER_LAG,
  DEAD_LETTERS_TOTAL,
  ERRORS_TOTAL,
  METRIC_DEFINITIONS,
  METRIC_NAMES,
  PAUSED_PARTITIONS,
  RECORDS_IN_TOTAL,
  RECORDS_OUT_TOTAL,
  RETRIES_TOTAL,
  STORE_WRITE_DURATION_SECONDS,
} from '../../src/ops/metric-names.js';

describe('metric names', () => {
  it('are all prefixed, unique and declared with their labels', () => {
    assert.equal(new Set(METRIC_NAMES).size, 17);
    for (const name of METRIC_NAMES) {
      assert.match(name, /^tributary_[a-z_]+$/);
      const labels: readonly string[] = METRIC_DEFINITIONS[name].labels;
      assert.ok(['stream', 'view', 'projection'].some((l) => labels.includes(l)), `${name} names what it measures`);
    }
    assert.deepEqual(METRIC_DEFINITIONS[BATCH_SIZE].buckets, [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000]);
    assert.equal(METRIC_DEFINITIONS[BATCH_DURATION_SECONDS].buckets[0], 0.001);
    assert.equal(METRIC_DEFINITIONS[BATCH_DURATION_SECONDS].buckets.at(-1), 30);
  });
});

describe('Metrics', () => {
  it('moves counters per label set', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.recordsIn('orders', 'cdc.orders', 5);
    metrics.recordsIn('orders', 'cdc.orders');
    metrics.recordsIn('orders', 'cdc.customers', 2);
    metrics.recordsOut('orders', 'orders.view', 3);
    assert.equal(await metrics.value(RECORDS_IN_TOTAL, { stream: 'orders', topic: 'cdc.orders' }), 6);
    assert.equal(await metrics.value(RECORDS_IN_TOTAL, { stream: 'orders' }), 8);
    assert.equal(await metrics.value(RECORDS_IN_TOTAL, { stream: 'other' }), 0);
    assert.equal(await metrics.value(RECORDS_OUT_TOTAL, { topic: 'orders.view' }), 3);
  });

  it('counts errors, dead letters and retries by code and decision', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.error('orders', 'TRB_DECODE', 'dead-letter');
    metrics.error('orders', 'TRB_DECODE', 'dead-letter');
    metrics.error('orders', 'TRB_STORE_WRITE', 'retry');
    metrics.deadLetter('orders', 'orders.dlq', 'TRB_DECODE');
    metrics.retry('orders', 'TRB_STORE_WRITE');
    assert.equal(await metrics.value(ERRORS_TOTAL, { code: 'TRB_DECODE', decision: 'dead-letter' }), 2);
    assert.equal(await metrics.value(ERRORS_TOTAL, { stream: 'orders' }), 3);
    assert.equal(await metrics.value(DEAD_LETTERS_TOTAL, { topic: 'orders.dlq', code: 'TRB_DECODE' }), 1);
    assert.equal(await metrics.value(RETRIES_TOTAL, { code: 'TRB_STORE_WRITE' }), 1);
  });

  it('observes histograms (value is the observation count) and sets gauges', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.batch('orders', 250, 0.12);
    metrics.batch('orders', 10, 0.01);
    metrics.commit('orders', 0.004);
    metrics.storeWrite('orders', 'order_view', 0.02);
    metrics.lag('orders', 'cdc.orders', 0, 42);
    metrics.lag('orders', 'cdc.orders', 1, 8);
    metrics.lag('orders', 'cdc.orders', 0, 40);
    metrics.pausedPartitions('orders', 2);
    metrics.assignedPartitions('orders', 6);
    assert.equal(await metrics.value(BATCH_SIZE, { stream: 'orders' }), 2);
    assert.equal(await metrics.value(BATCH_DURATION_SECONDS), 2);
    assert.equal(await metrics.value(COMMIT_DURATION_SECONDS, { stream: 'orders' }), 1);
    assert.equal(await metrics.value(STORE_WRITE_DURATION_SECONDS, { collection: 'order_view' }), 1);
    assert.equal(await metrics.value(CONSUMER_LAG, { partition: 0 }), 40);
    assert.equal(await metrics.value(CONSUMER_LAG, { topic: 'cdc.orders' }), 48);
    assert.equal(await metrics.value(PAUSED_PARTITIONS, { stream: 'orders' }), 2);
    assert.equal(await metrics.value(ASSIGNED_PARTITIONS, { stream: 'orders' }), 6);

    metrics.clearLag('orders', 'cdc.orders', 1);
    assert.equal(await metrics.value(CONSUMER_LAG, { topic: 'cdc.orders' }), 40);
    assert.doesNotMatch(await metrics.text(), /partition="1"/);
  });

  it('renders Prometheus text with Tributary and default Node metrics', async () => {
    const metrics = createMetrics();
    metrics.recordsIn('orders', 'cdc.orders', 1);
    metrics.batch('orders', 3, 0.05);
    const text = await metrics.text();
    assert.match(metrics.contentType, /^text\/plain/);
    assert.match(text, /# TYPE tributary_records_in_total counter/);
    assert.match(text, /tributary_records_in_total\{stream="orders",topic="cdc.orders"\} 1/);
    assert.match(text, /tributary_batch_size_bucket\{le="1",stream="orders"\} 0\n.*le="10",stream="orders"\} 1/);
    assert.match(text, /tributary_batch_duration_seconds_count\{stream="orders"\} 1/);
    for (const name of METRIC_NAMES) assert.match(text, new RegExp(`# HELP ${name} `));
    // Default metrics keep their stock names so standard Node dashboards work.
    assert.match(text, /^process_cpu_user_seconds_total /m);
    assert.match(text, /^nodejs_eventloop_lag_seconds /m);
    assert.doesNotMatch(text, /tributary_process_/);
  });

  it('leaves default metrics out when asked', async () => {
    const text = await createMetrics({ defaultMetrics: false }).text();
    assert.doesNotMatch(text, /process_cpu_user_seconds_total/);
  });

  it('keeps two instances independent', async () => {
    const a = createMetrics();
    const b = createMetrics();
    a.recordsIn('s', 't', 7);
    assert.notEqual(a.registry, b.registry);
    assert.equal(await a.value(RECORDS_IN_TOTAL), 7);
    assert.equal(await b.value(RECORDS_IN_TOTAL), 0);
  });

  it('shares a registry handed in by reusing its collectors', async () => {
    const registry = new Registry();
    const a = createMetrics({ registry });
    const b = createMetrics({ registry });
    a.recordsIn('one', 't', 1);
    b.recordsIn('two', 't', 2);
    assert.equal(await a.value(RECORDS_IN_TOTAL), 3);
    assert.equal(await b.value(RECORDS_IN_TOTAL, { stream: 'two' }), 2);
    assert.match(await registry.metrics(), /process_cpu_user_seconds_total/);
  });

  it('reset zeroes everything', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.recordsOut('s', 't', 4);
    metrics.reset();
    assert.equal(await metrics.value(RECORDS_OUT_TOTAL), 0);
  });
});
