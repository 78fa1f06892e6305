import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { ApiGatewayV2Client } from '@aws-sdk/client-apigatewayv2';
import type { AwsApiDeclaration, AwsClientDeclaration } from '../../core/aws/aws-api-declaration.js';
import { trailEventsAwsApis } from '../../core/cloudtrail/cloudtrail-client.js';
import {
  cloudWatchLogsClient,
  filterLogEventsQuota,
} from '../../core/cloudwatch-logs/cloudwatch-logs-client.js';

export const restApiClient: AwsClientDeclaration<APIGatewayClient> = {
  id: 'apigateway',
  sdkClient: APIGatewayClient,
  service: 'apigateway',
  iamPrefix: 'apigateway',
};

export const v2ApiClient: AwsClientDeclaration<ApiGatewayV2Client> = {
  id: 'apigatewayv2',
  sdkClient: ApiGatewayV2Client,
  service: 'apigateway',
  iamPrefix: 'apigateway',
};

/** Resources of the management API, which authorises reads by HTTP verb and path. */
const API_RESOURCES = ['arn:aws:apigateway:*::/restapis', 'arn:aws:apigateway:*::/apis'];

/** The API Gateway inventory (api-gateway-inventory.ts): REST APIs, then HTTP and WebSocket APIs. */
export const apiGatewayAwsApis: AwsApiDeclaration = {
  clients: [restApiClient, v2ApiClient],
  quotas: [
    // API Gateway quotas for creating, deploying and managing an API, "Total operations: 10 requests per
    // second with a burst quota of 40 requests per second", per account, v1 and v2 management APIs alike
    // (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html).
    { name: 'apigateway', clients: [restApiClient, v2ApiClient], requestsPerSecond: 10 },
  ],
  iamActions: [
    {
      action: 'apigateway:GET',
      client: restApiClient,
      operations: ['GetRestApis'],
      statement: 'ApiGatewayInventory',
      resources: API_RESOURCES,
      purpose: 'every region: names, ids and tags of REST APIs (`/restapis`)',
    },
    {
      action: 'apigateway:GET',
      client: v2ApiClient,
      operations: ['GetApis'],
      statement: 'ApiGatewayInventory',
      resources: API_RESOURCES,
      purpose: 'every region: names, ids and tags of HTTP and WebSocket APIs (`/apis`)',
    },
  ],
};

/** `collect_deployment_events`: CloudTrail LookupEvents in every region of the instance (core/cloudtrail/). */
export const apiGatewayDeploymentEventsAwsApis: AwsApiDeclaration = trailEventsAwsApis(
  'collect_deployment_events',
  'API deployment and stage changes',
);

/**
 * `collect_logs`: each API's stages (their access-log settings) once per discovery refresh, then
 * CloudWatch Logs FilterLogEvents on each stage's access-log group (core/cloudwatch-logs/). Only needed
 * with that option.
 */
const STAGE_RESOURCES = ['arn:aws:apigateway:*::/restapis/*/stages', 'arn:aws:apigateway:*::/apis/*/stages'];

export const apiGatewayLogsAwsApis: AwsApiDeclaration = {
  clients: [restApiClient, v2ApiClient, cloudWatchLogsClient],
  quotas: [filterLogEventsQuota],
  iamActions: [
    {
      action: 'apigateway:GET',
      client: restApiClient,
      operations: ['GetStages'],
      statement: 'ApiGatewayInventory',
      resources: STAGE_RESOURCES,
      option: 'collect_logs',
      purpose: "REST API stages' access-log settings (`/restapis/<id>/stages`), to find their log groups",
    },
    {
      action: 'apigateway:GET',
      client: v2ApiClient,
      operations: ['GetStages'],
      statement: 'ApiGatewayInventory',
      resources: STAGE_RESOURCES,
      option: 'collect_logs',
      purpose: "HTTP and WebSocket API stages' access-log settings (`/apis/<id>/stages`)",
    },
    {
      action: 'logs:FilterLogEvents',
      client: cloudWatchLogsClient,
      statement: 'CloudWatchLogs',
      option: 'collect_logs',
      purpose:
        "the stages' access-log lines, sent to the Agent's logs listener (a stage's access-log group can " +
        'have any name, hence every log group; narrow it to yours if you like)',
    },
  ],
};
