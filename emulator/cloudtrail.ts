/**
 * CloudTrail (AWS JSON 1.1): LookupEvents, newest first, 50 a page at most. Each function has three
 * UpdateFunctionCode events in the days before the world's creation instant; after it, functions and APIs
 * are deployed on a schedule and each event becomes visible minutes late (trail-schedule.ts).
 */
import type { Clock } from '../core/clock.js';
import { input, type Call, type HandlerResult } from './call.js';
import { mix, hashString } from './prng.js';
import { AwsError, decodeToken, encodeToken, fingerprint, parseJsonBody } from './wire.js';
import type { World } from './world.js';
import { scheduledTrailEvents, type ScheduledTrailEvent } from './trail-schedule.js';

const ATTRIBUTE_KEYS = [
  'EventId',
  'EventName',
  'ReadOnly',
  'Username',
  'ResourceType',
  'ResourceName',
  'EventSource',
  'AccessKeyId',
];

interface TrailEvent {
  EventId: string;
  EventName: string;
  ReadOnly: string;
  AccessKeyId: string;
  EventTime: number;
  EventSource: string;
  Username: string;
  Resources: { ResourceType: string; ResourceName: string }[];
  CloudTrailEvent: string;
}

export class CloudTrailService {
  constructor(
    private readonly world: World,
    private readonly clock?: Clock,
  ) {}

  handle(call: Call): HandlerResult {
    if (call.operation !== 'LookupEvents') {
      throw new AwsError(
        'UnknownOperationException',
        `Operation ${call.operation} is not supported by the emulator`,
        400,
      );
    }
    const body = parseJsonBody(call.body);
    const attributes = input.list(body, 'LookupAttributes');
    if (attributes.length > 1)
      throw new AwsError(
        'InvalidLookupAttributesException',
        'You can only specify one lookup attribute.',
        400,
      );
    const attr = attributes[0];
    const key = attr ? (input.str(attr, 'AttributeKey') ?? '') : undefined;
    const value = attr ? (input.str(attr, 'AttributeValue') ?? '') : undefined;
    if (key !== undefined && !ATTRIBUTE_KEYS.includes(key))
      throw new AwsError('InvalidLookupAttributesException', `Invalid AttributeKey ${key}.`, 400);
    const max = input.num(body, 'MaxResults') ?? 50;
    if (!Number.isInteger(max) || max < 1 || max > 50)
      throw new AwsError('InvalidMaxResultsException', 'MaxResults must be between 1 and 50.', 400);
    const startMs = typeof body['StartTime'] === 'number' ? body['StartTime'] * 1000 : -Infinity;
    const endMs = typeof body['EndTime'] === 'number' ? body['EndTime'] * 1000 : Infinity;
    if (startMs > endMs)
      throw new AwsError('InvalidTimeRangeException', 'StartTime must be before EndTime.', 400);

    const events = this.events(call.account, call.region).filter((e) => {
      if (e.EventTime * 1000 < startMs || e.EventTime * 1000 > endMs) return false;
      if (key === undefined) return true;
      if (key === 'ResourceName') return e.Resources.some((r) => r.ResourceName === value);
      if (key === 'ResourceType') return e.Resources.some((r) => r.ResourceType === value);
      const field = (e as unknown as Record<string, unknown>)[key];
      return String(field) === value;
    });
    const fp = fingerprint([call.account, call.region, key, value, startMs, endMs, max]);
    const token = input.str(body, 'NextToken');
    const start = token === undefined ? 0 : decodeToken(token, fp);
    if (start === undefined) throw new AwsError('InvalidNextTokenException', 'Invalid NextToken.', 400);
    const page = events.slice(start, start + max);
    return {
      body: JSON.stringify({
        Events: page,
        ...(start + max < events.length ? { NextToken: encodeToken(start + max, fp) } : {}),
      }),
    };
  }

  private events(account: string, region: string): TrailEvent[] {
    const out: TrailEvent[] = [];
    for (const fn of this.world.functions(account, region)) {
      for (let i = 0; i < 3; i++) {
        const h = mix(this.world.seed, hashString(fn.arn), i);
        const time = Math.floor(
          (this.world.createdAtMs - (i * 3 + 1) * 86_400_000 - (h % 86_400_000)) / 1000,
        );
        const id = `${h.toString(16).padStart(8, '0')}-${(h >>> 16).toString(16).padStart(4, '0')}-4000-8000-${fn.name.length.toString(16).padStart(12, '0')}`;
        const detail = {
          eventVersion: '1.08',
          eventTime: new Date(time * 1000).toISOString(),
          eventSource: 'lambda.amazonaws.com',
          eventName: 'UpdateFunctionCode20150331v2',
          awsRegion: region,
          requestParameters: { functionName: fn.name },
          responseElements: { functionName: fn.name, functionArn: fn.arn, version: '$LATEST' },
          recipientAccountId: account,
        };
        out.push({
          EventId: id,
          EventName: 'UpdateFunctionCode20150331v2',
          ReadOnly: 'false',
          AccessKeyId: 'ASIAEMULATORDEPLOY1',
          EventTime: time,
          EventSource: 'lambda.amazonaws.com',
          Username: 'deploy-bot',
          Resources: [{ ResourceType: 'AWS::Lambda::Function', ResourceName: fn.name }],
          CloudTrailEvent: JSON.stringify(detail),
        });
      }
    }
    const now = this.clock?.now();
    if (now !== undefined) {
      for (const e of scheduledTrailEvents(this.world, account, region, now))
        if (e.visibleAtMs <= now) out.push(toTrailEvent(e, account, region));
    }
    return out.sort((a, b) => b.EventTime - a.EventTime || (a.EventId < b.EventId ? -1 : 1));
  }
}

function toTrailEvent(e: ScheduledTrailEvent, account: string, region: string): TrailEvent {
  const readOnly = /^(Get|List)/.test(e.eventName);
  const detail = {
    eventVersion: '1.08',
    userIdentity: { type: 'AssumedRole', arn: e.identityArn, accountId: account },
    eventTime: new Date(e.timeMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    eventSource: e.eventSource,
    eventName: e.eventName,
    awsRegion: region,
    ...(e.errorCode
      ? { errorCode: e.errorCode, errorMessage: 'User is not authorized to perform this action' }
      : {}),
    requestParameters: e.requestParameters,
    responseElements: e.responseElements,
    eventID: e.id,
    readOnly,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: account,
  };
  return {
    EventId: e.id,
    EventName: e.eventName,
    ReadOnly: String(readOnly),
    AccessKeyId: 'ASIAEMULATORDEPLOY1',
    EventTime: e.timeMs / 1000,
    EventSource: e.eventSource,
    Username: 'deploy-bot',
    Resources: [{ ResourceType: e.resourceType, ResourceName: e.resourceName }],
    CloudTrailEvent: JSON.stringify(detail),
  };
}
