import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import type { MetricType } from '../sink/samples.js';

/**
 * One row of a check's metadata.csv: the metric contract (SPEC §1). The CSV is the single source of
 * truth: the engine collects exactly these rows, and tests hold emitted samples against the same file.
 */
export interface MetricRow {
  /** Datadog name, e.g. `aws.lambda.duration.p99`. */
  readonly metricName: string;
  readonly type: MetricType;
  readonly unit: string;
  readonly description: string;
  /** CloudWatch metric name; undefined for rows that do not come from CloudWatch (aws.lambda.memorysize). */
  readonly cloudwatchMetric?: string;
  /** CloudWatch statistic as GetMetricData spells it: Average, Sum, Minimum, Maximum, SampleCount, p99, p99.9. */
  readonly statistic?: string;
  /** Dimension scopes the row applies to (`rest+http` → ['rest', 'http']). */
  readonly scopes: readonly string[];
}

const REQUIRED_COLUMNS = [
  'metric_name',
  'metric_type',
  'unit_name',
  'description',
  'cloudwatch_metric',
  'statistic',
  'dimension_scope',
] as const;

const STATISTIC = /^(Average|Sum|Minimum|Maximum|SampleCount|p\d{1,2}(\.\d{1,2})?)$/;

/** Parses metadata.csv text; throws naming the file and line on any malformed row. */
export function parseMetricTable(text: string, file: string): MetricRow[] {
  const records = parse<Record<string, string>>(text, { columns: true, skip_empty_lines: true, trim: true });
  const first = records[0];
  const missing = first ? REQUIRED_COLUMNS.filter((c) => !(c in first)) : [...REQUIRED_COLUMNS];
  if (missing.length > 0) throw new Error(`${file}: missing column(s) ${missing.join(', ')}`);
  return records.map((record, index) => {
    const where = `${file}:${index + 2}`;
    const type = record.metric_type;
    if (type !== 'gauge' && type !== 'count')
      throw new Error(`${where}: metric_type must be gauge or count, found "${type}"`);
    const fromCloudWatch = record.cloudwatch_metric !== '' && !record.cloudwatch_metric!.startsWith('(');
    const statistic = record.statistic || undefined;
    if (fromCloudWatch && (!statistic || !STATISTIC.test(statistic))) {
      throw new Error(`${where}: statistic "${statistic ?? ''}" is not a CloudWatch statistic`);
    }
    return {
      metricName: record.metric_name!,
      type,
      unit: record.unit_name ?? '',
      description: record.description ?? '',
      cloudwatchMetric: fromCloudWatch ? record.cloudwatch_metric : undefined,
      statistic: fromCloudWatch ? statistic : undefined,
      scopes: (record.dimension_scope ?? '').split('+').filter(Boolean),
    };
  });
}

export function loadMetricTable(url: URL): MetricRow[] {
  return parseMetricTable(readFileSync(url, 'utf8'), url.pathname);
}
