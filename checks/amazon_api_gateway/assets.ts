import type { AssetDraft } from '../../core/check/asset.js';
import { dashboard, type GroupSpec, type WidgetSpec } from '../../core/assets/dashboard-builder.js';
import type { CatalogMetric, MetricCatalog, MetricQueries } from '../../core/assets/metric-catalog.js';
import { CLOUDWATCH_EVALUATION_DELAY, monitor } from '../../core/assets/monitor-builder.js';

/**
 * Tags of each dimension scope's series: REST series are named by ApiName, HTTP and WebSocket ones by
 * ApiId, and the check adds the other (apiGatewayIntegration.seriesTags). `resource`, `method` and
 * `route` are left out: only detailed series carry them.
 */
const API = ['apiname', 'apiid', 'stage', 'region', 'aws_account'];
export const API_GATEWAY_SCOPE_TAGS: Readonly<Record<string, readonly string[]>> = {
  rest: API,
  http: API,
  websocket: API,
};

/**
 * The check's own coverage gauge, sent as a dogwatch self-metric (never namespaced) by inspectPoints:
 * the share of a stage's requests its detailed series account for.
 */
export const DETAILED_COVERAGE: CatalogMetric = {
  name: 'dogwatch.apigateway.detailed_coverage',
  type: 'gauge',
  unit: 'fraction',
  tags: ['apiname', 'stage', 'region', 'check', 'instance'],
};

const TEMPLATE_VARIABLES = ['region', 'aws_account', 'apiname', 'stage', 'env'];
const PER_API = ['apiname', 'apiid'];

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
          'Amazon API Gateway metrics sent by **dogwatch**. REST APIs report `4xxerror`/`5xxerror`, HTTP APIs ' +
          '`4xx`/`5xx`, WebSocket APIs message counts: each has its own column below. Counts use `.as_count()`.',
      },
      {
        ...value,
        title: 'Requests (REST and HTTP)',
        queries: { requests: q.sum('aws.apigateway.count') },
        formula: 'requests',
      },
      {
        ...value,
        title: 'REST 5xx',
        queries: { errors: q.sum('aws.apigateway.5xxerror') },
        formula: 'errors',
      },
      { ...value, title: 'HTTP 5xx', queries: { errors: q.sum('aws.apigateway.5xx') }, formula: 'errors' },
      {
        ...value,
        title: 'WebSocket messages',
        queries: { messages: q.sum('aws.apigateway.message_count.sum') },
        formula: 'messages',
      },
      {
        ...value,
        title: 'Slowest p99 latency',
        queries: { p99: q.max('aws.apigateway.latency.p99', { reducer: 'max' }) },
        formula: 'p99',
        unit: 'ms',
      },
      {
        ...value,
        title: 'Lowest detailed-metrics coverage',
        queries: { coverage: q.min(DETAILED_COVERAGE.name, { reducer: 'min', unit: 'fraction' }) },
        formula: 'coverage * 100',
        unit: '%',
        precision: 1,
      },
    ],
  };
}

/**
 * Three columns, each API type with its own metric names. Rates are grouped by API: `count` is shared
 * by REST and HTTP APIs, and only a REST API has a `5xxerror` to divide by its count (and so on).
 */
function protocolColumns(q: MetricQueries): WidgetSpec[] {
  const by = { by: PER_API };
  const requests = q.sum('aws.apigateway.count', by);
  return [
    {
      kind: 'timeseries',
      title: 'REST: 4xx and 5xx',
      queries: { c4xx: q.sum('aws.apigateway.4xxerror', by), c5xx: q.sum('aws.apigateway.5xxerror', by) },
      formulas: [
        { formula: 'c4xx', alias: '4xx', display: 'bars', palette: 'orange' },
        { formula: 'c5xx', alias: '5xx', display: 'bars', palette: 'warm' },
      ],
    },
    {
      kind: 'timeseries',
      title: 'HTTP: 4xx and 5xx',
      queries: { c4xx: q.sum('aws.apigateway.4xx', by), c5xx: q.sum('aws.apigateway.5xx', by) },
      formulas: [
        { formula: 'c4xx', alias: '4xx', display: 'bars', palette: 'orange' },
        { formula: 'c5xx', alias: '5xx', display: 'bars', palette: 'warm' },
      ],
    },
    {
      kind: 'timeseries',
      title: 'WebSocket: messages and connections',
      queries: {
        messages: q.sum('aws.apigateway.message_count.sum', by),
        connects: q.sum('aws.apigateway.connect_count.sum', by),
      },
      formulas: [
        { formula: 'messages', alias: 'messages', display: 'bars' },
        { formula: 'connects', alias: 'connections', display: 'bars', palette: 'cool' },
      ],
    },
    {
      kind: 'timeseries',
      title: 'REST: error rates (%)',
      queries: {
        c4xx: q.sum('aws.apigateway.4xxerror', by),
        c5xx: q.sum('aws.apigateway.5xxerror', by),
        requests,
      },
      formulas: [
        { formula: 'c4xx / requests * 100', alias: '4xx %', palette: 'orange' },
        { formula: 'c5xx / requests * 100', alias: '5xx %', palette: 'warm' },
      ],
    },
    {
      kind: 'timeseries',
      title: 'HTTP: error rates (%)',
      queries: { c4xx: q.sum('aws.apigateway.4xx', by), c5xx: q.sum('aws.apigateway.5xx', by), requests },
      formulas: [
        { formula: 'c4xx / requests * 100', alias: '4xx %', palette: 'orange' },
        { formula: 'c5xx / requests * 100', alias: '5xx %', palette: 'warm' },
      ],
    },
    {
      kind: 'timeseries',
      title: 'WebSocket: errors',
      queries: {
        client: q.sum('aws.apigateway.client_error.sum', by),
        integration: q.sum('aws.apigateway.integration_error.sum', by),
        execution: q.sum('aws.apigateway.execution_error.sum', by),
      },
      formulas: [
        { formula: 'client', alias: 'client errors', display: 'bars', palette: 'orange' },
        { formula: 'integration', alias: 'integration errors', display: 'bars', palette: 'warm' },
        { formula: 'execution', alias: 'execution errors', display: 'bars', palette: 'purple' },
      ],
    },
  ];
}

function sideBySide(q: MetricQueries): GroupSpec {
  const requests = q.sum('aws.apigateway.count', { by: PER_API });
  return {
    title: 'REST | HTTP | WebSocket',
    widgets: [
      ...protocolColumns(q),
      {
        kind: 'timeseries',
        title: 'Requests by API (REST and HTTP)',
        width: 8,
        queries: { requests },
        formulas: [{ formula: 'requests', display: 'bars' }],
      },
      { kind: 'toplist', title: 'Busiest APIs', queries: { requests }, formula: 'requests' },
    ],
  };
}

function latency(q: MetricQueries): GroupSpec {
  const ms = { unit: 'millisecond' };
  return {
    title: 'Latency against integration latency',
    widgets: [
      {
        kind: 'timeseries',
        title: 'Latency percentiles and integration latency (ms)',
        queries: {
          p50: q.avg('aws.apigateway.latency.p50', ms),
          p90: q.max('aws.apigateway.latency.p90', ms),
          p99: q.max('aws.apigateway.latency.p99', ms),
          backend: q.max('aws.apigateway.integration_latency.p99', ms),
        },
        formulas: [
          { formula: 'p50', alias: 'latency p50' },
          { formula: 'p90', alias: 'latency p90' },
          { formula: 'p99', alias: 'latency p99', palette: 'warm' },
          { formula: 'backend', alias: 'integration latency p99', palette: 'grey' },
        ],
      },
      {
        kind: 'timeseries',
        title: 'Latency p99 by API (ms)',
        queries: { p99: q.max('aws.apigateway.latency.p99', { ...ms, by: [...PER_API, 'stage'] }) },
        formulas: [{ formula: 'p99' }],
      },
      {
        kind: 'timeseries',
        title: 'Integration latency p99 by API, WebSocket included (ms)',
        queries: {
          p99: q.max('aws.apigateway.integration_latency.p99', { ...ms, by: [...PER_API, 'stage'] }),
        },
        formulas: [{ formula: 'p99', palette: 'grey' }],
      },
    ],
  };
}

function cacheAndCoverage(q: MetricQueries): GroupSpec {
  const by = { by: PER_API };
  const hits = q.sum('aws.apigateway.cache_hit_count', by);
  const misses = q.sum('aws.apigateway.cache_miss_count', by);
  return {
    title: 'REST cache and detailed-metrics coverage',
    widgets: [
      {
        kind: 'timeseries',
        title: 'Cache hit ratio by API (%)',
        queries: { hits, misses },
        formulas: [{ formula: 'hits / (hits + misses) * 100', alias: 'hit ratio %', palette: 'cool' }],
      },
      {
        kind: 'timeseries',
        title: 'Cache hits and misses',
        queries: { hits, misses },
        formulas: [
          { formula: 'hits', alias: 'hits', display: 'bars', palette: 'cool' },
          { formula: 'misses', alias: 'misses', display: 'bars', palette: 'orange' },
        ],
      },
      {
        kind: 'timeseries',
        title: 'Detailed-metrics coverage by stage (%)',
        queries: { coverage: q.min(DETAILED_COVERAGE.name, { by: ['apiname', 'stage'] }) },
        formulas: [{ formula: 'coverage * 100', alias: 'covered %', palette: 'purple' }],
        markers: [{ value: 100, label: 'every resource/route detailed', severity: 'info' }],
      },
    ],
  };
}

function apiGatewayMonitors(q: MetricQueries): AssetDraft[] {
  const by = { by: ['aws_account', 'region', ...PER_API, 'stage'] };
  const requests = q.sum('aws.apigateway.count', by).query;
  const who = '{{apiname.name}} stage {{stage.name}} ({{region.name}}, account {{aws_account.name}})';
  const common = { evaluationDelay: CLOUDWATCH_EVALUATION_DELAY, tags: ['integration:amazon_api_gateway'] };
  const serverErrors = (stem: string, metric: string, kind: string): AssetDraft =>
    monitor({
      ...common,
      stem,
      name: `[dogwatch] API Gateway: 5xx errors on ${kind} API ${who}`,
      reducer: 'sum',
      window: 'last_15m',
      expression: `${q.sum(metric, by).query} / ${requests} * 100`,
      comparator: '>=',
      critical: 5,
      warning: 1,
      message:
        `{{value}}% of the requests to the ${kind} API ${who} ended in a 5xx in the last 15 minutes. ` +
        'Compare latency with integration latency on the dashboard: a slow or failing backend shows there.',
    });
  return [
    serverErrors('rest_5xx_rate', 'aws.apigateway.5xxerror', 'REST'),
    serverErrors('http_5xx_rate', 'aws.apigateway.5xx', 'HTTP'),
    monitor({
      ...common,
      stem: 'high_latency',
      name: `[dogwatch] API Gateway: high p99 latency on ${who}`,
      reducer: 'avg',
      window: 'last_15m',
      expression: q.max('aws.apigateway.latency.p99', { ...by, unit: 'millisecond' }).query,
      comparator: '>=',
      critical: 5000,
      warning: 2500,
      message: `The p99 latency of ${who} averaged {{value}} ms over 15 minutes.`,
    }),
    monitor({
      stem: 'detailed_metrics_coverage',
      name: '[dogwatch] API Gateway: detailed metrics cover only part of {{apiname.name}} stage {{stage.name}}',
      reducer: 'max',
      window: 'last_30m',
      expression: q.min(DETAILED_COVERAGE.name, { by: ['region', 'apiname', 'stage'] }).query,
      comparator: '<',
      critical: 0.99,
      // A live gauge, sent by dogwatch as it runs: no CloudWatch delay to wait for.
      evaluationDelay: 0,
      tags: common.tags,
      message:
        'Detailed CloudWatch metrics are enabled on only some resources or routes of this stage: its detailed ' +
        'series account for a share of {{value}} of its requests (1 is all), so sums over `resource`/`route` ' +
        'are too low. Enable detailed metrics on every resource/route of the stage.',
    }),
  ];
}

/** The Amazon API Gateway dashboard and recommended monitors, for one namespace's metric names. */
export function apiGatewayAssets(catalog: MetricCatalog): AssetDraft[] {
  const q = catalog.forDashboard(TEMPLATE_VARIABLES);
  return [
    dashboard({
      stem: 'overview',
      title: 'Amazon API Gateway (dogwatch)',
      description:
        'REST, HTTP and WebSocket APIs side by side: requests, 4xx/5xx rates, latency against integration ' +
        'latency, the REST cache and how much of each stage detailed metrics cover.',
      templateVariables: TEMPLATE_VARIABLES,
      groups: [overview(q), sideBySide(q), latency(q), cacheAndCoverage(q)],
    }),
    ...apiGatewayMonitors(catalog.forMonitors()),
  ];
}
