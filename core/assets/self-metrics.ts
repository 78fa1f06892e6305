import type { CatalogMetric } from './metric-catalog.js';

const PER_INSTANCE = ['check', 'instance'];
const count = (name: string, unit: string, tags: readonly string[] = PER_INSTANCE): CatalogMetric => ({
  name: `dogwatch.${name}`,
  type: 'count',
  unit,
  tags,
});
const gauge = (name: string, unit: string, tags: readonly string[] = PER_INSTANCE): CatalogMetric => ({
  name: `dogwatch.${name}`,
  type: 'gauge',
  unit,
  tags,
});

/**
 * dogwatch's own metrics as the README lists them, with the tags SelfTelemetry and the CloudWatch
 * engine send them with (check and instance; the sink's counters carry only the global tags).
 */
export const SELF_METRICS: readonly CatalogMetric[] = [
  count('check.runs', 'run'),
  gauge('check.run_duration', 'second'),
  count('check.run_errors', 'run'),
  count('check.run_timeouts', 'run'),
  count('check.skipped_runs', 'run'),
  count('check.samples', 'sample'),
  count('aws.api_calls', 'request', [...PER_INSTANCE, 'operation', 'outcome']),
  count('aws.throttles', 'request'),
  count('aws.retries', 'request'),
  count('cloudwatch.metrics_requested', 'metric'),
  count('cloudwatch.datapoints', 'point'),
  gauge('cloudwatch.queries', 'query'),
  gauge('cloudwatch.watermark_lag', 'second'),
  count('cloudtrail.events', 'event', [...PER_INSTANCE, 'region', 'event_source']),
  gauge('cloudtrail.cursor_lag', 'second', [...PER_INSTANCE, 'region', 'event_source']),
  count('sink.datagrams', 'datagram', []),
  count('sink.bytes', 'byte', []),
  count('sink.send_errors', 'error', []),
  count('sink.dropped', 'sample', []),
];
