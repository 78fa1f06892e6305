import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { NOTHING_SEEN, CursorUpdates } from '../state/cursor-store.js';
import { MAX_QUERIES_PER_REQUEST } from './metric-data-fetcher.js';
import type { Batch, PlannedQuery, QueryProgress } from './planned-query.js';
import type { QueryCursors } from './query-cursors.js';

/** Planned queries looked at between two yields to the event loop. */
const WORK_SLICE = 5_000;
/** A cursor this far past AWS's "now" cannot have been written by a run: it is refused. */
export const FUTURE_ALLOWANCE_MS = 10 * 60_000;

/** The bounds of one run's windows (ms, on AWS's clock). */
export interface RunWindow {
  /** End of every window: floor(now − delay, period). */
  readonly endMs: number;
  /** No window starts before this (max_catchup). */
  readonly cutoffMs: number;
  /** Where a new query starts: this far before the end of the instance's first window. */
  readonly lookbackMs: number;
  /** End of the first window this instance tried (see CloudWatchEngine), if it has not succeeded yet. */
  readonly firstAttemptEndMs: number | undefined;
  /** Where reference queries (inspected, never emitted) start. */
  readonly referenceStartMs: number;
}

export interface BuiltBatches {
  /** ≤ 500 queries each, in ascending watermark order. */
  readonly batches: Batch[];
  /** Cursors this run creates: new queries, adopted legacy cursors, refused ones. */
  readonly created: CursorUpdates;
  /** Cursors refused for being more than FUTURE_ALLOWANCE_MS past the window end. */
  readonly refused: number;
  /** Queries more than max_catchup behind, moved up to the cutoff. */
  readonly clamped: number;
}

/**
 * Gives each planned query its window [cursor, end) and packs the queries with a window into
 * GetMetricData batches. Queries are grouped by watermark and batches take them in ascending watermark
 * order (plan order within one), so that the shared window of a batch stays tight; grouping instead of
 * a comparison sort, and in slices, keeps the event loop free at large scale.
 */
export async function buildBatches(
  queries: readonly PlannedQuery[],
  cursors: QueryCursors,
  window: RunWindow,
  region: string,
  dryRun: boolean,
): Promise<BuiltBatches> {
  const groups = new Map<number, Batch>();
  const reference: QueryProgress = { w: window.referenceStartMs, seen: NOTHING_SEEN };
  const created = new CursorUpdates();
  let refused = 0;
  let clamped = 0;
  for (let i = 0; i < queries.length; i++) {
    if (i % WORK_SLICE === WORK_SLICE - 1) await yieldToEventLoop();
    const query = queries[i]!;
    let progress = query.emitted ? cursors.progressOf(query.id) : reference;
    if (progress === undefined || progress.w > window.endMs + FUTURE_ALLOWANCE_MS) {
      if (progress !== undefined) refused++;
      progress = (progress === undefined && cursors.adoptLegacy(query, region, dryRun)) || {
        w: Math.min(window.endMs, window.firstAttemptEndMs ?? window.endMs) - window.lookbackMs,
        seen: NOTHING_SEEN,
      };
      created.add(query.id, progress.w, progress.seen);
    }
    if (progress.w < window.cutoffMs) {
      clamped++;
      const seen = progress.seen.filter((t) => t >= window.cutoffMs);
      progress = { w: window.cutoffMs, seen: seen.length > 0 ? seen : NOTHING_SEEN };
    }
    if (progress.w >= window.endMs) continue;
    let group = groups.get(progress.w);
    if (!group) groups.set(progress.w, (group = { queries: [], progress: [] }));
    group.queries.push(query);
    group.progress.push(progress);
  }
  return { batches: packByWatermark(groups), created, refused, clamped };
}

function packByWatermark(groups: Map<number, Batch>): Batch[] {
  const batches: Batch[] = [];
  let filling: Batch = { queries: [], progress: [] };
  for (const w of [...groups.keys()].sort((a, b) => a - b)) {
    const group = groups.get(w)!;
    for (let i = 0; i < group.queries.length; i++) {
      filling.queries.push(group.queries[i]!);
      filling.progress.push(group.progress[i]!);
      if (filling.queries.length === MAX_QUERIES_PER_REQUEST) {
        batches.push(filling);
        filling = { queries: [], progress: [] };
      }
    }
  }
  if (filling.queries.length > 0) batches.push(filling);
  groups.clear();
  return batches;
}
