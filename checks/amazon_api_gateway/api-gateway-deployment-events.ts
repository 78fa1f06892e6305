import type { TrailEventSelection } from '../../core/cloudtrail/trail-event-selection.js';
import type { TrailRecord } from '../../core/cloudtrail/trail-record.js';
import type { ApiGatewayInventory } from './api-gateway-inventory.js';

/** API deployments and stage changes, REST (v1) and HTTP/WebSocket (v2) alike: both use these names. */
const API_GATEWAY_DEPLOYMENT_OPERATIONS = new Set([
  'CreateDeployment',
  'UpdateStage',
  'CreateStage',
  'DeleteStage',
]);

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

/** The API's ID (`restApiId` in v1, `apiId` in v2) and the stage, from the request or the response. */
function apiOf(record: TrailRecord): { apiId: string; stage?: string } | undefined {
  const { request, response } = record;
  const apiId = text(request['restApiId']) ?? text(request['apiId']) ?? text(response['apiId']);
  if (apiId === undefined) return undefined;
  const input = request['createDeploymentInput'] ?? request['createStageInput'];
  const nested = typeof input === 'object' && input !== null ? (input as Record<string, unknown>) : {};
  const stage = text(request['stageName']) ?? text(nested['stageName']) ?? text(response['stageName']);
  return { apiId, stage };
}

/** The API's name from the region's inventory (GetRestApis, GetApis); undefined when it is not listed. */
function apiNameOf(apiId: string, inventory: ApiGatewayInventory | undefined): string | undefined {
  if (inventory === undefined) return undefined;
  const v2 = inventory.v2ById.get(apiId);
  if (v2 !== undefined) return v2.name;
  for (const apis of inventory.restByName.values())
    for (const api of apis) if (api.id === apiId) return api.name;
  return undefined;
}

/**
 * `collect_deployment_events`: API deployments and stage changes from CloudTrail, tagged `apiname` (joined
 * from the inventory the metrics loaded: REST metrics carry only the name, HTTP and WebSocket ones the ID),
 * `apiid` and `stage`.
 */
export const apiGatewayDeploymentEvents: TrailEventSelection<ApiGatewayInventory> = {
  eventSource: 'apigateway.amazonaws.com',
  operations: API_GATEWAY_DEPLOYMENT_OPERATIONS,
  sourceType: 'amazon_api_gateway',
  enabled: (config) => config['collect_deployment_events'] === true,
  describe(record, { accountId, inventories }) {
    const api = apiOf(record);
    if (api === undefined) return undefined;
    const name = apiNameOf(api.apiId, inventories.get(record.region));
    const which = name ?? api.apiId;
    const where = api.stage === undefined ? which : `${which} stage ${api.stage}`;
    return {
      title: `API Gateway ${record.operation}: ${where} (${record.region})`,
      aggregationKey: `apigateway:${accountId}:${record.region}:${api.apiId}`,
      tags: [
        `apiid:${api.apiId}`,
        ...(name === undefined ? [] : [`apiname:${name}`]),
        ...(api.stage === undefined ? [] : [`stage:${api.stage}`]),
      ],
    };
  },
};
