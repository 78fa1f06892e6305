/**
 * API Gateway REST-JSON: v1 (GetRestApis, GetStages, GetTags) and v2 (GetApis, GetStages, GetTags).
 * Stage settings tell which resources/routes publish detailed metrics, the way AWS does:
 * v1 `methodSettings` (`*` + `/` + `*` or `~1path/METHOD`), v2 `defaultRouteSettings` / `routeSettings`.
 */
import { ACCESS_LOG_FORMAT, accessLogDestination } from './access-logs.js';
import type { Call, HandlerResult } from './call.js';
import { AwsError, decodeToken, encodeToken, fingerprint } from './wire.js';
import type { Api, ApiStage, World } from './world.js';

function notFound(message: string): AwsError {
  return new AwsError('NotFoundException', message, 404);
}
function badRequest(message: string): AwsError {
  return new AwsError('BadRequestException', message, 400);
}

function page<T>(
  items: readonly T[],
  token: string | null,
  size: number,
  fp: string,
): { page: T[]; next?: string } {
  const start = token === null ? 0 : decodeToken(token, fp);
  if (start === undefined) throw badRequest('Invalid pagination token.');
  const slice = items.slice(start, start + size);
  return start + size < items.length ? { page: slice, next: encodeToken(start + size, fp) } : { page: slice };
}

function methodSettings(api: Api, stage: ApiStage): Record<string, unknown> {
  const all =
    api.routes.length > 0 && api.routes.every((r) => stage.detailed.includes(`${r.resource} ${r.method}`));
  const setting = (metricsEnabled: boolean) => ({
    metricsEnabled,
    loggingLevel: 'OFF',
    dataTraceEnabled: false,
    throttlingBurstLimit: 5000,
    throttlingRateLimit: 10000,
    cachingEnabled: false,
    cacheTtlInSeconds: 300,
    cacheDataEncrypted: false,
    requireAuthorizationForCacheControl: true,
    unauthorizedCacheControlHeaderStrategy: 'SUCCEED_WITH_RESPONSE_HEADER',
  });
  if (all) return { '*/*': setting(true) };
  return Object.fromEntries(
    stage.detailed.map((key) => {
      const [resource = '/', method = 'GET'] = key.split(' ');
      return [`${resource.replace(/\//g, '~1')}/${method}`, setting(true)];
    }),
  );
}

export class ApiGatewayService {
  constructor(private readonly world: World) {}

  handle(call: Call): HandlerResult {
    const key = `${call.service}:${call.operation}`;
    switch (key) {
      case 'apigateway:GetRestApis':
        return this.getRestApis(call);
      case 'apigateway:GetStages':
        return this.getRestStages(call);
      case 'apigateway:GetTags':
      case 'apigatewayv2:GetTags':
        return this.getTags(call);
      case 'apigatewayv2:GetApis':
        return this.getApis(call);
      case 'apigatewayv2:GetStages':
        return this.getV2Stages(call);
      default:
        throw new AwsError(
          'UnknownOperationException',
          `Operation ${call.operation} is not supported by the emulator`,
          400,
        );
    }
  }

  private getRestApis(call: Call): HandlerResult {
    const limitRaw = call.query.get('limit');
    const limit = limitRaw === null ? 25 : Number(limitRaw);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500)
      throw badRequest('Invalid limit: must be between 1 and 500.');
    const apis = this.world.apis(call.account, call.region, 'REST');
    const { page: items, next } = page(
      apis,
      call.query.get('position'),
      limit,
      fingerprint(['rest', call.account, call.region]),
    );
    return {
      body: JSON.stringify({
        item: items.map((api) => ({
          id: api.id,
          name: api.name,
          createdDate: Math.floor(api.createdMs / 1000),
          apiKeySource: 'HEADER',
          endpointConfiguration: { types: ['REGIONAL'] },
          disableExecuteApiEndpoint: false,
          rootResourceId: api.id.slice(0, 6),
          tags: api.tags,
        })),
        ...(next ? { position: next } : {}),
      }),
    };
  }

  private restApi(call: Call): Api {
    const id = call.pathParams[0] ?? '';
    const api = this.world.apis(call.account, call.region, 'REST').find((a) => a.id === id);
    if (!api) throw notFound(`Invalid API identifier specified ${call.account}:${id}`);
    return api;
  }

  private getRestStages(call: Call): HandlerResult {
    const api = this.restApi(call);
    return {
      body: JSON.stringify({
        item: api.stages.map((s) => ({
          stageName: s.name,
          ...this.accessLogSettings(api, s),
          deploymentId: s.name.slice(0, 3) + api.id.slice(0, 3),
          cacheClusterEnabled: false,
          cacheClusterStatus: 'NOT_AVAILABLE',
          methodSettings: methodSettings(api, s),
          tracingEnabled: false,
          tags: s.tags,
          createdDate: Math.floor(s.createdMs / 1000),
          lastUpdatedDate: Math.floor(s.createdMs / 1000),
        })),
      }),
    };
  }

  /** A stage's access-log settings, when it has access logging (v1 and v2 use the same member names). */
  private accessLogSettings(api: Api, stage: ApiStage): Record<string, unknown> {
    const destination = accessLogDestination(this.world, api, stage);
    return destination
      ? { accessLogSettings: { destinationArn: destination, format: ACCESS_LOG_FORMAT } }
      : {};
  }

  private getTags(call: Call): HandlerResult {
    const arn = call.pathParams[0] ?? '';
    const found = this.world.apiByArn(arn);
    const versionMatches = found && (call.service === 'apigateway') === (found.api.kind === 'REST');
    if (!found || !versionMatches || found.api.account !== call.account || found.api.region !== call.region) {
      throw notFound(`Invalid resource identifier specified ${arn}`);
    }
    return { body: JSON.stringify({ tags: found.stage ? found.stage.tags : found.api.tags }) };
  }

  private getApis(call: Call): HandlerResult {
    const max = call.query.get('maxResults');
    const size = max === null ? 100 : Number(max);
    if (!Number.isInteger(size) || size < 1 || size > 500)
      throw badRequest('maxResults must be between 1 and 500.');
    const apis = this.world.apis(call.account, call.region).filter((a) => a.kind !== 'REST');
    const { page: items, next } = page(
      apis,
      call.query.get('nextToken'),
      size,
      fingerprint(['v2', call.account, call.region, size]),
    );
    return {
      body: JSON.stringify({
        items: items.map((api) => ({
          apiId: api.id,
          name: api.name,
          protocolType: api.kind,
          apiEndpoint: `${api.kind === 'HTTP' ? 'https' : 'wss'}://${api.id}.execute-api.${api.region}.amazonaws.com`,
          apiKeySelectionExpression: '$request.header.x-api-key',
          routeSelectionExpression:
            api.kind === 'HTTP' ? '$request.method $request.path' : '$request.body.action',
          createdDate: new Date(api.createdMs).toISOString(),
          disableExecuteApiEndpoint: false,
          tags: api.tags,
        })),
        ...(next ? { nextToken: next } : {}),
      }),
    };
  }

  private getV2Stages(call: Call): HandlerResult {
    const id = call.pathParams[0] ?? '';
    const api = this.world.apis(call.account, call.region).find((a) => a.id === id && a.kind !== 'REST');
    if (!api) throw notFound(`Invalid API identifier specified ${id}`);
    const { page: stages, next } = page(
      api.stages,
      call.query.get('nextToken'),
      100,
      fingerprint(['v2stages', api.id]),
    );
    return {
      body: JSON.stringify({
        items: stages.map((s) => {
          const all = api.routes.every((r) => s.detailed.includes(r.resource));
          return {
            stageName: s.name,
            ...this.accessLogSettings(api, s),
            autoDeploy: s.name === '$default',
            createdDate: new Date(s.createdMs).toISOString(),
            lastUpdatedDate: new Date(s.createdMs).toISOString(),
            defaultRouteSettings: {
              detailedMetricsEnabled: all && s.detailed.length > 0,
              dataTraceEnabled: false,
            },
            routeSettings: all
              ? {}
              : Object.fromEntries(s.detailed.map((r) => [r, { detailedMetricsEnabled: true }])),
            stageVariables: {},
            tags: s.tags,
          };
        }),
        ...(next ? { nextToken: next } : {}),
      }),
    };
  }
}
