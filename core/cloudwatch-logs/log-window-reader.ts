import type { LateHorizonCursor } from '../state/late-horizon-cursor.js';
import type { FilteredLogEvent, FilterLogEventsPort } from './filter-log-events.js';

export interface LogWindowRead {
  /** Events the cursor has not sent, in the order AWS returned them (none when pages go to `onPage`). */
  readonly events: FilteredLogEvent[];
  /** Whether [cursor start, endMs) was read to its last page: only then may the cursor settle. */
  readonly complete: boolean;
  /** FilterLogEvents calls made. */
  readonly calls: number;
  /** Why the read stopped early (throttled past the SDK's retries, access denied), if it did. */
  readonly error?: Error;
}

export interface LogWindowOptions {
  readonly logGroupName: string;
  readonly endMs: number;
  /** Pages per run and group; a window not finished within it is read again, whole, next run. */
  readonly maxPages: number;
  readonly pageLimit?: number;
}

/**
 * Reads one log group's window [cursor.startMs, endMs) with FilterLogEvents, page by page, and keeps
 * the events the cursor accepts (not older than its time, not already sent). A call that fails ends
 * the read as incomplete, keeping the pages read before it: they are sent and marked, and the window
 * is read again next run without repeating them.
 *
 * With `onPage`, each page's events are handed over (and awaited) before the next page is asked for,
 * instead of being collected: a window of any size then holds one page in memory, and a caller that
 * sends and records each page goes on from the last one delivered. A failing `onPage` ends the read.
 */
export async function readLogWindow(
  port: FilterLogEventsPort,
  cursor: LateHorizonCursor,
  options: LogWindowOptions,
  onPage?: (events: FilteredLogEvent[]) => Promise<void>,
): Promise<LogWindowRead> {
  const events: FilteredLogEvent[] = [];
  if (options.endMs <= cursor.startMs) return { events, complete: true, calls: 0 };
  let nextToken: string | undefined;
  let calls = 0;
  const taken = new Set<string>();
  do {
    if (calls >= options.maxPages) return { events, complete: false, calls };
    let page;
    try {
      calls++;
      page = await port.filterLogEvents({
        logGroupName: options.logGroupName,
        startTime: cursor.startMs,
        endTime: options.endMs - 1,
        ...(nextToken !== undefined ? { nextToken } : {}),
        ...(options.pageLimit !== undefined ? { limit: options.pageLimit } : {}),
      });
    } catch (error) {
      return {
        events,
        complete: false,
        calls,
        error: error instanceof Error ? error : new Error(String(error)),
      };
    }
    const accepted = onPage ? [] : events;
    for (const event of page.events) {
      if (event.timestamp >= options.endMs || taken.has(event.eventId)) continue;
      if (!cursor.accepts(event.eventId, event.timestamp)) continue;
      taken.add(event.eventId);
      accepted.push(event);
    }
    if (onPage && accepted.length > 0) await onPage(accepted);
    nextToken = page.nextToken;
  } while (nextToken !== undefined);
  return { events, complete: true, calls };
}
