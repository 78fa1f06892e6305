import type { CheckRunContext } from '../check/check.js';
import type { Logger } from '../log/logger.js';
import type { EmittedPoint, RegionContext } from './integration.js';
import type { FetchedMetricData } from './metric-data-fetcher.js';
import {
  type Batch,
  describeError,
  EMPTY_BATCH,
  type PlannedQuery,
  type QueryProgress,
} from './planned-query.js';
import {
  type MappedQuery,
  mapQueryPoints,
  pendingAfter,
  type SettleBounds,
  settledWatermark,
} from './point-mapper.js';
import { CursorCommitter, type QueryCursors } from './query-cursors.js';
import type { MetricRequestTicket } from './shared-metric-requests.js';

/** Concurrent GetMetricData requests per region and instance; the token bucket bounds the rate. */
const FETCH_CONCURRENCY = 4;
/** Batches handed to the sink but not yet settled, before fetching waits: bounds the sink's queue. */
const MAX_UNSETTLED_BATCHES = 8;

type FetchedBatch = FetchedMetricData;

/** What fetching, mapping and committing a region's batches did. */
export interface RegionOutcome {
  datapoints: number;
  newestPeriodEnd: number;
  failedBatches: number;
  firstError?: string;
  undelivered: number;
  firstDeliveryError?: string;
  stateError?: Error;
  /** Points CloudWatch returned outside the asked window or off the period grid. */
  outsideWindow: number;
  readonly inspected: EmittedPoint[];
}

/** What one region's collection works with. */
export interface RegionCollectionParts {
  /** This run's place in the GetMetricData requests it shares with other instances (same client). */
  readonly requests: MetricRequestTicket;
  readonly cursors: QueryCursors;
  readonly run: CheckRunContext;
  readonly context: RegionContext;
  readonly logger: Logger;
  /** Fault-injection hook of the restart tests (see core/fault-injection.ts). */
  readonly crashPoint: (name: string) => void;
}

/**
 * Fetch → map → commit for one region's batches of one run: a few workers fetch batches under the rate
 * limiter; each fetched batch is mapped to samples, one delivery group per query; a query's cursor is
 * committed as soon as that query's own samples were accepted by the sink. A SIGKILL while a batch is on
 * the wire therefore re-sends at most the queries of the datagram in flight. A batch that fails to fetch
 * or deliver keeps its cursors: its window is asked again next run.
 */
export class RegionCollection {
  readonly outcome: RegionOutcome = {
    datapoints: 0,
    newestPeriodEnd: 0,
    failedBatches: 0,
    undelivered: 0,
    outsideWindow: 0,
    inspected: [],
  };
  private readonly committer: CursorCommitter;
  private readonly problemsSeen = new Set<string>();

  constructor(
    private readonly parts: RegionCollectionParts,
    private readonly bounds: SettleBounds,
  ) {
    this.committer = new CursorCommitter(parts.cursors);
  }

  async collect(batches: Batch[]): Promise<RegionOutcome> {
    let next = 0;
    const unsettled: Promise<void>[] = [];
    const worker = async (): Promise<void> => {
      while (next < batches.length) {
        const index = next++;
        const taken = batches[index]!;
        // Released as soon as taken: a run holds only the batches not yet fetched or not yet settled.
        batches[index] = EMPTY_BATCH;
        const settled = await this.fetchAndEmit(taken);
        if (settled === undefined) continue;
        unsettled.push(settled);
        if (unsettled.length >= MAX_UNSETTLED_BATCHES) await unsettled.shift();
      }
    };
    await Promise.all(Array.from({ length: Math.min(FETCH_CONCURRENCY, batches.length) }, () => worker()));
    await Promise.all(unsettled);
    if (this.committer.stateError) this.outcome.stateError = this.committer.stateError;
    return this.outcome;
  }

  /**
   * One batch, fetched then emitted; resolves when every query of it settled. A function of its own so
   * that nothing of the batch (the answer, its points) stays referenced from the worker's frame while
   * the worker waits for the next one.
   */
  private async fetchAndEmit(batch: Batch): Promise<Promise<void> | undefined> {
    const { run } = this.parts;
    let release = (): void => undefined;
    if (!run.dryRun) {
      try {
        // Nothing is sent after a record could not be written, nor without room for this batch's.
        release = this.parts.cursors.reserve(batch.queries.length);
      } catch (error) {
        this.committer.fail(error);
        return undefined;
      }
    }
    let fetched: FetchedBatch;
    try {
      fetched = await this.parts.requests.fetch(
        batch.queries,
        batch.progress[0]!.w,
        this.bounds.endMs,
        run.signal,
      );
    } catch (error) {
      this.outcome.failedBatches++;
      this.outcome.firstError ??= describeError(error);
      this.parts.logger.warn(
        `${this.parts.context.region}: GetMetricData failed after retries; the window is fetched again next run: ${describeError(error)}`,
      );
      release();
      return undefined;
    }
    const settled = this.emitBatch(batch, fetched, release);
    if (settled === undefined) release();
    return settled;
  }

  /** Emits a fetched batch, one delivery group per query; resolves once every query settled. */
  private emitBatch(batch: Batch, fetched: FetchedBatch, release: () => void): Promise<void> | undefined {
    const { run, context } = this.parts;
    if (fetched.unknownIds.length > 0) {
      context.warn(
        `${context.region}: GetMetricData returned unknown query ids (${fetched.unknownIds.slice(0, 3).join(', ')}); ignored`,
      );
    }
    let unsettled = batch.queries.length;
    let allSettled: () => void = () => undefined;
    const settled = new Promise<void>((resolve) => (allSettled = resolve));
    const onQuerySettled = (): void => {
      if (--unsettled > 0) return;
      release();
      allSettled();
    };
    this.parts.crashPoint('before-emit');
    const window = {
      startMs: batch.progress[0]!.w,
      endMs: this.bounds.endMs,
      periodMs: this.bounds.periodMs,
    };
    for (let i = 0; i < batch.queries.length; i++) this.emitQuery(batch, i, fetched, window, onQuerySettled);
    if (run.dryRun) return undefined;
    this.parts.crashPoint('mid-emit');
    return settled;
  }

  /** Emits one query of a batch in its own delivery group; commits its cursor once that group settled. */
  private emitQuery(
    batch: Batch,
    i: number,
    fetched: FetchedBatch,
    window: { readonly startMs: number; readonly endMs: number; readonly periodMs: number },
    onSettled: () => void,
  ): void {
    const { run, context } = this.parts;
    const query = batch.queries[i]!;
    const progress = batch.progress[i]!;
    const result = fetched.results[i]!;
    for (const problem of result.problems) {
      const key = `${query.series.metricName}:${problem}`;
      if (this.problemsSeen.has(key)) continue;
      this.problemsSeen.add(key);
      context.warn(`${context.region} ${query.series.key} ${query.statistic}: ${problem}`);
    }
    const group = run.submit.openDelivery();
    const mapped = mapQueryPoints(query, progress, result, window, group, this.outcome.inspected);
    this.outcome.outsideWindow += mapped.refused;
    this.outcome.datapoints += mapped.count;
    this.outcome.newestPeriodEnd = Math.max(
      this.outcome.newestPeriodEnd,
      mapped.newest + this.bounds.periodMs,
    );
    if (run.dryRun) return;
    let w = progress.w;
    let pending: readonly number[] | undefined;
    if (query.emitted) {
      // An incomplete answer keeps the watermark: the window is asked again, the seen set dedupes.
      if (result.complete) w = settledWatermark(progress.w, mapped.seen, this.bounds);
      const after = pendingAfter(mapped.seen, w);
      if (w !== progress.w || after.length !== progress.seen.length) pending = after;
    }
    group.onSettled((error, delivered) => {
      if (delivered !== undefined) return this.recordDeliveredPrefix(query, progress, mapped, delivered);
      if (error) {
        // Not recorded beyond the delivered prefix: the rest is fetched and sent again next run.
        this.outcome.undelivered++;
        this.outcome.firstDeliveryError ??= describeError(error);
      } else if (pending !== undefined) this.committer.recordSoon(query.id, w, pending);
      onSettled();
    }, mapped.count > 0);
  }

  /**
   * The cursor of a query whose points span datagrams, as each datagram is taken: the watermark stays,
   * the points delivered so far join its seen set. Points were emitted in order, `rows` samples each,
   * after the seen list the query had (`mapped.seen` is that list plus the new points). `progress.w`
   * is still the run's starting watermark: these records keep it, and the final one comes after them.
   */
  private recordDeliveredPrefix(
    query: PlannedQuery,
    progress: QueryProgress,
    mapped: MappedQuery,
    deliveredSamples: number,
  ): void {
    const points = Math.floor(deliveredSamples / query.rows.length);
    if (points === 0) return;
    const seen = mapped.seen.slice(0, mapped.seen.length - mapped.count + points);
    this.committer.recordSoon(query.id, progress.w, pendingAfter(seen, progress.w));
  }
}
