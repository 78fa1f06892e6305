import { GetRestApisCommand, GetStagesCommand } from '@aws-sdk/client-api-gateway';
import { GetApisCommand, GetStagesCommand as GetV2StagesCommand } from '@aws-sdk/client-apigatewayv2';
import type { RegionContext } from '../../core/cloudwatch/integration.js';

export interface ApiInfo {
  readonly id: string;
  readonly name: string;
  readonly protocol: 'REST' | 'HTTP' | 'WEBSOCKET';
  readonly tags: Readonly<Record<string, string>>;
  /** Stage name → the stage's AWS tags. */
  readonly stages: ReadonlyMap<string, Readonly<Record<string, string>>>;
}

export interface ApiGatewayInventory {
  /** REST APIs by name (CloudWatch names them by ApiName; names are not unique, hence a list). */
  readonly restByName: ReadonlyMap<string, readonly ApiInfo[]>;
  /** HTTP and WebSocket APIs by ApiId. */
  readonly v2ById: ReadonlyMap<string, ApiInfo>;
}

/** GetRestApis + GetStages (REST) and apigatewayv2 GetApis + GetStages (HTTP, WebSocket), every page. */
export async function loadApiGatewayInventory(context: RegionContext): Promise<ApiGatewayInventory> {
  const options = { abortSignal: context.signal };
  const rest = context.clients.client('apigateway', context.access, context.region);
  const v2 = context.clients.client('apigatewayv2', context.access, context.region);

  const restByName = new Map<string, ApiInfo[]>();
  let position: string | undefined;
  do {
    const page = await rest.send(new GetRestApisCommand({ position, limit: 500 }), options);
    for (const api of page.items ?? []) {
      if (!api.id || !api.name) continue;
      const stages = new Map<string, Record<string, string>>();
      const stagePage = await rest.send(new GetStagesCommand({ restApiId: api.id }), options);
      for (const stage of stagePage.item ?? [])
        if (stage.stageName) stages.set(stage.stageName, stage.tags ?? {});
      const info: ApiInfo = { id: api.id, name: api.name, protocol: 'REST', tags: api.tags ?? {}, stages };
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
      const stages = new Map<string, Record<string, string>>();
      let stageToken: string | undefined;
      do {
        const stagePage = await v2.send(
          new GetV2StagesCommand({ ApiId: api.ApiId, NextToken: stageToken }),
          options,
        );
        for (const stage of stagePage.Items ?? [])
          if (stage.StageName) stages.set(stage.StageName, stage.Tags ?? {});
        stageToken = stagePage.NextToken || undefined;
      } while (stageToken);
      const protocol = api.ProtocolType === 'WEBSOCKET' ? 'WEBSOCKET' : 'HTTP';
      v2ById.set(api.ApiId, { id: api.ApiId, name: api.Name, protocol, tags: api.Tags ?? {}, stages });
    }
    nextToken = page.NextToken || undefined;
  } while (nextToken);

  return { restByName, v2ById };
}
