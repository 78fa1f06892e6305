import type { AssetDraft } from '../../core/check/asset.js';
import type { MetricQueries } from '../../core/assets/metric-catalog.js';
import { CLOUDWATCH_EVALUATION_DELAY, monitor } from '../../core/assets/monitor-builder.js';

/**
 * Recommended monitors for AWS Lambda, after Datadog's recommended serverless monitors (high error rate,
 * throttles, timeouts, iterator age) plus the failures that lose events. Each alerts per function.
 */
const MONITOR_GROUPS = ['aws_account', 'region', 'functionname'];
const A_DAY_MS = 86_400_000;
const AN_HOUR_MS = 3_600_000;

export function lambdaMonitors(q: MetricQueries): AssetDraft[] {
  const by = { by: MONITOR_GROUPS };
  const invocations = q.sum('aws.lambda.invocations', by).query;
  const errors = q.sum('aws.lambda.errors', by).query;
  const throttles = q.sum('aws.lambda.throttles', by).query;
  const who = '{{functionname.name}} ({{region.name}}, account {{aws_account.name}})';
  const common = { evaluationDelay: CLOUDWATCH_EVALUATION_DELAY, tags: ['integration:amazon_lambda'] };
  return [
    monitor({
      ...common,
      stem: 'high_error_rate',
      name: `[dogwatch] AWS Lambda: high error rate on ${who}`,
      reducer: 'sum',
      window: 'last_15m',
      expression: `${errors} / ${invocations} * 100`,
      comparator: '>=',
      critical: 10,
      warning: 5,
      message:
        `{{#is_alert}}More than {{threshold}}% of the invocations of ${who} failed in the last 15 minutes.{{/is_alert}}\n` +
        `{{#is_warning}}{{warn_threshold}}% or more of the invocations of ${who} failed.{{/is_warning}}\n` +
        'Look at the function’s logs and at recent deployments.',
    }),
    monitor({
      ...common,
      stem: 'high_throttles',
      name: `[dogwatch] AWS Lambda: requests throttled on ${who}`,
      reducer: 'sum',
      window: 'last_15m',
      // Throttled requests are not invocations: the share is of all requests, so it stays defined
      // when every request is throttled.
      expression: `${throttles} / (${invocations} + ${throttles}) * 100`,
      comparator: '>=',
      critical: 20,
      warning: 5,
      message:
        `{{value}}% of the requests to ${who} were throttled in the last 15 minutes. ` +
        'Check the function’s reserved concurrency and the account’s concurrency (dashboard: Concurrency).',
    }),
    ...asyncMonitors(q, who, common),
  ];
}

function asyncMonitors(
  q: MetricQueries,
  who: string,
  common: { evaluationDelay: number; tags: string[] },
): AssetDraft[] {
  const by = { by: MONITOR_GROUPS };
  const failures = (stem: string, metric: string, what: string): AssetDraft =>
    monitor({
      ...common,
      stem,
      name: `[dogwatch] AWS Lambda: ${what} on ${who}`,
      reducer: 'sum',
      window: 'last_15m',
      expression: q.sum(metric, by).query,
      comparator: '>',
      critical: 0,
      message: `${who}: {{value}} ${what} in the last 15 minutes. These events were not delivered.`,
    });
  return [
    monitor({
      ...common,
      stem: 'timeout',
      name: `[dogwatch] AWS Lambda: ${who} runs close to its timeout`,
      reducer: 'max',
      window: 'last_15m',
      expression:
        `${q.max('aws.lambda.duration.maximum', { ...by, unit: 'millisecond' }).query} / ` +
        `(${q.max('aws.lambda.timeout', { ...by, unit: 'second' }).query} * 1000) * 100`,
      comparator: '>=',
      critical: 95,
      warning: 80,
      message:
        `The longest invocation of ${who} reached {{value}}% of the function’s timeout. ` +
        'At 100% invocations are cut off: raise the timeout or find what is slow.',
    }),
    monitor({
      ...common,
      stem: 'high_iterator_age',
      name: `[dogwatch] AWS Lambda: stream processing falls behind on ${who}`,
      reducer: 'max',
      window: 'last_15m',
      expression: q.max('aws.lambda.iterator_age.maximum', { ...by, unit: 'millisecond' }).query,
      comparator: '>=',
      critical: A_DAY_MS,
      warning: AN_HOUR_MS,
      message:
        `${who} reads records {{value}} ms old from its stream. Records older than the stream’s retention ` +
        '(24 hours by default) are lost: add concurrency (parallelization factor, shards) or fix slow batches.',
    }),
    failures('dead_letter_errors', 'aws.lambda.dead_letter_errors', 'dead-letter queue errors'),
    failures(
      'destination_delivery_failures',
      'aws.lambda.destination_delivery_failures',
      'destination failures',
    ),
    failures('async_events_dropped', 'aws.lambda.async_events_dropped', 'asynchronous events dropped'),
  ];
}
