import { GetRestApisCommand, GetStagesCommand as GetRestStagesCommand } from '@aws-sdk/client-api-gateway';
import { GetApisCommand, GetStagesCommand as GetV2StagesCommand } from '@aws-sdk/client-apigatewayv2';
import type { RegionContext } from '../../core/cloudwatch/integration.js';
import { restApiClient, v2ApiClient } from './api-gateway-aws-apis.js';

export interface ApiInfo {
  readonly id: string;
  readonly name: string;
  readonly protocol: 'REST' | 'HTTP' | 'WEBSOCKET';
  readonly tags: Readonly<Record<string, string>>;
  /** The API's ARN: its stages are `<arn>/stages/<name>` for the Tagging API. */
  readonly arn: string;
  /** Stages that write access logs (`collect_logs` only): the stage and its CloudWatch Logs group. */
  readonly accessLogs?: readonly StageAccessLog[];
}

export interface StageAccessLog {
  readonly stage: string;
  readonly logGroup: string;
  /** The group's region and account, from its ARN (a stage may log to another account's group). */
  readonly region: string;
  readonly accountId: string;
}

export interface ApiGatewayInventory {
  /** REST APIs by name (CloudWatch names them by ApiName; names are not unique, hence a list). */
  readonly restByName: ReadonlyMap<string, readonly ApiInfo[]>;
  /** HTTP and WebSocket APIs by ApiId. */
  readonly v2ById: ReadonlyMap<string, ApiInfo>;
}

/**
 * GetRestApis (REST) and apigatewayv2 GetApis (HTTP, WebSocket), every page. Stages are not listed:
 * CloudWatch names them, and their tags come from the Tagging API in a few pages per region, where
 * one GetStages per API took minutes at the 10 requests/s API Gateway quota with thousands of APIs.
 */
export async function loadApiGatewayInventory(context: RegionContext): Promise<ApiGatewayInventory> {
  const options = { abortSignal: context.signal };
  const rest = context.clients.client(restApiClient, context.access, context.region);
  const v2 = context.clients.client(v2ApiClient, context.access, context.region);

  const arnBase = `arn:${partitionOf(context.region)}:apigateway:${context.region}::`;
  const restByName = new Map<string, ApiInfo[]>();
  let position: string | undefined;
  do {
    const page = await rest.send(new GetRestApisCommand({ position, limit: 500 }), options);
    for (const api of page.items ?? []) {
      if (!api.id || !api.name) continue;
      const info: ApiInfo = {
        id: api.id,
        name: api.name,
        protocol: 'REST',
        tags: api.tags ?? {},
        arn: `${arnBase}/restapis/${api.id}`,
      };
      restByName.set(api.name, [...(restByName.get(api.name) ?? []), info]);
    }
    position = page.position || undefined;
  } while (position);

  const v2ById = new Map<string, ApiInfo>();
  let nextToken: string | undefined;
  do {
    const page = await v2.send(new GetApisCommand({ NextToken: nextToken, MaxResults: '500' }), options);
    for (const api of page.Items ?? []) {
      if (!api.ApiId || !api.Name) continue;
      const protocol = api.ProtocolType === 'WEBSOCKET' ? 'WEBSOCKET' : 'HTTP';
      const arn = `${arnBase}/apis/${api.ApiId}`;
      v2ById.set(api.ApiId, { id: api.ApiId, name: api.Name, protocol, tags: api.Tags ?? {}, arn });
    }
    nextToken = page.NextToken || undefined;
  } while (nextToken);

  if (context.config['collect_logs'] === true) {
    const withLogs = await accessLogsOf(context, [...restByName.values()].flat(), [...v2ById.values()]);
    return { restByName: groupByName(withLogs.rest), v2ById: new Map(withLogs.v2.map((a) => [a.id, a])) };
  }
  return { restByName, v2ById };
}

/**
 * `collect_logs`: each API's stages (GetStages, one call per API and discovery refresh) and the log group
 * their access logs go to (v1 `accessLogSettings.destinationArn`, v2 `AccessLogSettings.DestinationArn`).
 */
async function accessLogsOf(
  context: RegionContext,
  rest: readonly ApiInfo[],
  v2: readonly ApiInfo[],
): Promise<{ rest: ApiInfo[]; v2: ApiInfo[] }> {
  const options = { abortSignal: context.signal };
  const restClient = context.clients.client(restApiClient, context.access, context.region);
  const v2Client = context.clients.client(v2ApiClient, context.access, context.region);
  const withRest: ApiInfo[] = [];
  for (const api of rest) {
    const page = await restClient.send(new GetRestStagesCommand({ restApiId: api.id }), options);
    const logs = (page.item ?? []).map((s) => accessLog(s.stageName, s.accessLogSettings?.destinationArn));
    withRest.push({ ...api, accessLogs: logs.filter((l): l is StageAccessLog => l !== undefined) });
  }
  const withV2: ApiInfo[] = [];
  for (const api of v2) {
    const page = await v2Client.send(new GetV2StagesCommand({ ApiId: api.id }), options);
    const logs = (page.Items ?? []).map((s) => accessLog(s.StageName, s.AccessLogSettings?.DestinationArn));
    withV2.push({ ...api, accessLogs: logs.filter((l): l is StageAccessLog => l !== undefined) });
  }
  return { rest: withRest, v2: withV2 };
}

/** `arn:aws:logs:us-east-1:123456789012:log-group:API-Gateway-Access-Logs_abc/prod[:*]` → the group. */
export function accessLog(stage: string | undefined, arn: string | undefined): StageAccessLog | undefined {
  const match = /^arn:[^:]+:logs:([^:]+):(\d{12}):log-group:(.+?)(?::\*)?$/.exec(arn ?? '');
  if (stage === undefined || !match) return undefined;
  return { stage, region: match[1]!, accountId: match[2]!, logGroup: match[3]! };
}

function groupByName(apis: readonly ApiInfo[]): Map<string, ApiInfo[]> {
  const byName = new Map<string, ApiInfo[]>();
  for (const api of apis) byName.set(api.name, [...(byName.get(api.name) ?? []), api]);
  return byName;
}

/** The partition part of an ARN in this region. */
function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('us-isob-')) return 'aws-iso-b';
  if (region.startsWith('us-iso-')) return 'aws-iso';
  return 'aws';
}
