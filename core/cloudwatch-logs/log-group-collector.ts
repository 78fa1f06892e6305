import type { DeliveryGroup } from '../check/check.js';
import type { LogRecord } from '../logs-sink/log-record.js';
import { Delivery } from '../sink/delivery.js';
import { afterSettlement } from '../sink/settlement.js';
import { cursorId } from '../state/cursor-id.js';
import { type CursorStore, CursorUpdates } from '../state/cursor-store.js';
import { LateHorizonCursor } from '../state/late-horizon-cursor.js';
import type { FilteredLogEvent, FilterLogEventsPort } from './filter-log-events.js';
import { type LogGroupTarget, logRecordOf } from './log-group-target.js';
import { MinuteAggregates } from './log-minute-metrics.js';
import { type LogProcessingRules, unprocessedPage } from './log-processing-rules.js';
import { readLogWindow } from './log-window-reader.js';

/**
 * The late horizon of CloudWatch Logs: each run reads again the last 10 minutes before "now", so an
 * event that becomes readable up to 10 minutes after its own timestamp is still sent, once (the IDs
 * sent within the horizon are kept in the cursor). An event ingested later than that is not read.
 * CloudWatch Logs accepts events up to 2 hours old (PutLogEvents), but Lambda's and API Gateway's
 * own delivery is typically seconds behind; the horizon is the stated limit of this source, and its
 * cost is re-reading 10 minutes per group per run (idle groups: one empty FilterLogEvents page).
 */
export const LOGS_LATE_HORIZON_MS = 10 * 60_000;

/** Where a source hands its records: the runner's submitter (a source never sees a socket). */
export interface LogRecordSubmitter {
  submit(record: LogRecord, delivery?: Delivery): void;
  /** Resolves when the sink can take `records` more without dropping what it holds. */
  room?(records: number): Promise<void>;
  /** A group of metric samples delivered as a whole (a target's derived per-minute metrics). */
  openMetrics?(): DeliveryGroup;
}

export interface LogCollectionContext {
  readonly port: FilterLogEventsPort;
  readonly sink: LogRecordSubmitter;
  readonly store: CursorStore;
  readonly checkName: string;
  readonly instanceName: string | undefined;
  /** How far back the first run of a new group reads. */
  readonly lookbackMs: number;
  readonly horizonMs?: number;
  /** FilterLogEvents pages per group and run. */
  readonly maxPages: number;
  readonly pageLimit?: number;
  /** `dogwatch check`: read and send, record nothing. */
  readonly dryRun?: boolean;
  /** The instance's log_processing_rules, applied to each page before it is sent (none: sent as read). */
  readonly rules?: Pick<LogProcessingRules, 'processPage'>;
}

export interface LogGroupRun {
  /** Records sent (after log_processing_rules). */
  readonly sent: number;
  /** Events read and handled: sent, joined into another by multi_line, or excluded. */
  readonly handled: number;
  /** Records a rule dropped (exclude_at_match, include_at_match). */
  readonly excluded: number;
  readonly calls: number;
  /** False when the page budget ran out: the rest of the window is read next run. */
  readonly complete: boolean;
}

/** The stored `w` of aggregates whose metrics were turned off (see openGroupState). */
const RETIRED = -1;

/** Journal bytes per mark in a cursor (`"<13-digit time>|<56-digit event id>",`), generous. */
const JOURNAL_BYTES_PER_ID = 96;

/**
 * A group's cursor and, when its target derives metrics, its per-minute aggregates: both are recorded
 * in one journal line, so a page counts in the aggregates exactly when its lines count as sent.
 */
interface GroupState {
  readonly id: string;
  cursor: LateHorizonCursor;
  readonly metricsId?: string;
  aggregates?: MinuteAggregates;
}

/**
 * One run over one log group: reads what the cursor has not sent up to `nowMs`, page by page, sends
 * each page and records the advanced cursor only once every line of it was written to the Agent's
 * socket (in the delivery's continuation, with journal space reserved before sending; see
 * deliverPage). A failed delivery records nothing more: the rest of the window is read again next run
 * and the cursor filters what was already sent. A FilterLogEvents call that fails throws, after the
 * pages read before it were sent and recorded. A complete window settles the cursor, and then sends the
 * target's derived minutes that can no longer change (sendSettledMinutes).
 */
export async function collectLogGroup(
  context: LogCollectionContext,
  target: LogGroupTarget,
  nowMs: number,
): Promise<LogGroupRun> {
  const state = openGroupState(context, target, nowMs);
  const cursor = state.cursor.copy();
  let sent = 0;
  let handled = 0;
  let excluded = 0;
  const read = await readLogWindow(
    context.port,
    cursor,
    {
      logGroupName: target.logGroupName,
      endMs: nowMs,
      maxPages: context.maxPages,
      ...(context.pageLimit !== undefined ? { pageLimit: context.pageLimit } : {}),
    },
    async (events) => {
      const page = await deliverPage(context, target, state, events);
      sent += page.sent;
      excluded += page.excluded;
      handled += events.length;
    },
  );
  if (read.complete) {
    state.cursor.settle(nowMs, context.horizonMs ?? LOGS_LATE_HORIZON_MS);
    if (!context.dryRun) recordReserved(context.store, updatesOf(state.id, state.cursor.toStored()));
    if (!read.error) await sendSettledMinutes(context, target, state);
  }
  if (read.error) throw read.error;
  // A record written at a settlement's end (see CursorStore.record) reports its failure through the store.
  if (!context.dryRun && context.store.writeError) throw context.store.writeError;
  return { sent, handled, excluded, calls: read.calls, complete: read.complete };
}

/**
 * The group's stored state, or a new one written before anything is read (a crash in the first run
 * cannot move where it starts). New aggregates count from the first whole minute the group is read
 * from; beside a cursor that already existed (the option just turned on, or on again), from the next
 * minute, whose events cannot have been sent yet.
 */
function openGroupState(context: LogCollectionContext, target: LogGroupTarget, nowMs: number): GroupState {
  const { store } = context;
  const key = [
    context.checkName,
    context.instanceName ?? '',
    target.accountId,
    target.region,
    target.logGroupName,
  ];
  const id = store.canonicalId(cursorId(['log', ...key]));
  const stored = store.get(id);
  const cursor = stored
    ? LateHorizonCursor.fromStored(stored)
    : LateHorizonCursor.startingAt(nowMs - context.lookbackMs);
  const updates = new CursorUpdates();
  if (!stored) updates.add(id, cursor.toStored().w, cursor.toStored().seen);
  if (context.dryRun) return { id, cursor };
  const metricsId = store.canonicalId(cursorId(['log-metrics', ...key]));
  const storedMetrics = store.get(metricsId);
  const live = storedMetrics !== undefined && storedMetrics.w !== RETIRED;
  if (!target.metrics) {
    // Turned off: the pages read from now on miss the aggregates, so they are retired; turned on again,
    // they start afresh at the next minute instead of sending minutes that lack those pages.
    if (live) updates.add(metricsId, RETIRED, []);
    recordReserved(store, updates);
    return { id, cursor };
  }
  const aggregates =
    live && storedMetrics
      ? MinuteAggregates.fromStored(storedMetrics)
      : MinuteAggregates.startingAt(stored ? nowMs : cursor.startMs);
  if (!live) updates.add(metricsId, aggregates.fromMs, []);
  recordReserved(store, updates);
  return { id, cursor, metricsId, aggregates };
}

/**
 * Sends one page's events and, once every line was written to the Agent's socket, marks them sent in
 * the group's cursor and records it (journal space reserved before sending), with the page's
 * measurements added to the group's aggregates in the same journal line. One page at a time keeps what
 * a group puts in the sink's bounded queue to a page, and a window larger than the queue goes on from
 * the last page delivered instead of starting over. A failed delivery records nothing and throws.
 * The log_processing_rules are applied here and only here: every event of the page is marked in the
 * cursor, whether it was sent, joined into another record by multi_line or dropped by a rule, so an
 * excluded event is handled once and never read again as unsent; masking happens before submit, so
 * a masked value never reaches the sink. A page whose events a rule all dropped still records its cursor.
 */
async function deliverPage(
  context: LogCollectionContext,
  target: LogGroupTarget,
  state: GroupState,
  events: readonly FilteredLogEvent[],
): Promise<{ sent: number; excluded: number }> {
  const page = context.rules ? context.rules.processPage(events) : unprocessedPage(events);
  const whole = pageOutcome(state, target, events);
  const release = context.dryRun ? () => undefined : context.store.reserve(journalBytes(whole.updates));
  try {
    await context.sink.room?.(page.records.length);
  } catch (error) {
    release();
    throw error;
  }
  const delivery = new Delivery();
  try {
    for (const { event, message } of page.records)
      context.sink.submit(
        logRecordOf(target, message === event.message ? event : { ...event, message }),
        delivery,
      );
  } catch (error) {
    release();
    throw error;
  }
  let finished = false;
  let delivered = 0;
  let queued = false;
  // A page larger than what the socket takes at once: what each settlement delivered is recorded
  // then (events up to the last delivered record, and those a rule dropped), so a kill between two
  // writes repeats none of it. Once per settlement, not per line.
  // The prefix's cursor and aggregates grow with each settlement (one copy per page, each event once).
  let prefix: { cursor: LateHorizonCursor; aggregates: MinuteAggregates | undefined } | undefined;
  let recorded = 0;
  const recordPrefix = (): void => {
    queued = false;
    if (finished) return;
    const first = prefix === undefined;
    prefix ??= { cursor: state.cursor.copy(), aggregates: state.aggregates?.copy() };
    for (let i = 0; i < events.length; i++) {
      const record = page.recordOfEvent[i]!;
      // A dropped event (-1) is handled with the first prefix; a sent one once its record is delivered.
      if (record < 0 ? first : record >= recorded && record < delivered)
        handleEvent(prefix, target, events[i]!);
    }
    recorded = delivered;
    context.store.record(outcomeUpdates(state, prefix));
  };
  await settled(
    (callback) =>
      delivery.onSettled(
        (error, count) => {
          if (count === undefined) return callback(error);
          delivered = count;
          if (!queued) afterSettlement(recordPrefix);
          queued = true;
        },
        context.dryRun ? undefined : page.records.length,
      ),
    release,
    () => {
      finished = true;
      if (!context.dryRun) context.store.record(whole.updates);
    },
  );
  state.cursor = whole.cursor;
  if (whole.aggregates) state.aggregates = whole.aggregates;
  return { sent: page.records.length, excluded: page.excluded };
}

/**
 * The group's cursor and aggregates once the page's events (those `covered`, else all) are handled,
 * and their journal updates (one line for both).
 */
function pageOutcome(
  state: GroupState,
  target: LogGroupTarget,
  events: readonly FilteredLogEvent[],
): { cursor: LateHorizonCursor; aggregates: MinuteAggregates | undefined; updates: CursorUpdates } {
  const outcome = { cursor: state.cursor.copy(), aggregates: state.aggregates?.copy() };
  for (const event of events) handleEvent(outcome, target, event);
  return { ...outcome, updates: outcomeUpdates(state, outcome) };
}

/** Marks an event sent in a cursor and adds its measurement to the aggregates beside it. */
function handleEvent(
  into: { cursor: LateHorizonCursor; aggregates: MinuteAggregates | undefined },
  target: LogGroupTarget,
  event: FilteredLogEvent,
): void {
  into.cursor.markSent(event.eventId, event.timestamp);
  const measurement = into.aggregates && target.metrics?.measure(event);
  if (measurement) into.aggregates!.add(measurement);
}

/** The journal updates of a group's cursor and aggregates (one line for both). */
function outcomeUpdates(
  state: GroupState,
  outcome: { cursor: LateHorizonCursor; aggregates: MinuteAggregates | undefined },
): CursorUpdates {
  const updates = updatesOf(state.id, outcome.cursor.toStored());
  if (state.metricsId && outcome.aggregates) {
    const stored = outcome.aggregates.toStored();
    updates.add(state.metricsId, stored.w, stored.seen);
  }
  return updates;
}

/**
 * Sends the target's minutes that can no longer change — the cursor's start has passed their end plus
 * the target's span, so no event of theirs can be read again — as one delivery group of timestamped
 * samples, and records the aggregates without them once the Agent's socket took every sample. A
 * failure records nothing: the same minutes, with the same values, are sent next run.
 */
async function sendSettledMinutes(
  context: LogCollectionContext,
  target: LogGroupTarget,
  state: GroupState,
): Promise<void> {
  const { metrics } = target;
  const { sink } = context;
  if (!metrics || !state.aggregates || !state.metricsId || context.dryRun || !sink.openMetrics) return;
  const after = state.aggregates.copy();
  const samples = after.takeSettled(state.cursor.startMs, metrics.spanMs, metrics.outputs);
  if (after.fromMs === state.aggregates.fromMs) return;
  const updates = updatesOf(state.metricsId, after.toStored());
  const release = context.store.reserve(journalBytes(updates));
  const group = sink.openMetrics();
  try {
    for (const s of samples)
      group[s.type](s.metric, s.value, {
        tags: s.tags,
        identityTags: s.identityTags,
        timestamp: s.timestamp,
      });
  } catch (error) {
    release();
    throw error;
  }
  await settled(group.onSettled.bind(group), release, () => context.store.record(updates));
  state.aggregates = after;
}

/** Waits for a delivery; records in its continuation (nothing comes between delivered and recorded). */
function settled(
  onSettled: (callback: (error?: Error) => void) => void,
  release: () => void,
  record: () => void,
): Promise<void> {
  return new Promise<void>((resolve, reject) =>
    onSettled((error) => {
      try {
        if (error) return reject(error);
        record();
        resolve();
      } catch (recordError) {
        reject(recordError instanceof Error ? recordError : new Error(String(recordError)));
      } finally {
        release();
      }
    }),
  );
}

function updatesOf(id: string, stored: { w: number; seen: string[] }): CursorUpdates {
  const updates = new CursorUpdates();
  updates.add(id, stored.w, stored.seen);
  return updates;
}

/** Journal bytes for `updates`, generous: a mark's JSON escaping at most doubles it. */
function journalBytes(updates: CursorUpdates): number {
  let bytes = 0;
  for (let i = 0; i < updates.size; i++) {
    bytes += updates.ids[i]!.length + 64;
    for (const mark of updates.seen[i]!) bytes += Math.max(JOURNAL_BYTES_PER_ID, 2 * String(mark).length + 8);
  }
  return bytes;
}

function recordReserved(store: CursorStore, updates: CursorUpdates): void {
  if (updates.size === 0) return;
  const release = store.reserve(journalBytes(updates));
  try {
    store.record(updates);
  } finally {
    release();
  }
}
