/**
 * CloudWatch Logs (AWS JSON 1.1, `Logs_20140328.<Operation>`): FilterLogEvents over the world's log
 * groups (log-groups.ts) by logGroupName, startTime and endTime (both inclusive, as AWS's), `limit` (1 to
 * 10,000) and at most 1 MB a page, `nextToken` paging. A token pins the instant of the first page, so the
 * pages of one query neither skip nor repeat events that are ingested while they are read; the next query
 * sees them. An unknown group is AWS's ResourceNotFoundException. Throttling comes from the emulator's
 * quota (FilterLogEvents 5/s) and its fault rules.
 */
import type { Clock } from '../core/clock.js';
import { input, type Call, type HandlerResult } from './call.js';
import type { WorldLogs } from './log-groups.js';
import { AwsError, decodeToken, encodeToken, fingerprint, parseJsonBody } from './wire.js';

const MAX_PAGE_EVENTS = 10_000;
const MAX_PAGE_BYTES = 1024 * 1024;

export class CloudWatchLogsService {
  constructor(
    private readonly logs: WorldLogs,
    private readonly clock: Clock,
  ) {}

  handle(call: Call): HandlerResult {
    if (call.operation !== 'FilterLogEvents')
      throw new AwsError(
        'UnknownOperationException',
        `Operation ${call.operation} is not supported by the emulator`,
        400,
      );
    const body = parseJsonBody(call.body);
    const group = input.str(body, 'logGroupName');
    if (group === undefined)
      throw new AwsError('InvalidParameterException', 'logGroupName or logGroupIdentifier is required', 400);
    const limit = input.num(body, 'limit') ?? MAX_PAGE_EVENTS;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_EVENTS)
      throw new AwsError('InvalidParameterException', 'limit must be between 1 and 10000', 400);
    const startMs = input.num(body, 'startTime') ?? 0;
    const endMs = input.num(body, 'endTime') ?? Number.MAX_SAFE_INTEGER;
    if (startMs > endMs)
      throw new AwsError('InvalidParameterException', 'endTime must be after startTime', 400);
    const fp = fingerprint([call.account, call.region, group, startMs, endMs, limit]);
    const { asOfMs, offset } = this.position(input.str(body, 'nextToken'), fp);
    const events = this.logs.events(call.account, call.region, group, { startMs, endMs, asOfMs });
    if (events === undefined)
      throw new AwsError('ResourceNotFoundException', 'The specified log group does not exist.', 400);
    const page = [];
    let bytes = 0;
    for (let i = offset; i < events.length && page.length < limit; i++) {
      const event = events[i]!;
      bytes += Buffer.byteLength(event.message) + 26;
      if (bytes > MAX_PAGE_BYTES && page.length > 0) break;
      page.push(event);
    }
    const next = offset + page.length;
    return {
      body: JSON.stringify({
        events: page,
        searchedLogStreams: [],
        ...(next < events.length ? { nextToken: `${asOfMs}.${encodeToken(next, fp)}` } : {}),
      }),
    };
  }

  private position(token: string | undefined, fp: string): { asOfMs: number; offset: number } {
    // Whole milliseconds: a scaled clock has fractions, and the token is `<asOf>.<base64>`.
    if (token === undefined) return { asOfMs: Math.floor(this.clock.now()), offset: 0 };
    const dot = token.lastIndexOf('.');
    const asOfMs = Number(token.slice(0, dot));
    const offset = dot > 0 ? decodeToken(token.slice(dot + 1), fp) : undefined;
    if (offset === undefined || !Number.isFinite(asOfMs))
      throw new AwsError('InvalidParameterException', 'The specified nextToken is not valid.', 400);
    return { asOfMs, offset };
  }
}
