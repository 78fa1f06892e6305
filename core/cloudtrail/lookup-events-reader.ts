import { type CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { parseTrailRecord, type TrailRecord } from './trail-record.js';

/** Pages of one read before it stops (50 events a page): the rest of the window is read next run. */
export const MAX_PAGES_PER_READ = 200;

/** What one read of [startMs, endMs) found. */
export interface LookupRead {
  /** The events of the window that LookupEvents returned, newest first. */
  readonly records: TrailRecord[];
  /**
   * Undefined when the read reached the last page. Otherwise the read stopped at the page cap: it has
   * every event at or after `resumeEndMs` (LookupEvents pages newest first), and [startMs, resumeEndMs)
   * is still to be read.
   */
  readonly resumeEndMs?: number;
}

/**
 * The management events of `eventSource` with a time in [startMs, endMs) that LookupEvents returns in
 * `region`, across pages (NextToken), at most `maxPages` pages. Throws if a page fails after the SDK's
 * retries: the caller then sends nothing of the read's window it has not marked, and reads it again.
 */
export async function lookupEvents(
  client: CloudTrailClient,
  window: {
    readonly region: string;
    readonly eventSource: string;
    readonly startMs: number;
    readonly endMs: number;
  },
  signal: AbortSignal,
  maxPages = MAX_PAGES_PER_READ,
): Promise<LookupRead> {
  const { region, eventSource, startMs, endMs } = window;
  const records: TrailRecord[] = [];
  let token: string | undefined;
  let oldestMs = endMs;
  for (let page = 0; page < maxPages; page++) {
    const answer = await client.send(
      new LookupEventsCommand({
        LookupAttributes: [{ AttributeKey: 'EventSource', AttributeValue: eventSource }],
        // LookupEvents takes whole seconds and includes both ends: the end is asked one second early.
        StartTime: new Date(Math.floor(startMs / 1000) * 1000),
        EndTime: new Date(Math.ceil(endMs / 1000) * 1000 - 1000),
        MaxResults: 50,
        NextToken: token,
      }),
      { abortSignal: signal },
    );
    for (const event of answer.Events ?? []) {
      const record = parseTrailRecord(event, region);
      if (!record) continue;
      oldestMs = Math.min(oldestMs, record.timeMs);
      if (record.timeMs >= startMs && record.timeMs < endMs) records.push(record);
    }
    token = answer.NextToken;
    if (!token) return { records };
  }
  // The oldest second read may have more events on the next page: it is read again (the cursor's seen
  // IDs keep what was sent from being sent twice).
  const resumeEndMs = Math.floor(oldestMs / 1000) * 1000 + 1000;
  if (resumeEndMs >= endMs)
    throw new Error(
      `LookupEvents: more than ${maxPages} pages in the second before ${new Date(endMs).toISOString()}`,
    );
  return { records, resumeEndMs };
}
