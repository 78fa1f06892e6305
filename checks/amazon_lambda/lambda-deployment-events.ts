import type { TrailEventSelection } from '../../core/cloudtrail/trail-event-selection.js';
import type { TrailRecord } from '../../core/cloudtrail/trail-record.js';
import { EDGE_MASTER_REGION, type LambdaInventory } from './lambda-inventory.js';

/** The Lambda management events that change a function, by operation (CloudTrail adds API-version suffixes). */
const LAMBDA_DEPLOYMENT_OPERATIONS = new Set([
  'CreateFunction',
  'UpdateFunctionCode',
  'UpdateFunctionConfiguration',
  'PublishVersion',
  'CreateAlias',
  'UpdateAlias',
  'DeleteFunction',
  'PutFunctionConcurrency',
]);

/** `orders-handler` from a name, a partial ARN or a (qualified) function ARN. */
export function functionNameOf(reference: string): string {
  const marker = reference.indexOf('function:');
  if (marker < 0) return reference;
  return reference.slice(marker + 'function:'.length).split(':')[0] ?? reference;
}

function functionOf(record: TrailRecord): string | undefined {
  const named = record.request['functionName'] ?? record.response['functionName'];
  if (typeof named === 'string' && named !== '') return functionNameOf(named);
  const listed = record.resourceNames[0];
  return listed === undefined ? undefined : functionNameOf(listed);
}

/**
 * Whether a us-east-1 function is a Lambda@Edge master: a replica of it runs in a region whose inventory
 * (ListFunctions MasterRegion=us-east-1) was loaded. Its changes then also carry the replicas'
 * `edge_master_name`, so they overlay the replicas' graphs (grouped by it) as well as its own.
 */
function isEdgeMaster(
  name: string,
  region: string,
  inventories: ReadonlyMap<string, LambdaInventory>,
): boolean {
  if (region !== EDGE_MASTER_REGION) return false;
  for (const inventory of inventories.values())
    for (const replica of inventory.edgeReplicas.values()) if (replica.masterName === name) return true;
  return false;
}

/** `collect_deployment_events`: function changes from CloudTrail, tagged like the function's metrics. */
export const lambdaDeploymentEvents: TrailEventSelection<LambdaInventory> = {
  eventSource: 'lambda.amazonaws.com',
  operations: LAMBDA_DEPLOYMENT_OPERATIONS,
  sourceType: 'amazon_lambda',
  enabled: (config) => config['collect_deployment_events'] === true,
  describe(record, { accountId, inventories }) {
    const name = functionOf(record);
    if (name === undefined) return undefined;
    const edge = isEdgeMaster(name, record.region, inventories) ? [`edge_master_name:${name}`] : [];
    return {
      title: `Lambda ${record.operation}: ${name} (${record.region})`,
      aggregationKey: `lambda:${accountId}:${record.region}:${name}`,
      tags: [`functionname:${name}`, `resource:${name}`, ...edge],
    };
  },
};
