/**
 * API Gateway access logs, consistent with the world's CloudWatch metrics: one JSON line per request of
 * the stage's Count for the minute, in the format the integration's documentation gives, the first of
 * them answered 4xx and 5xx as many times as the stage's 4XXError/5XXError (REST) or 4xx/5xx (HTTP) say.
 * WebSocket stages log no access lines here. A stage whose hash says so has no access logging at all, so
 * that discovery has something to leave out.
 */
import type { LogLine } from './lambda-logs.js';
import { hashString, mix, unit4 } from './prng.js';
import type { Api, ApiStage, World } from './world.js';

const MINUTE = 60_000;

/** Whether the stage writes access logs, and where (the ARN its access-log settings hold). */
export function accessLogDestination(world: World, api: Api, stage: ApiStage): string | undefined {
  if (api.kind === 'WEBSOCKET' || mix(world.seed, hashString(stage.arn), 0xacc) % 4 === 3) return undefined;
  return `arn:aws:logs:${api.region}:${api.account}:log-group:API-Gateway-Access-Logs_${api.id}/${stage.name}`;
}

/** The access-log group name of a destination ARN. */
export function logGroupOfArn(arn: string): string {
  return arn.replace(/^arn:[^:]+:logs:[^:]+:\d{12}:log-group:/, '').replace(/:\*$/, '');
}

/** The format the integration's documentation gives, for the stage settings. */
export const ACCESS_LOG_FORMAT =
  '{ "apiId": "$context.apiId", "stage": "$context.stage", "requestId":"$context.requestId", ' +
  '"ip":"$context.identity.sourceIp", "caller":"$context.identity.caller", "user":"$context.identity.user", ' +
  '"requestTime":$context.requestTimeEpoch, "httpMethod":"$context.httpMethod", ' +
  '"resourcePath":"$context.resourcePath", "status":$context.status, "protocol":"$context.protocol", ' +
  '"responseLength":$context.responseLength }';

function minuteSum(world: World, api: Api, stage: ApiStage, metric: string, minuteMs: number): number {
  const dimensions: Record<string, string> =
    api.kind === 'REST' ? { ApiName: api.name, Stage: stage.name } : { ApiId: api.id, Stage: stage.name };
  const series = world.find(api.account, api.region, 'AWS/ApiGateway', metric, dimensions);
  return Math.round((series ? world.datapoint(series, minuteMs, 60)?.Sum : undefined) ?? 0);
}

/** The access-log lines of the requests received in the minute beginning at `minuteMs`. */
export function accessLogLines(world: World, api: Api, stage: ApiStage, minuteMs: number): LogLine[] {
  const n = minuteSum(world, api, stage, 'Count', minuteMs);
  if (n === 0) return [];
  const rest = api.kind === 'REST';
  const client = Math.min(n, minuteSum(world, api, stage, rest ? '4XXError' : '4xx', minuteMs));
  const server = Math.min(n - client, minuteSum(world, api, stage, rest ? '5XXError' : '5xx', minuteMs));
  const seed = mix(world.seed, hashString(stage.arn), Math.floor(minuteMs / MINUTE));
  const stream = `${mix(seed, 0x57).toString(16).padStart(8, '0')}${hashString(stage.arn).toString(16).padStart(8, '0')}`;
  const lines: LogLine[] = [];
  for (let i = 0; i < n; i++) {
    const h = mix(seed, i);
    const route = api.routes[h % Math.max(1, api.routes.length)];
    // REST: a resource and its method; HTTP: a route key, `GET /items`.
    const [method, path] = route?.method
      ? [route.method, route.resource]
      : (route?.resource.split(' ') ?? ['GET', '/']);
    const requestTime = minuteMs + Math.floor(((i + unit4(h, 0, 0, 1)) / n) * MINUTE);
    const status = i < client ? 404 : i < client + server ? 502 : 200;
    const message = JSON.stringify({
      apiId: api.id,
      stage: stage.name,
      requestId: `${h.toString(16).padStart(8, '0')}-${i.toString(16).padStart(4, '0')}-4000-8000-${seed.toString(16).padStart(12, '0')}`,
      ip: `198.51.100.${h % 250}`,
      caller: '-',
      user: '-',
      requestTime,
      httpMethod: method ?? 'GET',
      resourcePath: path ?? '/',
      status,
      protocol: 'HTTP/1.1',
      responseLength: status === 200 ? 200 + (h % 4000) : 40,
    });
    lines.push({ timestamp: requestTime, logStreamName: stream, message });
  }
  return lines;
}
