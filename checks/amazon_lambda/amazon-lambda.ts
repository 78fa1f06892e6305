import { z } from 'zod';
import {
  logProcessingRulesOption,
  rulesNeedCollectLogs,
} from '../../core/cloudwatch-logs/log-processing-rules-option.js';
import { MetricCatalog } from '../../core/assets/metric-catalog.js';
import type { CheckDefinition } from '../../core/check/check.js';
import { cloudWatchCheckClass } from '../../core/cloudwatch/cloudwatch-check.js';
import { cloudWatchInstanceShape } from '../../core/cloudwatch/engine-options.js';
import type { CloudWatchIntegration } from '../../core/cloudwatch/integration.js';
import { loadMetricTable } from '../../core/cloudwatch/metric-table.js';
import { dimensionValue, makeSeries, type Series } from '../../core/cloudwatch/series.js';
import { packageFile } from '../../core/package-root.js';
import {
  EDGE_MASTER_REGION,
  type EdgeReplicaInfo,
  type LambdaFunctionInfo,
  type LambdaInventory,
  loadLambdaInventory,
} from './lambda-inventory.js';
import { LAMBDA_SCOPE_TAGS, lambdaAssets } from './assets.js';
import { lambdaAwsApis, lambdaDeploymentEventsAwsApis, lambdaLogsAwsApis } from './lambda-aws-apis.js';
import { lambdaLogGroups } from './lambda-log-targets.js';
import { lambdaEnhancedMetrics } from './lambda-enhanced-metrics.js';
import { lambdaDeploymentEvents } from './lambda-deployment-events.js';

interface LambdaResources extends LambdaInventory {
  /** AWS tags of us-east-1 masters, for their replicas elsewhere. */
  readonly masterTags: ReadonlyMap<string, Readonly<Record<string, string>>>;
  readonly accountId: string;
}

const awsTagPairs = (tags: Readonly<Record<string, string>> | undefined): string[] =>
  Object.entries(tags ?? {}).map(([k, v]) => (v === '' ? k : `${k}:${v}`));

const attributeTags = (f: LambdaFunctionInfo): string[] => [
  ...(f.runtime ? [`runtime:${f.runtime}`] : []),
  ...(f.memorySize !== undefined ? [`memorysize:${f.memorySize}`] : []),
  ...(f.architecture ? [`architecture:${f.architecture}`] : []),
];

/**
 * A replica's series is named `us-east-1.<name>`. Function names cannot contain a dot, so such a name
 * *is* a Lambda@Edge replica whatever a listing says (an emulator that ignores MasterRegion, a replica
 * being deleted); the MasterRegion listing only enriches it (the master's ARN as AWS gives it, the
 * replica's runtime and memory). A name with a dot but no region prefix (`my.func`) is not a replica.
 */
function edgeReplicaOf(functionName: string, resources: LambdaResources): EdgeReplicaInfo | undefined {
  const prefix = `${EDGE_MASTER_REGION}.`;
  if (!functionName.startsWith(prefix)) return undefined;
  const listed = resources.edgeReplicas.get(functionName);
  if (listed) return listed;
  const masterName = functionName.slice(prefix.length);
  const masterArn = `arn:aws:lambda:${EDGE_MASTER_REGION}:${resources.accountId}:function:${masterName}`;
  return { masterName, masterArn, replica: { name: functionName, arn: masterArn } };
}

export const lambdaIntegration: CloudWatchIntegration<LambdaResources> = {
  namespace: 'AWS/Lambda',
  metrics: loadMetricTable(packageFile('checks', 'amazon_lambda', 'metadata.csv')),
  taggedResourceTypes: ['lambda:function'],
  scopes: [
    {
      scope: 'function',
      dimensions: ['FunctionName'],
      userNamed: ['FunctionName'],
      tags: (s) => [
        `functionname:${dimensionValue(s, 'FunctionName')}`,
        `resource:${dimensionValue(s, 'FunctionName')}`,
      ],
    },
    { scope: 'account', dimensions: [] },
    {
      scope: 'function',
      dimensions: ['FunctionName', 'Resource'],
      userNamed: ['FunctionName', 'Resource'],
      enabled: (config) => config.collect_aliases === true,
    },
    {
      scope: 'function',
      dimensions: ['FunctionName', 'ExecutedVersion'],
      userNamed: ['FunctionName'],
      enabled: (config) => config.collect_aliases === true,
    },
    {
      scope: 'event_source_mapping',
      dimensions: ['EventSourceMappingUUID'],
      enabled: (config) => config.collect_event_source_mappings === true,
    },
  ],
  resourceName: (series) => dimensionValue(series, 'FunctionName'),
  optionalInventory: {
    empty: (context) => ({
      functions: new Map(),
      edgeReplicas: new Map(),
      edgeListingAvailable: false,
      masterTags: new Map(),
      accountId: context.accountId,
    }),
    loses:
      'the functions are not listed: runtime, memorysize and architecture tags, aws.lambda.memorysize and ' +
      'aws.lambda.timeout, and the Lambda@Edge master ARN from the listing are missing (replicas are still ' +
      'recognised by name)',
  },

  async loadResources(context) {
    const inventory = await loadLambdaInventory(context);
    const masterTags =
      inventory.edgeReplicas.size > 0 || !inventory.edgeListingAvailable
        ? await context.resourceTags(['lambda:function'], EDGE_MASTER_REGION)
        : new Map<string, Readonly<Record<string, string>>>();
    return { ...inventory, masterTags, accountId: context.accountId };
  },

  resourceAwsTags(series, resources, awsTags) {
    const name = dimensionValue(series, 'FunctionName');
    if (name === undefined) return undefined;
    const edge = edgeReplicaOf(name, resources);
    if (edge) return resources.masterTags.get(edge.masterArn) ?? {};
    const info = resources.functions.get(name);
    return info ? (awsTags.get(info.arn) ?? {}) : {};
  },

  seriesTags(series, resources, _context, awsTags) {
    const name = dimensionValue(series, 'FunctionName');
    if (name === undefined) return [];
    const edge = edgeReplicaOf(name, resources);
    if (edge) {
      return [
        'at_edge:true',
        `edge_master_name:${edge.masterName}`,
        `edge_master_arn:${edge.masterArn}`,
        ...attributeTags(edge.replica),
        ...awsTagPairs(resources.masterTags.get(edge.masterArn)),
      ];
    }
    const info = resources.functions.get(name);
    return info ? [...attributeTags(info), ...awsTagPairs(awsTags.get(info.arn))] : [];
  },

  logGroups(resources, context, awsTags) {
    const awsTagsOf = (name: string): Readonly<Record<string, string>> | undefined => {
      const info = resources.functions.get(name);
      if (info) return awsTags.get(info.arn) ?? {};
      const edge = [...resources.edgeReplicas.values()].find((e) => e.masterName === name);
      return edge ? (resources.masterTags.get(edge.masterArn) ?? {}) : undefined;
    };
    return lambdaLogGroups(resources, {
      region: context.region,
      accountId: context.accountId,
      // The Forwarder's tags for a function's logs: its name, account and region, then its AWS tags.
      tagsOf: (name) => [
        `functionname:${name}`,
        `aws_account:${context.accountId}`,
        `region:${context.region}`,
        ...awsTagPairs(awsTagsOf(name)),
      ],
      awsTagsOf,
      ...(context.config['enhanced_metrics'] === true
        ? {
            metricsOf: (fn: LambdaFunctionInfo, edge?: EdgeReplicaInfo) =>
              lambdaEnhancedMetrics({
                // A replica's CloudWatch name, so its enhanced series sit beside its CloudWatch ones.
                functionName: edge ? edge.replica.name : fn.name,
                region: context.region,
                accountId: context.accountId,
                ...(fn.runtime ? { runtime: fn.runtime } : {}),
                ...(fn.architecture ? { architecture: fn.architecture } : {}),
                ...(fn.timeout !== undefined ? { timeoutSeconds: fn.timeout } : {}),
                extraTags: edge
                  ? [
                      'at_edge:true',
                      `edge_master_name:${edge.masterName}`,
                      `edge_master_arn:${edge.masterArn}`,
                      ...awsTagPairs(resources.masterTags.get(edge.masterArn)),
                    ]
                  : awsTagPairs(awsTagsOf(fn.name)),
              }),
          }
        : {}),
    });
  },

  inventory(resources) {
    const items: { series: Series; values: Record<string, number> }[] = [];
    for (const f of resources.functions.values()) {
      const values: Record<string, number> = {};
      if (f.memorySize !== undefined) values['aws.lambda.memorysize'] = f.memorySize;
      if (f.timeout !== undefined) values['aws.lambda.timeout'] = f.timeout;
      items.push({
        series: makeSeries('(configuration)', [{ Name: 'FunctionName', Value: f.name }]),
        values,
      });
    }
    return items;
  },
};

export const amazonLambdaInstanceSchema = z
  .object({
    ...cloudWatchInstanceShape,
    collect_aliases: z
      .boolean()
      .default(false)
      .describe(
        'Also collect alias and version series (FunctionName+Resource, FunctionName+ExecutedVersion), tagged ' +
          'resource:<fn>:<qualifier> / executedversion:<v>. They repeat the function totals: filter by tag when summing.',
      ),
    collect_event_source_mappings: z
      .boolean()
      .default(false)
      .describe('Also collect event source mapping series (EventSourceMappingUUID).'),
    collect_deployment_events: z
      .boolean()
      .default(false)
      .describe(
        'Send function changes (CreateFunction, UpdateFunctionCode, UpdateFunctionConfiguration, PublishVersion, ' +
          'CreateAlias/UpdateAlias, DeleteFunction, PutFunctionConcurrency) from CloudTrail as Datadog events, ' +
          'tagged functionname/resource. Needs the IAM action cloudtrail:LookupEvents.',
      ),
    collect_logs: z
      .boolean()
      .default(false)
      .describe(
        "Send the functions' log lines (their log group /aws/lambda/<name>, or the custom group of their " +
          'LoggingConfig, Text or JSON; Lambda@Edge replicas: /aws/lambda/us-east-1.<name> where they ran) to the ' +
          "Agent's TCP logs listener (logs_url), with the Datadog Forwarder's attributes (ddsource lambda, " +
          'service, lambda.arn, lambda.request_id, aws.awslogs.*). Each group is read with FilterLogEvents, ' +
          'idle groups less often. Needs the IAM action logs:FilterLogEvents.',
      ),
    log_processing_rules: logProcessingRulesOption,
    enhanced_metrics: z
      .boolean()
      .default(false)
      .describe(
        'Also derive aws.lambda.enhanced.* (invocations, duration, billed_duration, max_memory_used, ' +
          'init_duration, estimated_cost, errors, timeouts, out_of_memory) from the REPORT lines of the logs ' +
          'collect_logs reads, tagged cold_start, memorysize, executedversion, runtime like the function. ' +
          'Needs collect_logs: true. Sent as timestamped per-minute counts and gauges once a minute can no ' +
          "longer change: about 11 minutes plus the function's timeout after it.",
      ),
  })
  .superRefine(rulesNeedCollectLogs)
  .superRefine((config, context) => {
    if (config.enhanced_metrics && !config.collect_logs)
      context.addIssue({
        code: 'custom',
        path: ['enhanced_metrics'],
        message:
          'expected collect_logs: true beside enhanced_metrics (the enhanced metrics are read from the log ' +
          'lines collect_logs reads), found enhanced_metrics without it',
        params: { hint: 'add `collect_logs: true` to this instance, or remove `enhanced_metrics`' },
      });
  });

export const amazonLambdaCheck: CheckDefinition = {
  name: 'amazon_lambda',
  description: 'AWS Lambda metrics from CloudWatch, with Lambda@Edge replicas tagged to their master',
  instanceSchema: amazonLambdaInstanceSchema,
  initConfigSchema: z.object({}),
  defaultMinCollectionInterval: 60,
  checkClass: cloudWatchCheckClass(lambdaIntegration, {
    trailEvents: [lambdaDeploymentEvents],
    logs: (config) => config['collect_logs'] === true,
  }),
  assets: (options) =>
    lambdaAssets(MetricCatalog.fromMetricTable(lambdaIntegration.metrics, LAMBDA_SCOPE_TAGS, options)),
  awsApis: [lambdaAwsApis, lambdaDeploymentEventsAwsApis, lambdaLogsAwsApis],
};
