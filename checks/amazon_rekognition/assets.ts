import type { AssetDraft } from '../../core/check/asset.js';
import { dashboard, type GroupSpec } from '../../core/assets/dashboard-builder.js';
import type { MetricCatalog, MetricQueries } from '../../core/assets/metric-catalog.js';
import { CLOUDWATCH_EVALUATION_DELAY, monitor } from '../../core/assets/monitor-builder.js';

/** Rekognition publishes per Operation only (rekognitionIntegration's one scope). */
export const REKOGNITION_SCOPE_TAGS: Readonly<Record<string, readonly string[]>> = {
  operation: ['operation', 'region', 'aws_account'],
};

const TEMPLATE_VARIABLES = ['region', 'aws_account', 'operation', 'env'];
const PER_OPERATION = { by: ['operation'] };

function overview(q: MetricQueries): GroupSpec {
  const value = { kind: 'value', width: 2, height: 2 } as const;
  const sum = (title: string, metric: string) =>
    ({ ...value, title, queries: { requests: q.sum(metric) }, formula: 'requests' }) as const;
  return {
    title: 'Overview',
    widgets: [
      {
        kind: 'note',
        width: 12,
        height: 1,
        content:
          'Amazon Rekognition metrics sent by **dogwatch**, per operation (`DetectLabels`, `IndexFaces` …). ' +
          'Counts use `.as_count()`; response time is in milliseconds.',
      },
      sum('Successful requests', 'aws.rekognition.successful_request_count.sum'),
      sum('Throttled requests', 'aws.rekognition.throttled_count.sum'),
      sum('Server errors', 'aws.rekognition.server_error_count.sum'),
      sum('User errors', 'aws.rekognition.user_error_count.sum'),
      {
        ...value,
        title: 'Average response time',
        queries: { time: q.avg('aws.rekognition.response_time', { unit: 'millisecond' }) },
        formula: 'time',
        unit: 'ms',
      },
      sum('Labels detected', 'aws.rekognition.deteceted_label_count.sum'),
    ],
  };
}

function perOperation(q: MetricQueries): GroupSpec {
  const bars = (title: string, metric: string, palette: 'dog_classic' | 'warm' | 'orange') =>
    ({
      kind: 'timeseries',
      title,
      queries: { requests: q.sum(metric, PER_OPERATION) },
      formulas: [{ formula: 'requests', display: 'bars', palette }],
    }) as const;
  return {
    title: 'Requests by operation',
    widgets: [
      bars('Successful requests by operation', 'aws.rekognition.successful_request_count.sum', 'dog_classic'),
      bars('Throttled requests by operation', 'aws.rekognition.throttled_count.sum', 'orange'),
      {
        kind: 'timeseries',
        title: 'Server and user errors by operation',
        queries: {
          server: q.sum('aws.rekognition.server_error_count.sum', PER_OPERATION),
          user: q.sum('aws.rekognition.user_error_count.sum', PER_OPERATION),
        },
        formulas: [
          { formula: 'server', alias: 'server errors', display: 'bars', palette: 'warm' },
          { formula: 'user', alias: 'user errors', display: 'bars', palette: 'orange' },
        ],
      },
    ],
  };
}

function responseTimeAndDetections(q: MetricQueries): GroupSpec {
  return {
    title: 'Response time and detections',
    widgets: [
      {
        kind: 'timeseries',
        title: 'Response time by operation (ms)',
        queries: { time: q.avg('aws.rekognition.response_time', { ...PER_OPERATION, unit: 'millisecond' }) },
        formulas: [{ formula: 'time' }],
      },
      {
        kind: 'timeseries',
        title: 'Labels detected by operation',
        queries: { labels: q.sum('aws.rekognition.deteceted_label_count.sum', PER_OPERATION) },
        formulas: [{ formula: 'labels', display: 'bars', palette: 'cool' }],
      },
      {
        kind: 'timeseries',
        title: 'Faces detected by operation',
        queries: { faces: q.sum('aws.rekognition.detected_face_count.sum', PER_OPERATION) },
        formulas: [{ formula: 'faces', display: 'bars', palette: 'purple' }],
      },
    ],
  };
}

function rekognitionMonitors(q: MetricQueries): AssetDraft[] {
  const by = { by: ['aws_account', 'region', 'operation'] };
  const successful = q.sum('aws.rekognition.successful_request_count.sum', by).query;
  const who = '{{operation.name}} ({{region.name}}, account {{aws_account.name}})';
  const share = (stem: string, metric: string, what: string, advice: string): AssetDraft => {
    const failed = q.sum(metric, by).query;
    return monitor({
      stem,
      name: `[dogwatch] Amazon Rekognition: requests ${what} on ${who}`,
      reducer: 'sum',
      window: 'last_15m',
      expression: `${failed} / (${successful} + ${failed}) * 100`,
      comparator: '>=',
      critical: 10,
      warning: 1,
      evaluationDelay: CLOUDWATCH_EVALUATION_DELAY,
      tags: ['integration:amazon_rekognition'],
      message: `{{value}}% of the ${who} requests were ${what} in the last 15 minutes. ${advice}`,
    });
  };
  return [
    share(
      'throttled_requests',
      'aws.rekognition.throttled_count.sum',
      'throttled',
      'The account’s transactions-per-second quota for the operation is reached: retry with backoff or ask for more.',
    ),
    share(
      'server_errors',
      'aws.rekognition.server_error_count.sum',
      'failed with a server error',
      'Rekognition failed on its side: check the AWS Health Dashboard for the region.',
    ),
  ];
}

/** The Amazon Rekognition dashboard and recommended monitors, for one namespace's metric names. */
export function rekognitionAssets(catalog: MetricCatalog): AssetDraft[] {
  const q = catalog.forDashboard(TEMPLATE_VARIABLES);
  return [
    dashboard({
      stem: 'overview',
      title: 'Amazon Rekognition (dogwatch)',
      description:
        'Successful, throttled and failed requests per operation, response time, and labels and faces detected.',
      templateVariables: TEMPLATE_VARIABLES,
      groups: [overview(q), perOperation(q), responseTimeAndDetections(q)],
    }),
    ...rekognitionMonitors(catalog.forMonitors()),
  ];
}
