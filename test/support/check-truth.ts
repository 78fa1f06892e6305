/**
 * What each check must emit for a world, stated independently of the checks' code: the exact multiset
 * of points (see world-truth.ts), per check, as the integration, reliability and soak tests hold them.
 */
import { normalizeTag } from '../../core/check/normalize.js';
import type { Series, World } from '../../emulator/index.js';
import { lambdaScope, seriesIdentity } from './emulated-collection.js';
import { expectedPoints, metricTable } from './world-truth.js';

/** Identity keys on the wire, per check. */
export const LAMBDA_KEYS = ['functionname', 'region'];
export const REKOGNITION_KEYS = ['operation', 'region'];
export const API_GATEWAY_KEYS = ['apiname', 'apiid', 'stage', 'resource', 'method', 'route', 'region'];

/** Every function-scope Lambda point (of `metrics`, Datadog names, if given) in [fromMs, toMs). */
export function lambdaTruth(
  world: World,
  fromMs: number,
  toMs: number,
  metrics?: readonly string[],
): Map<string, number> {
  return expectedPoints({
    world,
    series: world.series({ namespace: 'AWS/Lambda' }),
    rows: metricTable('amazon_lambda').filter((r) => !metrics || metrics.includes(r.metricName)),
    scopeOf: (s) => (lambdaScope(s) === 'function' ? 'function' : undefined),
    identity: seriesIdentity,
    fromMs,
    toMs,
  });
}

/**
 * Every API Gateway point of one account in [fromMs, toMs), by the selection rule stated here on its
 * own: per (api, stage, metric) the detailed series if any exist, else the stage series; never the
 * series without a Stage. Every series names its API both ways (apiname and apiid) on the wire.
 */
export function apiGatewayTruth(
  world: World,
  account: string,
  fromMs: number,
  toMs: number,
): Map<string, number> {
  const all = world.series({ account, namespace: 'AWS/ApiGateway' });
  const isDetailed = (s: Series): boolean =>
    s.dimensions.some((d) => d.Name === 'Resource' || d.Name === 'Route');
  const stageOf = (s: Series): string | undefined => {
    const d = Object.fromEntries(s.dimensions.map((x) => [x.Name, x.Value]));
    return d.Stage === undefined
      ? undefined
      : `${s.region}|${d.ApiName ?? d.ApiId}|${d.Stage}|${s.metricName}`;
  };
  const detailed = new Set(all.filter(isDetailed).map(stageOf));
  const websocketMetrics = new Set([
    'ConnectCount',
    'MessageCount',
    'ClientError',
    'ExecutionError',
    'IntegrationError',
  ]);
  const scopeOf = (s: Series): string | undefined => {
    const key = stageOf(s);
    if (key === undefined || (!isDetailed(s) && detailed.has(key))) return undefined;
    if (s.dimensions.some((d) => d.Name === 'ApiName')) return 'rest';
    return websocketMetrics.has(s.metricName) ? 'websocket' : 'http';
  };
  const rows = metricTable('amazon_api_gateway').map((r) =>
    // IntegrationLatency is published by HTTP and WebSocket APIs alike.
    r.scopes.includes('http') || r.scopes.includes('websocket')
      ? { ...r, scopes: [...new Set([...r.scopes, 'http', 'websocket'])] }
      : r,
  );
  const identity = (series: Series): string[] => {
    const d = Object.fromEntries(series.dimensions.map((x) => [x.Name, x.Value]));
    const api = world
      .apis(series.account, series.region)
      .find((a) => (d.ApiName !== undefined ? a.name === d.ApiName && a.kind === 'REST' : a.id === d.ApiId));
    return [
      ...new Set([
        ...seriesIdentity(series),
        normalizeTag(`apiname:${api!.name}`)!,
        normalizeTag(`apiid:${api!.id}`)!,
      ]),
    ];
  };
  return expectedPoints({ world, series: all, rows, scopeOf, identity, fromMs, toMs });
}
