import type { Event as LookupEvent } from '@aws-sdk/client-cloudtrail';

/**
 * One CloudTrail management event as the events source sees it: what LookupEvents returns, with the
 * fields of its `CloudTrailEvent` JSON that name the change and who made it. Request parameters are read
 * only to name the resource (function or API): they MUST NOT reach an event's text, since they may hold
 * secrets (a function's environment variables).
 */
export interface TrailRecord {
  readonly id: string;
  /** Event time, ms since the epoch (CloudTrail's `EventTime`, whole seconds). */
  readonly timeMs: number;
  readonly eventSource: string;
  /** As CloudTrail names it, with its API-version suffix: `UpdateFunctionCode20150331v2`. */
  readonly eventName: string;
  /** The operation without the suffix: `UpdateFunctionCode`. */
  readonly operation: string;
  readonly region: string;
  readonly errorCode?: string;
  readonly errorMessage?: string;
  /** Who made the call: the identity's ARN, else its principal, else the user name LookupEvents gives. */
  readonly actor: string;
  /** Resource names LookupEvents lists (`Resources[].ResourceName`). */
  readonly resourceNames: readonly string[];
  /** `requestParameters` and `responseElements`: for naming the resource only. */
  readonly request: Readonly<Record<string, unknown>>;
  readonly response: Readonly<Record<string, unknown>>;
}

/**
 * The operation of a CloudTrail event name: Lambda suffixes its API version (`UpdateFunctionCode20150331v2`,
 * `CreateFunction20150331`, `PublishVersion20150331`); other services do not. Matching on the operation keeps
 * working when AWS publishes a new version.
 */
export function operationOf(eventName: string): string {
  return eventName.replace(/\d{8}(v\d+)?$/, '');
}

const asRecord = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};

const asString = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

/** A LookupEvents event as a TrailRecord; undefined if it lacks an ID or a time (never sent). */
export function parseTrailRecord(event: LookupEvent, region: string): TrailRecord | undefined {
  if (!event.EventId || !event.EventTime || !event.EventName) return undefined;
  let detail: Record<string, unknown> = {};
  try {
    detail = asRecord(JSON.parse(event.CloudTrailEvent ?? '{}'));
  } catch {
    // An unreadable detail still names the event; the actor falls back to the user name.
  }
  const identity = asRecord(detail['userIdentity']);
  const actor =
    asString(identity['arn']) ??
    asString(identity['principalId']) ??
    asString(identity['invokedBy']) ??
    event.Username ??
    'unknown';
  return {
    id: event.EventId,
    timeMs: event.EventTime.getTime(),
    eventSource: event.EventSource ?? asString(detail['eventSource']) ?? '',
    eventName: event.EventName,
    operation: operationOf(event.EventName),
    region: asString(detail['awsRegion']) ?? region,
    errorCode: asString(detail['errorCode']),
    errorMessage: asString(detail['errorMessage']),
    actor,
    resourceNames: (event.Resources ?? []).map((r) => r.ResourceName ?? '').filter((n) => n !== ''),
    request: asRecord(detail['requestParameters']),
    response: asRecord(detail['responseElements']),
  };
}
