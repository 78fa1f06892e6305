import type { AssetDraft } from '../check/asset.js';
import type { AssetSource } from './asset-set.js';
import { dashboard, type GroupSpec } from './dashboard-builder.js';
import { MetricCatalog, type MetricQueries } from './metric-catalog.js';
import { monitor } from './monitor-builder.js';
import { SELF_METRICS } from './self-metrics.js';

const TEMPLATE_VARIABLES = ['check', 'instance', 'env'];
/** GetMetricData's price: $0.01 per 1,000 metrics requested (SPEC §4). */
const USD_PER_METRIC_REQUESTED = 0.01 / 1000;
/** Datadog's intake refuses points older than about an hour (SPEC §1). */
const INTAKE_HORIZON_SECONDS = 3600;
const PER_CHECK = { by: ['check'] };
const PER_INSTANCE = { by: ['check', 'instance'] };

function overview(q: MetricQueries): GroupSpec {
  const value = { kind: 'value', width: 2, height: 2 } as const;
  return {
    title: 'Overview',
    widgets: [
      {
        kind: 'note',
        width: 12,
        height: 1,
        content:
          'The health of **dogwatch** itself: its runs, its AWS calls, how far behind CloudWatch it is, what it ' +
          'costs in GetMetricData and whether the Agent took everything it sent.',
      },
      { ...value, title: 'Runs', queries: { runs: q.sum('dogwatch.check.runs') }, formula: 'runs' },
      {
        ...value,
        title: 'Failed runs',
        queries: { failed: q.sum('dogwatch.check.run_errors') },
        formula: 'failed',
        thresholds: { warning: 0, critical: 5 },
      },
      {
        ...value,
        title: 'Worst watermark lag',
        queries: { lag: q.max('dogwatch.cloudwatch.watermark_lag', { unit: 'second', reducer: 'max' }) },
        formula: 'lag',
        unit: 's',
        thresholds: { warning: 600, critical: 1800 },
      },
      {
        ...value,
        title: 'AWS throttles',
        queries: { throttles: q.sum('dogwatch.aws.throttles') },
        formula: 'throttles',
      },
      {
        ...value,
        title: 'Samples dropped by the sink',
        queries: { dropped: q.sum('dogwatch.sink.dropped') },
        formula: 'dropped',
        thresholds: { warning: 0, critical: 100 },
      },
      {
        ...value,
        title: 'GetMetricData cost',
        queries: { requested: q.sum('dogwatch.cloudwatch.metrics_requested') },
        formula: `requested * ${USD_PER_METRIC_REQUESTED}`,
        unit: '$',
        precision: 2,
      },
    ],
  };
}

function runs(q: MetricQueries): GroupSpec {
  return {
    title: 'Runs',
    widgets: [
      {
        kind: 'timeseries',
        title: 'Runs, failures, timeouts and skipped runs',
        queries: {
          runs: q.sum('dogwatch.check.runs', PER_CHECK),
          failed: q.sum('dogwatch.check.run_errors', PER_CHECK),
          timeouts: q.sum('dogwatch.check.run_timeouts', PER_CHECK),
          skipped: q.sum('dogwatch.check.skipped_runs', PER_CHECK),
        },
        formulas: [
          { formula: 'runs', alias: 'runs', display: 'bars' },
          { formula: 'failed', alias: 'failed', display: 'bars', palette: 'warm' },
          { formula: 'timeouts', alias: 'timed out', display: 'bars', palette: 'purple' },
          { formula: 'skipped', alias: 'skipped (still running)', display: 'bars', palette: 'orange' },
        ],
      },
      {
        kind: 'timeseries',
        title: 'Run duration by instance (s)',
        queries: { duration: q.max('dogwatch.check.run_duration', { ...PER_INSTANCE, unit: 'second' }) },
        formulas: [{ formula: 'duration' }],
      },
      {
        kind: 'timeseries',
        title: 'Samples sent by check',
        queries: { samples: q.sum('dogwatch.check.samples', PER_CHECK) },
        formulas: [{ formula: 'samples', display: 'bars', palette: 'cool' }],
      },
    ],
  };
}

function awsAndCloudWatch(q: MetricQueries): GroupSpec {
  const requested = q.sum('dogwatch.cloudwatch.metrics_requested', PER_CHECK);
  return {
    title: 'AWS calls and CloudWatch',
    widgets: [
      {
        kind: 'timeseries',
        title: 'AWS API calls by operation and outcome',
        queries: { calls: q.sum('dogwatch.aws.api_calls', { by: ['operation', 'outcome'] }) },
        formulas: [{ formula: 'calls', display: 'bars' }],
      },
      {
        kind: 'timeseries',
        title: 'Throttled and retried AWS calls',
        queries: {
          throttles: q.sum('dogwatch.aws.throttles', PER_CHECK),
          retries: q.sum('dogwatch.aws.retries', PER_CHECK),
        },
        formulas: [
          { formula: 'throttles', alias: 'throttled', display: 'bars', palette: 'warm' },
          { formula: 'retries', alias: 'retried', display: 'bars', palette: 'orange' },
        ],
      },
      {
        kind: 'timeseries',
        title: 'Watermark lag by instance (s)',
        queries: { lag: q.max('dogwatch.cloudwatch.watermark_lag', { ...PER_INSTANCE, unit: 'second' }) },
        formulas: [{ formula: 'lag', palette: 'purple' }],
        markers: [
          { value: INTAKE_HORIZON_SECONDS, label: 'Datadog refuses older points', severity: 'error' },
        ],
      },
      {
        kind: 'timeseries',
        title: 'Metrics requested (the CloudWatch bill)',
        queries: { requested },
        formulas: [{ formula: 'requested', display: 'bars' }],
      },
      {
        kind: 'timeseries',
        title: 'GetMetricData cost by check (USD)',
        queries: { requested },
        formulas: [{ formula: `requested * ${USD_PER_METRIC_REQUESTED}`, alias: 'USD', palette: 'grey' }],
      },
      {
        kind: 'timeseries',
        title: 'Datapoints received and queries planned',
        queries: {
          points: q.sum('dogwatch.cloudwatch.datapoints', PER_CHECK),
          queries: q.max('dogwatch.cloudwatch.queries', PER_CHECK),
        },
        formulas: [
          { formula: 'points', alias: 'datapoints', display: 'bars', palette: 'cool' },
          { formula: 'queries', alias: 'queries in the plan' },
        ],
      },
    ],
  };
}

function sink(q: MetricQueries): GroupSpec {
  return {
    title: 'DogStatsD sink',
    widgets: [
      {
        kind: 'timeseries',
        title: 'Datagrams sent',
        queries: { datagrams: q.sum('dogwatch.sink.datagrams') },
        formulas: [{ formula: 'datagrams', display: 'bars' }],
      },
      {
        kind: 'timeseries',
        title: 'Bytes sent',
        queries: { bytes: q.sum('dogwatch.sink.bytes') },
        formulas: [{ formula: 'bytes', display: 'bars', palette: 'cool' }],
      },
      {
        kind: 'timeseries',
        title: 'Send errors and dropped samples',
        queries: { errors: q.sum('dogwatch.sink.send_errors'), dropped: q.sum('dogwatch.sink.dropped') },
        formulas: [
          { formula: 'errors', alias: 'send errors', display: 'bars', palette: 'orange' },
          { formula: 'dropped', alias: 'dropped', display: 'bars', palette: 'warm' },
        ],
      },
    ],
  };
}

function selfMonitors(q: MetricQueries): AssetDraft[] {
  // dogwatch's own metrics are live (sent as they happen, without a CloudWatch timestamp).
  const live = { evaluationDelay: 0, tags: ['service:dogwatch'] };
  const who = '{{check.name}} instance {{instance.name}}';
  return [
    monitor({
      ...live,
      stem: 'check_not_running',
      name: '[dogwatch] dogwatch: {{check.name}} has stopped running',
      reducer: 'sum',
      window: 'last_15m',
      expression: q.sum('dogwatch.check.runs', PER_CHECK).query,
      comparator: '<',
      critical: 1,
      noDataAfterMinutes: 20,
      message:
        'No run of {{check.name}} in 15 minutes (or no data at all): dogwatch is down, cannot reach the Agent, ' +
        'or the check has no instance left. Look at `dogwatch status` and the container logs.',
    }),
    monitor({
      ...live,
      stem: 'check_run_errors',
      name: `[dogwatch] dogwatch: runs of ${who} fail`,
      reducer: 'sum',
      window: 'last_15m',
      expression: q.sum('dogwatch.check.run_errors', PER_INSTANCE).query,
      comparator: '>=',
      critical: 3,
      warning: 1,
      message: `{{value}} runs of ${who} failed in 15 minutes. \`dogwatch status\` shows the last error.`,
    }),
    monitor({
      ...live,
      stem: 'watermark_lag',
      name: `[dogwatch] dogwatch: ${who} falls behind CloudWatch`,
      reducer: 'min',
      window: 'last_15m',
      expression: q.max('dogwatch.cloudwatch.watermark_lag', { ...PER_INSTANCE, unit: 'second' }).query,
      comparator: '>=',
      critical: 1800,
      warning: 900,
      message:
        `The newest point ${who} sent is {{value}} s old. Datadog refuses points older than about an hour: ` +
        'look for failing runs, AWS throttling, or more series than one run can fetch.',
    }),
    monitor({
      ...live,
      stem: 'aws_throttling',
      name: `[dogwatch] dogwatch: AWS throttles ${who}`,
      reducer: 'sum',
      window: 'last_15m',
      expression:
        `${q.sum('dogwatch.aws.throttles', PER_INSTANCE).query} / ` +
        `${q.sum('dogwatch.aws.api_calls', PER_INSTANCE).query} * 100`,
      comparator: '>=',
      critical: 20,
      warning: 5,
      message: `{{value}}% of the AWS calls of ${who} were throttled. Other tools in the account share the quotas.`,
    }),
    monitor({
      ...live,
      stem: 'sink_dropped',
      name: '[dogwatch] dogwatch: samples dropped before the Agent',
      reducer: 'sum',
      window: 'last_15m',
      expression: q.sum('dogwatch.sink.dropped').query,
      comparator: '>',
      critical: 0,
      message:
        'The DogStatsD sink dropped {{value}} samples: the Agent socket was unavailable long enough to fill the ' +
        'queue. The windows they belonged to are fetched again, but check the Agent.',
    }),
  ];
}

/** dogwatch's health dashboard and monitors: for whoever runs dogwatch, whatever it collects. */
export const selfAssetSource: AssetSource = {
  owner: 'dogwatch',
  namespaced: false,
  build: () => {
    const catalog = new MetricCatalog(SELF_METRICS);
    const q = catalog.forDashboard(TEMPLATE_VARIABLES);
    return [
      dashboard({
        stem: 'health',
        title: 'dogwatch health',
        description:
          'Runs, failures, AWS calls and throttling, watermark lag behind CloudWatch, metrics requested (the ' +
          'GetMetricData bill) and the DogStatsD sink, from the `dogwatch.*` self-metrics.',
        templateVariables: TEMPLATE_VARIABLES,
        groups: [overview(q), runs(q), awsAndCloudWatch(q), sink(q)],
      }),
      ...selfMonitors(catalog.forMonitors()),
    ];
  },
};
