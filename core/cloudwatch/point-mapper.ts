import type { SampleEmitter } from '../check/check.js';
import { NOTHING_SEEN } from '../state/cursor-store.js';
import type { EmittedPoint } from './integration.js';
import type { QueryResult } from './metric-data-fetcher.js';
import type { PlannedQuery, QueryProgress } from './planned-query.js';

export interface MappedQuery {
  /** Points emitted now. */
  readonly count: number;
  /** Newest period start emitted now (0: none). */
  readonly newest: number;
  /** Every period start now known to be sent at or after the watermark (`progress.seen` if nothing new). */
  readonly seen: readonly number[];
  /** Points refused: outside the asked window, or off the period grid. */
  readonly refused: number;
}

/**
 * Maps the points of one query not sent before to Datadog samples (one per row of its metric table,
 * with the CloudWatch timestamp) and emits them. A CloudWatch answer is never trusted to move a cursor
 * past what was asked: points outside [startMs, endMs) or off the period grid are refused and counted.
 * Points of inspected queries are also handed to `inspected`.
 */
export function mapQueryPoints(
  query: PlannedQuery,
  progress: QueryProgress,
  result: QueryResult,
  window: { readonly startMs: number; readonly endMs: number; readonly periodMs: number },
  submit: SampleEmitter,
  inspected: EmittedPoint[],
): MappedQuery {
  let seen = progress.seen;
  let copied = false;
  // One options object for the query's points: the submitter reads it synchronously and keeps nothing.
  let options: { timestamp: number; tags: readonly string[]; identityTags: number } | undefined;
  let count = 0;
  let newest = 0;
  let refused = 0;
  for (let i = 0; i < result.timestamps.length; i++) {
    const t = result.timestamps[i]!;
    const value = result.values[i]!;
    if (t < window.startMs || t >= window.endMs || t % window.periodMs !== 0) {
      refused++;
      continue;
    }
    if (query.inspected) {
      inspected.push({
        emitted: query.emitted,
        series: query.series,
        statistic: query.statistic,
        timestamp: t,
        value,
      });
    }
    if (!query.emitted || t < progress.w || seen.includes(t)) continue;
    if (!copied) {
      // Exactly as long as needed: most queries add one point to an empty list.
      seen = seen.length === 0 ? [t] : [...seen, t];
      copied = true;
    } else (seen as number[]).push(t);
    options ??= { timestamp: 0, tags: query.tags.tags, identityTags: query.tags.identity };
    options.timestamp = t / 1000;
    for (const row of query.rows) {
      if (row.type === 'count') submit.count(row.metricName, value, options);
      else submit.gauge(row.metricName, value, options);
    }
    count++;
    if (t > newest) newest = t;
  }
  return { count, newest, seen, refused };
}

/** The window bounds of a watermark's advance. */
export interface SettleBounds {
  readonly endMs: number;
  readonly now: number;
  readonly periodMs: number;
  readonly lateHorizonMs: number;
}

/**
 * The new watermark after a run: past every period that was emitted or that is older than the late
 * horizon (a gap in CloudWatch), stopping at the first period whose point may still arrive.
 */
export function advanceWatermark(
  progress: QueryProgress,
  emitted: ReadonlySet<number>,
  endMs: number,
  now: number,
  periodMs: number,
  lateHorizonMs: number,
): QueryProgress {
  const list = [...emitted];
  const w = settledWatermark(progress.w, list, { endMs, now, periodMs, lateHorizonMs });
  return { w, seen: [...pendingAfter(list, w)] };
}

/** advanceWatermark's watermark, from a list of emitted period starts (a handful at most). */
export function settledWatermark(from: number, emitted: readonly number[], bounds: SettleBounds): number {
  let w = from;
  while (w < bounds.endMs) {
    if (!emitted.includes(w) && bounds.now - (w + bounds.periodMs) < bounds.lateHorizonMs) break;
    w += bounds.periodMs;
  }
  return w;
}

/** The emitted period starts still at or after `w`, ascending; the shared empty list when none. */
export function pendingAfter(emitted: readonly number[], w: number): readonly number[] {
  // Usually the watermark passed them all: nothing is allocated then.
  let any = false;
  for (let i = 0; i < emitted.length && !any; i++) any = emitted[i]! >= w;
  if (!any) return NOTHING_SEEN;
  return emitted.filter((t) => t >= w).sort((a, b) => a - b);
}
