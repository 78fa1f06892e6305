/**
 * The world's CloudWatch Logs: the log groups of every function (its LoggingConfig group, Lambda@Edge
 * replicas' `/aws/lambda/us-east-1.<name>` where they run) and of every stage with access logging, and
 * their events, a pure function of the world's seed and the minute (lambda-logs.ts, access-logs.ts).
 *
 * Each event is ingested some time after its timestamp: most within 15 s, a quarter within 2 minutes,
 * one in twenty 2 to 6 minutes late; FilterLogEvents shows an event only once it is ingested, so a reader
 * sees events appear late and out of order. Logs begin an hour before the world's creation instant.
 */
import { accessLogDestination, accessLogLines, logGroupOfArn } from './access-logs.js';
import { invocationLines, lambdaInvocations, lambdaLoggingConfig, type LogLine } from './lambda-logs.js';
import { hashString, mix } from './prng.js';
import type { World } from './world.js';

const MINUTE = 60_000;

/** One event as FilterLogEvents returns it. */
export interface EmulatedLogEvent {
  readonly eventId: string;
  readonly timestamp: number;
  readonly ingestionTime: number;
  readonly logStreamName: string;
  readonly message: string;
}

type MinuteLines = (minuteMs: number) => LogLine[];

/** Minutes of events kept computed (a 15-minute window over a few dozen groups fits many times). */
const CACHE_MINUTES = 4096;

export class WorldLogs {
  private readonly groups = new Map<string, Map<string, MinuteLines>>();
  private readonly cache = new Map<string, EmulatedLogEvent[]>();

  constructor(private readonly world: World) {}

  /** The log group names of an account and region. */
  groupNames(account: string, region: string): string[] {
    return [...this.groupsOf(account, region).keys()];
  }

  /** Events of `group` with a timestamp in [startMs, endMs] ingested by `asOfMs`; undefined: no such group. */
  events(
    account: string,
    region: string,
    group: string,
    range: { startMs: number; endMs: number; asOfMs: number },
  ): EmulatedLogEvent[] | undefined {
    const lines = this.groupsOf(account, region).get(group);
    if (!lines) return undefined;
    const first = Math.max(range.startMs, this.world.createdAtMs - 60 * MINUTE);
    const last = Math.min(range.endMs, range.asOfMs);
    const out: EmulatedLogEvent[] = [];
    // An invocation that began in the minute before `first` may end (and log) inside the range.
    for (let minute = Math.floor(first / MINUTE) * MINUTE - MINUTE; minute <= last; minute += MINUTE) {
      for (const event of this.minute(account, region, group, lines, minute)) {
        if (event.timestamp < range.startMs || event.timestamp > range.endMs) continue;
        if (event.ingestionTime <= range.asOfMs) out.push(event);
      }
    }
    return out.sort((a, b) => a.timestamp - b.timestamp || (a.eventId < b.eventId ? -1 : 1));
  }

  private minute(
    account: string,
    region: string,
    group: string,
    lines: MinuteLines,
    minuteMs: number,
  ): EmulatedLogEvent[] {
    const key = `${account}|${region}|${group}|${minuteMs}`;
    let events = this.cache.get(key);
    if (events) return events;
    const groupHash = hashString(`${account}|${region}|${group}`);
    events = lines(minuteMs).map((line, i) => {
      const h = mix(this.world.seed, groupHash, minuteMs / MINUTE, i);
      return {
        eventId: eventId(line.timestamp, groupHash, minuteMs / MINUTE, i),
        timestamp: line.timestamp,
        ingestionTime: line.timestamp + ingestionLagMs(h),
        logStreamName: line.logStreamName,
        message: line.message,
      };
    });
    if (this.cache.size >= CACHE_MINUTES) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, events);
    return events;
  }

  private groupsOf(account: string, region: string): Map<string, MinuteLines> {
    const key = `${account}|${region}`;
    let groups = this.groups.get(key);
    if (!groups) {
      groups = this.buildGroups(account, region);
      this.groups.set(key, groups);
    }
    return groups;
  }

  private buildGroups(account: string, region: string): Map<string, MinuteLines> {
    const world = this.world;
    const groups = new Map<string, MinuteLines>();
    const location = { account, region };
    for (const fn of world.functions(account, region)) {
      const config = lambdaLoggingConfig(world, fn);
      groups.set(config.LogGroup, (minuteMs) =>
        lambdaInvocations(world, fn, fn.name, location, minuteMs).flatMap((inv) =>
          invocationLines(inv, config.LogFormat),
        ),
      );
    }
    for (const replica of world.edgeReplicas(account, region)) {
      groups.set(`/aws/lambda/${replica.name}`, (minuteMs) =>
        lambdaInvocations(world, replica.master, replica.name, location, minuteMs).flatMap((inv) =>
          invocationLines(inv, 'Text'),
        ),
      );
    }
    for (const api of world.apis(account, region)) {
      for (const stage of api.stages) {
        const destination = accessLogDestination(world, api, stage);
        if (destination)
          groups.set(logGroupOfArn(destination), (minuteMs) => accessLogLines(world, api, stage, minuteMs));
      }
    }
    return groups;
  }
}

/** Ingestion lag: 70 % 0.5–15 s, 25 % 15 s–2 min, 5 % 2–6 min (within dogwatch's 10-minute horizon). */
function ingestionLagMs(h: number): number {
  const bucket = h % 20;
  const r = (h >>> 8) % 1_000_000;
  if (bucket < 14) return 500 + (r % 14_500);
  if (bucket < 19) return 15_000 + (r % 105_000);
  return 120_000 + (r % 240_000);
}

/** 56 digits, as AWS's event IDs: unique per group, minute and line. */
function eventId(timestamp: number, groupHash: number, minute: number, index: number): string {
  return (
    String(timestamp).padStart(16, '0') +
    String(groupHash).padStart(10, '0') +
    String(minute).padStart(10, '0') +
    String(index).padStart(20, '0')
  );
}
