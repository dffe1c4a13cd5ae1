/**
 * The read API's Prometheus metrics, in their own registry: a serve process exports request
 * counters and Node's process metrics, not the pipeline's (empty) series.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { SERVE_METRIC_DEFINITIONS, SERVE_REQUESTS_TOTAL, SERVE_REQUEST_DURATION_SECONDS } from '../ops/metric-names.js';

export interface ServeMetrics {
  readonly registry: Registry;
  request(collection: string, route: string, code: number, seconds: number): void;
}

export function createServeMetrics(options: { defaultMetrics?: boolean } = {}): ServeMetrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const total = SERVE_METRIC_DEFINITIONS[SERVE_REQUESTS_TOTAL];
  const duration = SERVE_METRIC_DEFINITIONS[SERVE_REQUEST_DURATION_SECONDS];
  const requests = new Counter({ name: SERVE_REQUESTS_TOTAL, help: total.help, labelNames: total.labels, registers: [registry] });
  const seconds = new Histogram({ name: SERVE_REQUEST_DURATION_SECONDS, help: duration.help, labelNames: duration.labels, buckets: [...duration.buckets], registers: [registry] });
  return {
    registry,
    request(collection, route, code, elapsed) {
      requests.inc({ collection, route, code: String(code) });
      seconds.observe({ collection, route }, elapsed);
    },
  };
}
