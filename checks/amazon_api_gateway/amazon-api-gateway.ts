import { z } from 'zod';
import {
  logProcessingRulesOption,
  rulesNeedCollectLogs,
} from '../../core/cloudwatch-logs/log-processing-rules-option.js';
import { MetricCatalog } from '../../core/assets/metric-catalog.js';
import type { CheckDefinition } from '../../core/check/check.js';
import { cloudWatchCheckClass } from '../../core/cloudwatch/cloudwatch-check.js';
import { cloudWatchInstanceShape } from '../../core/cloudwatch/engine-options.js';
import type {
  CloudWatchIntegration,
  EmittedPoint,
  SeriesSelection,
} from '../../core/cloudwatch/integration.js';
import { loadMetricTable } from '../../core/cloudwatch/metric-table.js';
import { dimensionValue, type Series } from '../../core/cloudwatch/series.js';
import { packageFile } from '../../core/package-root.js';
import { type ApiGatewayInventory, type ApiInfo, loadApiGatewayInventory } from './api-gateway-inventory.js';
import {
  apiGatewayAwsApis,
  apiGatewayDeploymentEventsAwsApis,
  apiGatewayLogsAwsApis,
} from './api-gateway-aws-apis.js';
import { apiGatewayLogGroups } from './api-gateway-log-targets.js';
import { apiGatewayDeploymentEvents } from './api-gateway-deployment-events.js';
import { API_GATEWAY_SCOPE_TAGS, apiGatewayAssets, DETAILED_COVERAGE } from './assets.js';

/** The API a series belongs to: REST series name it by ApiName, HTTP/WebSocket ones by ApiId. */
function apiOf(series: Series, inventory: ApiGatewayInventory): ApiInfo | undefined {
  const id = dimensionValue(series, 'ApiId');
  if (id !== undefined) return inventory.v2ById.get(id);
  const name = dimensionValue(series, 'ApiName');
  return name !== undefined ? inventory.restByName.get(name)?.[0] : undefined;
}

function stageTags(
  series: Series,
  api: ApiInfo,
  awsTags: ReadonlyMap<string, Readonly<Record<string, string>>>,
): Readonly<Record<string, string>> | undefined {
  const stage = dimensionValue(series, 'Stage');
  return stage === undefined ? undefined : awsTags.get(`${api.arn}/stages/${stage}`);
}

/** `(api, stage)`: the unit whose detailed series must add up to its totals. */
function stageKey(series: Series): string | undefined {
  const api = dimensionValue(series, 'ApiName') ?? dimensionValue(series, 'ApiId');
  const stage = dimensionValue(series, 'Stage');
  return api !== undefined && stage !== undefined ? `${api}|${stage}` : undefined;
}

const isDetailed = (series: Series): boolean =>
  series.dimensions.some((d) => d.Name === 'Resource' || d.Name === 'Route');

/** The request counter whose stage total detailed series must add up to. */
const COVERAGE_METRICS: ReadonlySet<string> = new Set(['Count', 'MessageCount']);

const tagPairs = (tags: Readonly<Record<string, string>> | undefined): string[] =>
  Object.entries(tags ?? {}).map(([k, v]) => (v === '' ? k : `${k}:${v}`));

export const apiGatewayIntegration: CloudWatchIntegration<ApiGatewayInventory> = {
  namespace: 'AWS/ApiGateway',
  metrics: loadMetricTable(packageFile('checks', 'amazon_api_gateway', 'metadata.csv')),
  // The API-only series (ApiName alone, ApiId alone) are deliberately absent: never emitted (SPEC §2).
  scopes: [
    { scope: 'rest', dimensions: ['ApiName', 'Stage'], userNamed: ['ApiName', 'Stage'] },
    {
      scope: 'rest',
      dimensions: ['ApiName', 'Stage', 'Resource', 'Method'],
      userNamed: ['ApiName', 'Stage', 'Resource'],
    },
    { scope: ['http', 'websocket'], dimensions: ['ApiId', 'Stage'], userNamed: ['Stage'] },
    { scope: ['http', 'websocket'], dimensions: ['ApiId', 'Stage', 'Route'], userNamed: ['Stage', 'Route'] },
  ],
  loadResources: loadApiGatewayInventory,
  optionalInventory: {
    empty: () => ({ restByName: new Map(), v2ById: new Map() }),
    loses:
      "the APIs are not listed: apiid (REST) and apiname (HTTP, WebSocket) tags and the APIs' own AWS tags are missing",
  },
  // Stage tags (API tags come with GetRestApis / GetApis).
  taggedResourceTypes: ['apigateway'],
  resourceName: (series, inventory) => apiOf(series, inventory)?.name ?? dimensionValue(series, 'ApiName'),

  resourceAwsTags(series, inventory, awsTags) {
    const api = apiOf(series, inventory);
    if (!api) return {};
    return { ...api.tags, ...stageTags(series, api, awsTags) };
  },

  seriesTags(series, inventory, context, awsTags) {
    const api = apiOf(series, inventory);
    if (!api) return [];
    const name = dimensionValue(series, 'ApiName');
    if (name !== undefined && (inventory.restByName.get(name)?.length ?? 0) > 1) {
      context.warn(
        `${context.region}: several REST APIs are named "${name}"; CloudWatch merges them, apiid names the first`,
      );
    }
    return [
      ...(dimensionValue(series, 'ApiId') === undefined ? [`apiid:${api.id}`] : [`apiname:${api.name}`]),
      ...tagPairs(api.tags),
      ...tagPairs(stageTags(series, api, awsTags)),
    ];
  },

  /**
   * Per (stage, metric): the most detailed series that exist, else the stage series (Datadog's
   * behaviour). Where detailed series are used, the stage's request total is fetched as a reference
   * so inspectPoints can tell when detailed metrics cover only part of the stage.
   */
  selectSeries(series): SeriesSelection {
    const detailedMetrics = new Set<string>();
    for (const s of series) if (isDetailed(s)) detailedMetrics.add(`${stageKey(s)}|${s.metricName}`);
    const emit: Series[] = [];
    const reference: { series: Series; statistic: string }[] = [];
    for (const s of series) {
      const covered = detailedMetrics.has(`${stageKey(s)}|${s.metricName}`);
      if (isDetailed(s) || !covered) emit.push(s);
      else if (COVERAGE_METRICS.has(s.metricName)) reference.push({ series: s, statistic: 'Sum' });
    }
    return { emit, reference };
  },

  inspects: (series, statistic) => COVERAGE_METRICS.has(series.metricName) && statistic === 'Sum',

  logGroups: apiGatewayLogGroups,

  inspectPoints(points: readonly EmittedPoint[], _inventory, context) {
    const detailed = new Map<string, number>();
    const totals = new Map<string, number>();
    for (const p of points) {
      if (!COVERAGE_METRICS.has(p.series.metricName) || p.statistic !== 'Sum') continue;
      const key = `${stageKey(p.series)}|${p.series.metricName}|${p.timestamp}`;
      if (!p.emitted) totals.set(key, p.value);
      else if (isDetailed(p.series)) detailed.set(key, (detailed.get(key) ?? 0) + p.value);
    }
    const worst = new Map<string, number>();
    for (const [key, total] of totals) {
      const sum = detailed.get(key);
      if (sum === undefined || total <= 0) continue;
      const stage = key.split('|').slice(0, 2).join('|');
      worst.set(stage, Math.min(worst.get(stage) ?? 1, sum / total));
    }
    for (const [stage, coverage] of worst) {
      const [api, stageName] = stage.split('|') as [string, string];
      context.selfMetric('apigateway.detailed_coverage', 'gauge', coverage, [
        `apiname:${api}`,
        `stage:${stageName}`,
      ]);
      if (coverage < 0.999) {
        context.warn(
          `${context.region}: API ${api} stage ${stageName}: detailed metrics cover only ${(coverage * 100).toFixed(1)}% ` +
            'of the stage requests — enable detailed CloudWatch metrics on every resource/route of the stage, ' +
            'or aggregates over resource/route tags will be too low',
        );
      }
    }
  },
};

export const amazonApiGatewayCheck: CheckDefinition = {
  name: 'amazon_api_gateway',
  description: 'Amazon API Gateway (REST, HTTP and WebSocket APIs) metrics from CloudWatch',
  instanceSchema: z
    .object({
      ...cloudWatchInstanceShape,
      collect_deployment_events: z
        .boolean()
        .default(false)
        .describe(
          'Send API deployments and stage changes (CreateDeployment, CreateStage, UpdateStage, DeleteStage; REST, ' +
            'HTTP and WebSocket APIs) from CloudTrail as Datadog events, tagged apiid/stage. Needs the IAM action ' +
            'cloudtrail:LookupEvents.',
        ),
      collect_logs: z
        .boolean()
        .default(false)
        .describe(
          "Send the stages' access logs (the CloudWatch Logs group of each stage's access-log settings; a JSON " +
            "format becomes the log's attributes) to the Agent's TCP logs listener (logs_url), ddsource " +
            'apigateway, service the API name. Stages are listed once per discovery_ttl (GetStages per API). ' +
            'Needs the IAM actions logs:FilterLogEvents and apigateway:GET on the stages.',
        ),
      log_processing_rules: logProcessingRulesOption,
    })
    .superRefine(rulesNeedCollectLogs),
  initConfigSchema: z.object({}),
  defaultMinCollectionInterval: 60,
  checkClass: cloudWatchCheckClass(apiGatewayIntegration, {
    trailEvents: [apiGatewayDeploymentEvents],
    logs: (config) => config['collect_logs'] === true,
  }),
  assets: (options) =>
    apiGatewayAssets(
      MetricCatalog.fromMetricTable(apiGatewayIntegration.metrics, API_GATEWAY_SCOPE_TAGS, options, [
        DETAILED_COVERAGE,
      ]),
    ),
  awsApis: [apiGatewayAwsApis, apiGatewayDeploymentEventsAwsApis, apiGatewayLogsAwsApis],
};
