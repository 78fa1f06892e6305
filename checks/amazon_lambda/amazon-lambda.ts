import { z } from 'zod';
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

export const amazonLambdaInstanceSchema = z.object({
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
});

export const amazonLambdaCheck: CheckDefinition = {
  name: 'amazon_lambda',
  description: 'AWS Lambda metrics from CloudWatch, with Lambda@Edge replicas tagged to their master',
  instanceSchema: amazonLambdaInstanceSchema,
  initConfigSchema: z.object({}),
  defaultMinCollectionInterval: 60,
  checkClass: cloudWatchCheckClass(lambdaIntegration),
  assets: (options) =>
    lambdaAssets(MetricCatalog.fromMetricTable(lambdaIntegration.metrics, LAMBDA_SCOPE_TAGS, options)),
};
