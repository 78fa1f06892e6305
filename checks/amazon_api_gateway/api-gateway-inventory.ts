import { GetRestApisCommand } from '@aws-sdk/client-api-gateway';
import { GetApisCommand } from '@aws-sdk/client-apigatewayv2';
import type { RegionContext } from '../../core/cloudwatch/integration.js';

export interface ApiInfo {
  readonly id: string;
  readonly name: string;
  readonly protocol: 'REST' | 'HTTP' | 'WEBSOCKET';
  readonly tags: Readonly<Record<string, string>>;
  /** The API's ARN: its stages are `<arn>/stages/<name>` for the Tagging API. */
  readonly arn: string;
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
  const rest = context.clients.client('apigateway', context.access, context.region);
  const v2 = context.clients.client('apigatewayv2', context.access, context.region);

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

  return { restByName, v2ById };
}

/** The partition part of an ARN in this region. */
function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('us-isob-')) return 'aws-iso-b';
  if (region.startsWith('us-iso-')) return 'aws-iso';
  return 'aws';
}
