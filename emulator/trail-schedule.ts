/**
 * The world's management events after its creation: every function and API is deployed on a schedule of
 * its own (a deterministic function of the world's seed), and each event reaches LookupEvents some minutes
 * after its time, as CloudTrail's are ("typically within 5 minutes", up to about 15). So a reader that
 * asks for the last minutes sees events appear late and out of order.
 */
import { hashString, mix } from './prng.js';
import type { Api, LambdaFunction, World } from './world.js';

const MINUTE = 60_000;

/** One management event with the instant it becomes visible to LookupEvents. */
export interface ScheduledTrailEvent {
  readonly id: string;
  readonly eventName: string;
  readonly eventSource: string;
  readonly timeMs: number;
  readonly visibleAtMs: number;
  readonly resourceType: string;
  readonly resourceName: string;
  readonly identityArn: string;
  readonly errorCode?: string;
  readonly requestParameters: Record<string, unknown>;
  readonly responseElements: Record<string, unknown> | null;
}

/** Minutes from an event's time to its visibility: mostly 1–6, one in five 7–14. */
function deliveryDelayMs(h: number): number {
  const slow = h % 5 === 0;
  return (slow ? 7 * MINUTE + (h % (7 * MINUTE)) : MINUTE + (h % (5 * MINUTE))) - (h % 1000);
}

function eventId(h: number, salt: string): string {
  const hex = (n: number, width: number): string => (n >>> 0).toString(16).padStart(width, '0').slice(-width);
  const g = mix(h, hashString(salt));
  return `${hex(h, 8)}-${hex(g >>> 8, 4)}-4${hex(g, 3)}-8${hex(h >>> 4, 3)}-${hex(g, 8)}${hex(h >>> 12, 4)}`;
}

/** A deployer whose session name has non-ASCII in it (AWS allows only [\w+=,.@-]; the emulator is kinder). */
const deployer = (account: string): string =>
  `arn:aws:sts::${account}:assumed-role/deploy-bot/zoë.müller@example.com`;

/** Deployment instants of a resource in [fromMs, toMs): every 9–24 minutes from an offset of its own. */
function deployments(world: World, key: string, toMs: number): number[] {
  const h = mix(world.seed, hashString(key), 0x7e);
  const every = (9 + (h % 16)) * MINUTE;
  const out: number[] = [];
  for (let t = world.createdAtMs + 4 * MINUTE + (h % every); t < toMs && out.length < 10_000; t += every)
    out.push(t - (t % 1000));
  return out;
}

function functionEvents(world: World, fn: LambdaFunction, toMs: number): ScheduledTrailEvent[] {
  const out: ScheduledTrailEvent[] = [];
  deployments(world, fn.arn, toMs).forEach((t, k) => {
    const h = mix(world.seed, hashString(fn.arn), k);
    const names =
      k % 3 === 2
        ? ['UpdateFunctionConfiguration20150331v2', 'GetFunction20150331v2']
        : [
            'UpdateFunctionCode20150331v2',
            'PublishVersion20150331',
            'UpdateAlias20150331',
            'TagResource20170331',
          ];
    names.forEach((eventName, i) => {
      const e = mix(h, i);
      const failed = i === 0 && h % 7 === 3;
      out.push({
        id: eventId(e, fn.arn),
        eventName,
        eventSource: 'lambda.amazonaws.com',
        timeMs: t + i * 20_000,
        visibleAtMs: t + i * 20_000 + deliveryDelayMs(e),
        resourceType: 'AWS::Lambda::Function',
        resourceName: fn.name,
        identityArn: deployer(fn.account),
        ...(failed ? { errorCode: 'AccessDenied' } : {}),
        requestParameters: eventName.startsWith('UpdateAlias')
          ? { functionName: fn.arn, name: 'live' }
          : { functionName: fn.name },
        responseElements: failed ? null : { functionName: fn.name, functionArn: fn.arn },
      });
    });
  });
  return out;
}

function apiEvents(world: World, api: Api, toMs: number): ScheduledTrailEvent[] {
  const out: ScheduledTrailEvent[] = [];
  const stage = api.stages[0]?.name ?? 'prod';
  const v1 = api.kind === 'REST';
  deployments(world, api.arn, toMs).forEach((t, k) => {
    const h = mix(world.seed, hashString(api.arn), k);
    ['CreateDeployment', 'UpdateStage', 'GetStages'].forEach((eventName, i) => {
      const e = mix(h, i);
      const request =
        eventName === 'CreateDeployment' && v1
          ? { restApiId: api.id, createDeploymentInput: { stageName: stage } }
          : v1
            ? { restApiId: api.id, stageName: stage }
            : { apiId: api.id, stageName: stage };
      out.push({
        id: eventId(e, api.arn),
        eventName,
        eventSource: 'apigateway.amazonaws.com',
        timeMs: t + i * 15_000,
        visibleAtMs: t + i * 15_000 + deliveryDelayMs(e),
        resourceType: v1 ? 'AWS::ApiGateway::RestApi' : 'AWS::ApiGatewayV2::Api',
        resourceName: api.id,
        identityArn: deployer(api.account),
        requestParameters: request,
        responseElements: {},
      });
    });
  });
  return out;
}

/** Every scheduled event of an account and region with a time before `toMs`, visible or not yet. */
export function scheduledTrailEvents(
  world: World,
  account: string,
  region: string,
  toMs: number,
): ScheduledTrailEvent[] {
  return [
    ...world.functions(account, region).flatMap((fn) => functionEvents(world, fn, toMs)),
    ...world.apis(account, region).flatMap((api) => apiEvents(world, api, toMs)),
  ].filter((e) => e.timeMs < toMs);
}
