import type { AssetDraft } from '../../core/check/asset.js';
import { dashboard, type GroupSpec } from '../../core/assets/dashboard-builder.js';
import type { MetricCatalog, MetricQueries } from '../../core/assets/metric-catalog.js';
import { lambdaMonitors } from './monitors.js';

/** Tags of each dimension scope's series (lambdaIntegration's scope rules and seriesTags). */
export const LAMBDA_SCOPE_TAGS: Readonly<Record<string, readonly string[]>> = {
  function: [
    'functionname',
    'resource',
    'region',
    'aws_account',
    'runtime',
    'memorysize',
    'architecture',
    'at_edge',
    'edge_master_name',
    'edge_master_arn',
  ],
  account: ['region', 'aws_account'],
  // aws.lambda.enhanced.* (enhanced_metrics): per function, minute and invocation kind (see lambda-enhanced-metrics.ts).
  enhanced: [
    'functionname',
    'resource',
    'region',
    'aws_account',
    'memorysize',
    'cold_start',
    'executedversion',
    'runtime',
    'architecture',
    'at_edge',
    'edge_master_name',
    'edge_master_arn',
  ],
  event_source_mapping: ['eventsourcemappinguuid', 'region', 'aws_account'],
};

const TEMPLATE_VARIABLES = ['region', 'aws_account', 'functionname', 'env'];
const PER_FUNCTION = ['functionname'];
/**
 * Deployment events (collect_deployment_events) drawn over the graphs where a deployment explains a
 * change: the source type dogwatch sends them with, narrowed by the dashboard's template variables.
 */
const DEPLOYMENTS = 'source:amazon_lambda $functionname $region';
/** AWS's default concurrent-executions quota per account and region. */
const DEFAULT_ACCOUNT_CONCURRENCY = 1000;

function overview(q: MetricQueries): GroupSpec {
  const invocations = q.sum('aws.lambda.invocations');
  const errors = q.sum('aws.lambda.errors');
  const value = { kind: 'value', width: 2, height: 2 } as const;
  return {
    title: 'Overview',
    widgets: [
      {
        kind: 'note',
        width: 12,
        height: 1,
        content:
          'AWS Lambda metrics sent by **dogwatch** from CloudWatch, 2–3 minutes after the minute they describe. ' +
          'Counts are read with `.as_count()`. Narrow with the `functionname`, `region`, `aws_account` and `env` variables.',
      },
      {
        ...value,
        title: 'Invocations',
        queries: { invocations },
        formula: 'invocations',
      },
      { ...value, title: 'Errors', queries: { errors }, formula: 'errors' },
      {
        ...value,
        title: 'Error rate',
        queries: { errors, invocations },
        formula: 'errors / invocations * 100',
        unit: '%',
        precision: 2,
        thresholds: { warning: 1, critical: 10 },
      },
      {
        ...value,
        title: 'Throttles',
        queries: { throttles: q.sum('aws.lambda.throttles') },
        formula: 'throttles',
      },
      {
        ...value,
        title: 'Slowest p99 duration',
        queries: { p99: q.max('aws.lambda.duration.p99', { reducer: 'max' }) },
        formula: 'p99',
        unit: 'ms',
      },
      {
        ...value,
        title: 'Peak account concurrency',
        queries: { peak: q.max('aws.lambda.concurrent_executions_global.maximum', { reducer: 'max' }) },
        formula: 'peak',
      },
    ],
  };
}

function invocationsAndErrors(q: MetricQueries): GroupSpec {
  const by = { by: PER_FUNCTION };
  const invocations = q.sum('aws.lambda.invocations', by);
  const errors = q.sum('aws.lambda.errors', by);
  const throttles = q.sum('aws.lambda.throttles', by);
  return {
    title: 'Invocations and errors',
    widgets: [
      {
        kind: 'timeseries',
        title: 'Invocations by function',
        eventOverlay: DEPLOYMENTS,
        queries: { invocations },
        formulas: [{ formula: 'invocations', display: 'bars' }],
      },
      {
        kind: 'timeseries',
        title: 'Errors by function',
        eventOverlay: DEPLOYMENTS,
        queries: { errors },
        formulas: [{ formula: 'errors', display: 'bars', palette: 'warm' }],
      },
      {
        kind: 'timeseries',
        title: 'Error rate by function (%)',
        queries: { errors, invocations },
        formulas: [{ formula: 'errors / invocations * 100', alias: 'error rate %', palette: 'warm' }],
        markers: [
          { value: 10, label: 'high error rate', severity: 'error' },
          { value: 1, label: 'errors', severity: 'warning' },
        ],
      },
      {
        kind: 'timeseries',
        title: 'Throttles by function',
        queries: { throttles },
        formulas: [{ formula: 'throttles', display: 'bars', palette: 'orange' }],
      },
      { kind: 'toplist', title: 'Most errors', queries: { errors }, formula: 'errors' },
      {
        kind: 'toplist',
        title: 'Highest error rate (%)',
        queries: { errors, invocations },
        formula: 'errors / invocations * 100',
      },
      {
        kind: 'table',
        title: 'Functions',
        height: 4,
        queries: {
          invocations,
          errors,
          throttles,
          p99: q.max('aws.lambda.duration.p99', { ...by, reducer: 'max' }),
          timeout: q.max('aws.lambda.timeout', { ...by, unit: 'second', reducer: 'max' }),
        },
        columns: [
          { formula: 'invocations', alias: 'invocations' },
          { formula: 'errors', alias: 'errors' },
          { formula: 'errors / invocations * 100', alias: 'error rate %' },
          { formula: 'throttles', alias: 'throttles' },
          { formula: 'p99', alias: 'p99 duration (ms)' },
          { formula: 'timeout * 1000', alias: 'timeout (ms)' },
        ],
      },
    ],
  };
}

function durationAgainstTimeout(q: MetricQueries): GroupSpec {
  const by = { by: PER_FUNCTION };
  // The timeout is configured in seconds (ListFunctions), durations are milliseconds (CloudWatch).
  const timeout = q.max('aws.lambda.timeout', { ...by, unit: 'second', reducer: 'max' });
  return {
    title: 'Duration against the timeout',
    widgets: [
      {
        kind: 'timeseries',
        title: 'Duration p50 and p99 against the timeout (ms)',
        eventOverlay: DEPLOYMENTS,
        queries: {
          p50: q.avg('aws.lambda.duration.p50', { ...by, unit: 'millisecond' }),
          p99: q.max('aws.lambda.duration.p99', { ...by, unit: 'millisecond' }),
          timeout,
        },
        formulas: [
          { formula: 'p50', alias: 'p50' },
          { formula: 'p99', alias: 'p99', palette: 'warm' },
          { formula: 'timeout * 1000', alias: 'timeout', palette: 'grey' },
        ],
      },
      {
        kind: 'toplist',
        title: 'Closest to their timeout (longest run, % of timeout)',
        queries: {
          longest: q.max('aws.lambda.duration.maximum', { ...by, unit: 'millisecond', reducer: 'max' }),
          timeout,
        },
        formula: 'longest / (timeout * 1000) * 100',
      },
      {
        kind: 'timeseries',
        title: 'Duration percentiles, selected functions (ms)',
        queries: {
          p50: q.avg('aws.lambda.duration.p50'),
          p95: q.max('aws.lambda.duration.p95'),
          p99: q.max('aws.lambda.duration.p99'),
          p999: q.max('aws.lambda.duration.p99.9'),
        },
        formulas: [
          { formula: 'p50', alias: 'p50' },
          { formula: 'p95', alias: 'p95' },
          { formula: 'p99', alias: 'p99', palette: 'warm' },
          { formula: 'p999', alias: 'p99.9', palette: 'warm' },
        ],
      },
    ],
  };
}

function concurrency(q: MetricQueries): GroupSpec {
  const account = { by: ['aws_account', 'region'] };
  return {
    title: 'Concurrency',
    widgets: [
      {
        kind: 'timeseries',
        title: 'Account concurrency against the quota',
        queries: {
          peak: q.max('aws.lambda.concurrent_executions_global.maximum', account),
          claimed: q.max('aws.lambda.claimed_account_concurrency', account),
          unreserved: q.max('aws.lambda.unreserved_concurrent_executions', account),
        },
        formulas: [
          { formula: 'peak', alias: 'concurrent executions (max)' },
          { formula: 'claimed', alias: 'claimed (reserved + provisioned + used)', palette: 'warm' },
          { formula: 'unreserved', alias: 'unreserved in use', palette: 'cool' },
        ],
        markers: [
          {
            value: DEFAULT_ACCOUNT_CONCURRENCY,
            label: 'default quota: edit to your account quota',
            severity: 'warning',
          },
        ],
      },
      {
        kind: 'timeseries',
        title: 'Concurrency by function (max)',
        queries: { concurrency: q.max('aws.lambda.concurrent_executions.maximum', { by: PER_FUNCTION }) },
        formulas: [{ formula: 'concurrency' }],
      },
      {
        kind: 'timeseries',
        title: 'Provisioned concurrency spillover invocations',
        queries: {
          spillover: q.sum('aws.lambda.provisioned_concurrency_spillover_invocations', { by: PER_FUNCTION }),
        },
        formulas: [{ formula: 'spillover', display: 'bars', palette: 'orange' }],
      },
    ],
  };
}

function asyncAndStreams(q: MetricQueries): GroupSpec {
  const by = { by: PER_FUNCTION };
  return {
    title: 'Asynchronous and stream invocations',
    widgets: [
      {
        kind: 'timeseries',
        title: 'Stream iterator age (max, ms)',
        queries: { age: q.max('aws.lambda.iterator_age.maximum', by) },
        formulas: [{ formula: 'age', palette: 'purple' }],
      },
      {
        kind: 'timeseries',
        title: 'Asynchronous event age (max, ms)',
        queries: { age: q.max('aws.lambda.async_event_age.maximum', by) },
        formulas: [{ formula: 'age', palette: 'purple' }],
      },
      {
        kind: 'timeseries',
        title: 'Asynchronous events received and dropped',
        queries: {
          received: q.sum('aws.lambda.async_events_received'),
          dropped: q.sum('aws.lambda.async_events_dropped'),
        },
        formulas: [
          { formula: 'received', alias: 'received', display: 'bars' },
          { formula: 'dropped', alias: 'dropped', display: 'bars', palette: 'warm' },
        ],
      },
      {
        kind: 'timeseries',
        title: 'Dead-letter and destination delivery failures',
        queries: {
          deadLetter: q.sum('aws.lambda.dead_letter_errors', by),
          destination: q.sum('aws.lambda.destination_delivery_failures', by),
        },
        formulas: [
          { formula: 'deadLetter', alias: 'dead-letter errors', display: 'bars', palette: 'warm' },
          { formula: 'destination', alias: 'destination failures', display: 'bars', palette: 'orange' },
        ],
      },
      {
        kind: 'timeseries',
        title: 'Recursive loops stopped',
        queries: { dropped: q.sum('aws.lambda.recursive_invocations_dropped', by) },
        formulas: [{ formula: 'dropped', display: 'bars', palette: 'warm' }],
      },
    ],
  };
}

function lambdaAtEdge(q: MetricQueries): GroupSpec {
  // Replicas run where their viewers are; their series are tagged to the us-east-1 master (SPEC §3).
  const edge = { filter: ['at_edge:true'], by: ['edge_master_name', 'region'] };
  return {
    title: 'Lambda@Edge replicas by region',
    widgets: [
      {
        kind: 'timeseries',
        title: 'Edge invocations by region',
        queries: { invocations: q.sum('aws.lambda.invocations', edge) },
        formulas: [{ formula: 'invocations', display: 'bars' }],
      },
      {
        kind: 'timeseries',
        title: 'Edge errors by region',
        queries: { errors: q.sum('aws.lambda.errors', edge) },
        formulas: [{ formula: 'errors', display: 'bars', palette: 'warm' }],
      },
      {
        kind: 'timeseries',
        title: 'Edge duration p99 by region (ms)',
        queries: { p99: q.max('aws.lambda.duration.p99', edge) },
        formulas: [{ formula: 'p99' }],
      },
    ],
  };
}

function functionUrls(q: MetricQueries): GroupSpec {
  const by = { by: PER_FUNCTION };
  return {
    title: 'Function URLs',
    widgets: [
      {
        kind: 'timeseries',
        title: 'Function URL requests',
        queries: { requests: q.sum('aws.lambda.url_request_count', by) },
        formulas: [{ formula: 'requests', display: 'bars' }],
      },
      {
        kind: 'timeseries',
        title: 'Function URL 4xx and 5xx',
        queries: { c4xx: q.sum('aws.lambda.url_4xx_count'), c5xx: q.sum('aws.lambda.url_5xx_count') },
        formulas: [
          { formula: 'c4xx', alias: '4xx', display: 'bars', palette: 'orange' },
          { formula: 'c5xx', alias: '5xx', display: 'bars', palette: 'warm' },
        ],
      },
      {
        kind: 'timeseries',
        title: 'Function URL latency (max, ms)',
        queries: { latency: q.max('aws.lambda.url_request_latency.maximum', by) },
        formulas: [{ formula: 'latency' }],
      },
    ],
  };
}

/**
 * Cold starts and cost come from the enhanced metrics (`aws.lambda.enhanced.*`, derived from the
 * functions' REPORT log lines). The group appears once those rows are in metadata.csv (and their
 * scope's tags, `cold_start` among them, in LAMBDA_SCOPE_TAGS).
 */
export function coldStartsAndCost(catalog: MetricCatalog, q: MetricQueries): GroupSpec | undefined {
  const needed = ['aws.lambda.enhanced.invocations', 'aws.lambda.enhanced.estimated_cost'];
  if (!needed.every((name) => catalog.has(name))) return undefined;
  const by = { by: PER_FUNCTION };
  return {
    title: 'Cold starts and cost',
    widgets: [
      {
        kind: 'timeseries',
        title: 'Cold start rate by function (%)',
        queries: {
          cold: q.sum('aws.lambda.enhanced.invocations', { ...by, filter: ['cold_start:true'] }),
          all: q.sum('aws.lambda.enhanced.invocations', by),
        },
        formulas: [{ formula: 'cold / all * 100', alias: 'cold starts %', palette: 'cool' }],
      },
      {
        kind: 'timeseries',
        title: 'Estimated cost by function (USD)',
        queries: { cost: q.sum('aws.lambda.enhanced.estimated_cost', by) },
        formulas: [{ formula: 'cost', display: 'bars' }],
      },
    ],
  };
}

/** The AWS Lambda dashboard and recommended monitors, for one namespace's metric names. */
export function lambdaAssets(catalog: MetricCatalog): AssetDraft[] {
  const q = catalog.forDashboard(TEMPLATE_VARIABLES);
  return [
    dashboard({
      stem: 'overview',
      title: 'AWS Lambda (dogwatch)',
      description:
        'Invocations, errors, throttles, duration against the timeout, concurrency, asynchronous and stream ' +
        'processing, Lambda@Edge replicas and function URLs, from the CloudWatch metrics dogwatch sends.',
      templateVariables: TEMPLATE_VARIABLES,
      groups: [
        overview(q),
        invocationsAndErrors(q),
        durationAgainstTimeout(q),
        concurrency(q),
        asyncAndStreams(q),
        coldStartsAndCost(catalog, q),
        lambdaAtEdge(q),
        functionUrls(q),
      ],
    }),
    ...lambdaMonitors(catalog.forMonitors()),
  ];
}
