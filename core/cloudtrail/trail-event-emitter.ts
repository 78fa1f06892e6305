import type { CheckRunContext } from '../check/check.js';
import type { LateHorizonCursor } from '../state/late-horizon-cursor.js';
import { afterSettlement } from '../sink/settlement.js';
import type { TrailDescribeContext, TrailEventSelection } from './trail-event-selection.js';
import type { TrailRecord } from './trail-record.js';

/** Events handed to the sink before waiting for them to settle: bounds the journal space reserved at once. */
const EVENTS_PER_CHUNK = 50;

export interface TrailEmitParts<R> {
  readonly selection: TrailEventSelection<R>;
  readonly describeContext: TrailDescribeContext<R>;
  readonly region: string;
  readonly run: CheckRunContext;
  /** Marks sent IDs; the caller's copy of the cursor. */
  readonly cursor: LateHorizonCursor;
  /** Writes the cursor to the shared store (synchronously, in the delivery's continuation). */
  readonly record: () => void;
  /** Reserves journal room for a chunk of `events` events; returns its release. Throws StateWriteError. */
  readonly reserve: (events: number) => () => void;
  /** Fault injection for the restart tests (core/fault-injection.ts): `event-before-emit`, `event-after-record`. */
  readonly crashPoint: (name: string) => void;
}

export interface TrailEmitOutcome {
  sent: number;
  failed: number;
  firstError?: string;
}

/**
 * Sends `records` (oldest first) as Datadog events, one delivery group each, in chunks: an event's ID is
 * marked in the cursor and the cursor recorded as soon as the sink accepted that event (the records of one
 * turn of the event loop coalesced into one journal record, written before control returns to it). An
 * event the sink did not accept is not marked: the next run sends it again.
 */
export async function emitTrailEvents<R>(
  records: readonly TrailRecord[],
  parts: TrailEmitParts<R>,
): Promise<TrailEmitOutcome> {
  const outcome: TrailEmitOutcome = { sent: 0, failed: 0 };
  for (let start = 0; start < records.length; start += EVENTS_PER_CHUNK) {
    const chunk = records.slice(start, start + EVENTS_PER_CHUNK);
    const release = parts.run.dryRun ? () => undefined : parts.reserve(chunk.length);
    try {
      await emitChunk(chunk, parts, outcome);
    } finally {
      release();
    }
  }
  return outcome;
}

function emitChunk<R>(
  chunk: readonly TrailRecord[],
  parts: TrailEmitParts<R>,
  outcome: TrailEmitOutcome,
): Promise<void> {
  const { run, cursor } = parts;
  let unsettled = chunk.length;
  let recordQueued = false;
  return new Promise<void>((resolve) => {
    if (unsettled === 0) resolve();
    const settledOne = (): void => {
      if (--unsettled === 0) resolve();
    };
    if (chunk.length > 0) parts.crashPoint('event-before-emit');
    for (const record of chunk) {
      const description = parts.selection.describe(record, parts.describeContext);
      if (!description) {
        settledOne();
        continue;
      }
      const group = run.submit.openDelivery();
      group.event(description.title, eventText(record), {
        timestamp: Math.floor(record.timeMs / 1000),
        aggregationKey: description.aggregationKey,
        sourceTypeName: parts.selection.sourceType,
        alertType: record.errorCode ? 'error' : 'info',
        tags: [
          ...description.tags,
          `region:${parts.region}`,
          `aws_account:${parts.describeContext.accountId}`,
          `event_name:${record.operation}`,
        ],
      });
      group.onSettled((error) => {
        if (error) {
          outcome.failed++;
          outcome.firstError ??= error.message;
        } else {
          outcome.sent++;
          if (!run.dryRun) {
            cursor.markSent(record.id, record.timeMs);
            if (!recordQueued) {
              recordQueued = true;
              afterSettlement(() => {
                recordQueued = false;
                parts.record();
                afterSettlement(() => parts.crashPoint('event-after-record'), 'after');
              });
            }
          }
        }
        settledOne();
      });
    }
  });
}

/**
 * Who made the change and what came of it; never request parameters (they may hold secrets such as a
 * function's environment variables) nor credentials (the access key ID is left out too).
 */
export function eventText(record: TrailRecord): string {
  const lines = [`${record.eventName} by ${record.actor}`];
  if (record.errorCode) lines.push(`Failed: ${record.errorCode}`);
  lines.push(`CloudTrail event ${record.id} at ${new Date(record.timeMs).toISOString()}`);
  return lines.join('\n');
}
