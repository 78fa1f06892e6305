import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import {
  type Dimension as CloudWatchDimension,
  ListMetricsCommand,
  type Metric,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import { GetResourcesCommand } from '@aws-sdk/client-resource-groups-tagging-api';
import type { CheckRunContext, InstanceInfo, SampleEmitter } from '../check/check.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../log/logger.js';
import { AwsCallStats, awsCallScope } from '../aws/aws-call-stats.js';
import { PermissionDeniedError } from '../aws/permission-denied.js';
import type { AwsAccess, AwsClientFactory } from '../aws/aws-client-factory.js';
import { crashPoint } from '../runtime/crash-points.js';
import type { SelfTelemetry } from '../runtime/self-telemetry.js';
import { type CloudWatchInstanceOptions, NameFilter } from './engine-options.js';
import type { CloudWatchIntegration, EmittedPoint, RegionContext, ScopeRule } from './integration.js';
import { fetchMetricData, MAX_QUERIES_PER_REQUEST, type QueryResult } from './metric-data-fetcher.js';
import type { MetricRow } from './metric-table.js';
import { dimensionSignature, type Series, SeriesInterner } from './series.js';
import { TtlCache } from './ttl-cache.js';
import { cursorId, legacyQueryId, sha1 } from '../state/cursor-id.js';
import { type CursorStore, CursorUpdates, type LegacyOwner, NOTHING_SEEN } from '../state/cursor-store.js';

/** Concurrent GetMetricData requests per region and instance; the token bucket bounds the rate. */
const FETCH_CONCURRENCY = 4;
/** Series handled between two yields to the event loop while a plan is built. */
const PLAN_SLICE = 500;
/** Planned queries looked at between two yields while a run's batches are formed (state pruned, a previous plan indexed). */
const WORK_SLICE = 5_000;
/** A generous size of one query's cursor in a journal record (id, watermark, a pending period or two). */
const JOURNAL_BYTES_PER_QUERY = 64;
/** Batches handed to the sink but not yet flushed, before fetching waits: bounds the sink's queue. */
const MAX_UNFLUSHED_BATCHES = 8;

type InstanceConfig = Readonly<CloudWatchInstanceOptions & Record<string, unknown>>;

/**
 * One (series × statistic) to collect, with everything needed to emit its points. Built when first
 * planned, kept by every later plan while its series, rows and tags stay the same, and reused by every
 * run: a run allocates nothing per query that outlives it.
 */
interface PlannedQuery {
  /** Cursor id (see queryCursorId). Empty for reference queries. */
  readonly id: string;
  readonly series: Series;
  readonly statistic: string;
  /** Shared by every query with the same metric, statistic and scopes. */
  readonly rows: readonly MetricRow[];
  /** Shared by every query of the series' resource; the same array for every point (see tagsOf). */
  readonly tags: SeriesTags;
  /** False for reference queries (fetched for inspection, never emitted, no watermark). */
  readonly emitted: boolean;
  /** Its points go to the integration's inspectPoints. */
  readonly inspected: boolean;
  /** The GetMetricData query itself, with an Id unique within the plan. */
  readonly request: MetricDataQuery;
}

type FetchedBatch = Awaited<ReturnType<typeof fetchMetricData>>;

/** One GetMetricData request of a run: queries and their progress, as parallel lists. */
interface Batch {
  readonly queries: PlannedQuery[];
  readonly progress: QueryProgress[];
}
const EMPTY_BATCH: Batch = { queries: [], progress: [] };
const NO_ROWS: readonly MetricRow[] = Object.freeze([]);

/** A series' tags: the identifying ones (dimensions, region, account) first, then descriptive ones. */
interface SeriesTags {
  readonly tags: readonly string[];
  /** How many leading tags identify the series: the runtime never trims those to fit a datagram. */
  readonly identity: number;
}
const NO_SERIES_TAGS: SeriesTags = Object.freeze({ tags: Object.freeze([]), identity: 0 });

interface RegionPlan<R> {
  readonly version: string;
  readonly queries: readonly PlannedQuery[];
  /** Tag lists by content (NUL-joined): the next plan shares them, so its queries can be the same. */
  readonly tagLists: ReadonlyMap<string, SeriesTags>;
  readonly inventory: readonly {
    readonly values: Readonly<Record<string, number>>;
    readonly tags: SeriesTags;
  }[];
  readonly resources: R;
}

export interface RunSummary {
  readonly queries: number;
  readonly datapoints: number;
  readonly requests: number;
  readonly failures: readonly string[];
}

/**
 * Progress of one query: `w` is the end of its last settled period (ms); `seen` lists period starts
 * ≥ w already sent (points that arrived while an earlier period is still awaited). A view of the
 * query's CursorEntry, whose marks are numbers for metric cursors.
 */
export interface QueryProgress {
  readonly w: number;
  readonly seen: readonly number[];
}

/** A watermark this far past AWS's "now" cannot have been written by a run: it is refused. */
const FUTURE_ALLOWANCE_MS = 10 * 60_000;
/** The wall clock differing from AWS's by more than this is worth a warning. */
const SKEW_WARNING_MS = 30_000;

/** Process-wide services the engine shares between instances. */
export interface EngineServices {
  readonly clients: AwsClientFactory;
  readonly clock: Clock;
  readonly cursors: CursorStore;
  readonly telemetry?: SelfTelemetry;
}

/**
 * Collects every CloudWatch datapoint of an integration exactly once, for one instance.
 *
 * Per run and region: discover series (ListMetrics, cached), plan one query per (series, statistic)
 * of the metric table, then ask each query for [watermark, end) where end = floor(now − delay, period).
 * Queries are packed 500 to a GetMetricData request (cost is per metric requested, whatever the window,
 * so one shared window per batch costs nothing extra). Points are emitted once, batch by batch; a batch's
 * new watermarks are journaled only after the sink has flushed it.
 *
 * It knows nothing of any integration: everything specific comes from the CloudWatchIntegration.
 */
export class CloudWatchEngine<R = unknown> {
  private readonly store: CursorStore;
  private readonly legacyOwner: LegacyOwner;
  private readonly access: AwsAccess;
  private readonly discovery: TtlCache<Series[]>;
  private readonly resources: TtlCache<R>;
  private readonly tags: TtlCache<Map<string, Record<string, string>>>;
  private readonly plans = new Map<string, RegionPlan<R>>();
  /** Rows by statistic, per (metric, scopes): fixed by the configuration, shared by every plan. */
  private readonly rowsByKind = new Map<string, [string, MetricRow[]][]>();
  /** Numbers GetMetricData query Ids: never reused, so a query kept from an older plan keeps a unique Id. */
  private queryNumber = 0;
  private readonly rowsByMetric: Map<string, MetricRow[]>;
  private readonly scopeBySignature: Map<string, ScopeRule>;
  private readonly metricFilter: NameFilter;
  private readonly statisticFilter: NameFilter;
  private readonly resourceFilter: NameFilter;
  private currentWarnings: ((message: string) => void) | undefined;
  private currentDryRun = false;
  /** Optional discovery IAM denies, by feature: the warning each run repeats until it is allowed. */
  private readonly degraded = new Map<string, string>();
  /** The wall clock's skew from AWS's at the last run, to log a step once. */
  private lastSkewMs = 0;
  /**
   * End of the first window this instance tried, kept until a run fully succeeds: if the first runs
   * fail before any query exists (AssumeRole denied, ListMetrics failing), new queries still start
   * where the instance started. Once they exist, their cursors are on disk.
   */
  private firstAttemptEndMs: number | undefined;

  constructor(
    private readonly integration: CloudWatchIntegration<R>,
    private readonly config: InstanceConfig,
    private readonly info: InstanceInfo,
    private readonly logger: Logger,
    private readonly services: EngineServices,
  ) {
    this.store = services.cursors;
    this.legacyOwner = legacyOwnerOf(info);
    this.access = {
      roleArn: config.role_arn,
      externalId: config.external_id,
      endpointUrl: config.endpoint_url,
    };
    const onRefreshError = (key: string, error: unknown): void => {
      this.logger.warn(`background refresh of ${key} failed, keeping the cached copy: ${describe(error)}`);
    };
    this.discovery = new TtlCache(services.clock, onRefreshError);
    this.resources = new TtlCache(services.clock, onRefreshError);
    this.tags = new TtlCache(services.clock, onRefreshError);
    this.metricFilter = new NameFilter(config.metrics);
    this.statisticFilter = new NameFilter(config.statistics);
    this.resourceFilter = new NameFilter(
      config.include || config.exclude ? { include: config.include, exclude: config.exclude } : undefined,
    );

    this.scopeBySignature = new Map();
    for (const rule of integration.scopes) {
      if (rule.enabled && !rule.enabled(config)) continue;
      this.scopeBySignature.set(dimensionSignature(rule.dimensions), rule);
    }
    this.rowsByMetric = new Map();
    for (const row of integration.metrics) {
      if (!row.cloudwatchMetric || !row.statistic) continue;
      if (!this.metricFilter.accepts(row.metricName, row.cloudwatchMetric)) continue;
      if (!this.statisticFilter.accepts(row.statistic)) continue;
      const list = this.rowsByMetric.get(row.cloudwatchMetric) ?? [];
      list.push(row);
      this.rowsByMetric.set(row.cloudwatchMetric, list);
    }
  }

  private get periodMs(): number {
    return this.config.period * 1000;
  }

  async run(context: CheckRunContext): Promise<RunSummary> {
    // Until it succeeds once, every run loads the state again: a run must not collect without it.
    for (const warning of await this.store.load()) context.submit.warning(warning);
    // Before anything is sent: the state folder can be written (after a full disk, everything in
    // memory is written again first), or the run fails saying which file and how to fix it.
    if (!context.dryRun) await this.store.prepareToWrite();
    const stats = new AwsCallStats();
    this.currentWarnings = (message) => context.submit.warning(message);
    this.currentDryRun = context.dryRun;
    try {
      return await awsCallScope.run({ stats, signal: context.signal }, () => this.collect(context, stats));
    } finally {
      this.currentWarnings = undefined;
    }
  }

  private async collect(context: CheckRunContext, stats: AwsCallStats): Promise<RunSummary> {
    const windowEnd = (at: number): number =>
      Math.floor((at - this.config.delay * 1000) / this.periodMs) * this.periodMs;
    // Before any AWS call can fail: where this instance started (see firstAttemptEndMs).
    if (!context.dryRun) this.firstAttemptEndMs ??= windowEnd(this.services.clients.serverTime.now());
    const accountId = await this.services.clients.accountId(this.access);
    // AWS's time, not the wall clock's: see ServerTime. The call above brought a Date if none came yet.
    const now = this.services.clients.serverTime.now();
    this.noticeClockSkew(context);
    const endMs = windowEnd(now);
    const regions =
      this.config.regions === 'all'
        ? await this.services.clients.enabledRegions(this.access)
        : this.config.regions;

    const failures: string[] = [];
    let datapoints = 0;
    let queries = 0;
    let newestPeriodEnd = 0;
    await Promise.all(
      regions.map(async (region) => {
        try {
          const result = await this.collectRegion(region, accountId, now, endMs, context);
          datapoints += result.datapoints;
          queries += result.queries;
          newestPeriodEnd = Math.max(newestPeriodEnd, result.newestPeriodEnd);
          if (result.failedBatches > 0) {
            failures.push(
              `${region}: ${result.failedBatches} GetMetricData batch(es) failed (${result.firstError})`,
            );
          }
          if (result.stateError) failures.push(`${region}: ${result.stateError.message}`);
          if (result.undelivered > 0) {
            failures.push(
              `${region}: the points of ${result.undelivered} queries were not delivered; they are fetched again next run (${result.firstDeliveryError})`,
            );
          }
        } catch (error) {
          failures.push(`${region}: ${describe(error)}`);
        }
      }),
    );
    for (const warning of this.degraded.values()) context.submit.warning(warning);
    if (!context.dryRun) await this.store.compactIfDue();

    const requests = stats.callsByOperation().GetMetricData ?? 0;
    if (failures.length === 0) this.firstAttemptEndMs = undefined;
    if (!context.dryRun) this.reportSelfMetrics(stats, { datapoints, queries, now, newestPeriodEnd });
    if (failures.length > 0) {
      // The failed windows keep their watermarks and are fetched again next run.
      throw new Error(`collection incomplete — ${failures.sort().join('; ')}`);
    }
    return { queries, datapoints, requests, failures };
  }

  private regionContext(region: string, accountId: string, signal: AbortSignal): RegionContext {
    return {
      region,
      accountId,
      access: this.access,
      clients: this.services.clients,
      config: this.config,
      logger: this.logger,
      signal,
      resourceTags: (types, otherRegion) => this.resourceTags(types, otherRegion ?? region),
      warn: (message) => {
        if (this.currentWarnings) this.currentWarnings(message);
        else this.logger.warn(message);
      },
      selfMetric: (metric, type, value, tags = []) => {
        if (!this.currentDryRun)
          this.services.telemetry?.instanceMetric(this.info, metric, type, value, [
            ...tags,
            `region:${region}`,
          ]);
      },
    };
  }

  private async collectRegion(
    region: string,
    accountId: string,
    now: number,
    endMs: number,
    run: CheckRunContext,
  ): Promise<{
    datapoints: number;
    queries: number;
    newestPeriodEnd: number;
    failedBatches: number;
    firstError?: string;
    undelivered: number;
    firstDeliveryError?: string;
    stateError?: Error;
  }> {
    const context = this.regionContext(region, accountId, run.signal);
    const plan = await this.plan(context);
    for (const item of plan.inventory) {
      for (const [metric, value] of Object.entries(item.values))
        run.submit.gauge(metric, value, { tags: item.tags.tags, identityTags: item.tags.identity });
    }

    const periodMs = this.periodMs;
    const cutoff = endMs - this.config.max_catchup * 1000;
    const lookbackMs = align(
      Math.max(this.config.lookback ?? this.config.period, this.config.period) * 1000,
      periodMs,
    );
    let clamped = 0;
    // Queries with a window to ask, grouped by watermark: batches take them in ascending watermark order
    // (plan order within one watermark), so the shared window of a batch stays tight. Grouping instead of
    // a comparison sort, and in slices: at 250,000 queries this loop held the event loop for ~300 ms.
    const groups = new Map<number, Batch>();
    const referenceProgress: QueryProgress = {
      w: endMs - Math.max(lookbackMs, 5 * periodMs),
      seen: NOTHING_SEEN,
    };
    // Cursors this run creates (new queries, cursors adopted from older state files, refused ones),
    // recorded before anything is fetched: a crash in the first run cannot move where a query starts.
    const created = new CursorUpdates();
    let refused = 0;
    const planned = plan.queries;
    for (let i = 0; i < planned.length; i++) {
      if (i % WORK_SLICE === WORK_SLICE - 1) await yieldToEventLoop();
      const query = planned[i]!;
      let progress = query.emitted ? this.cursorOf(query.id) : referenceProgress;
      if (progress === undefined || progress.w > endMs + FUTURE_ALLOWANCE_MS) {
        if (progress !== undefined) refused++;
        progress = (progress === undefined && this.adoptLegacy(query, region, run.dryRun)) || {
          w: Math.min(endMs, this.firstAttemptEndMs ?? endMs) - lookbackMs,
          seen: NOTHING_SEEN,
        };
        created.add(query.id, progress.w, progress.seen);
      }
      if (progress.w < cutoff) {
        clamped++;
        const seen = progress.seen.filter((t) => t >= cutoff);
        progress = { w: cutoff, seen: seen.length > 0 ? seen : NOTHING_SEEN };
      }
      if (progress.w >= endMs) continue;
      let group = groups.get(progress.w);
      if (!group) groups.set(progress.w, (group = { queries: [], progress: [] }));
      group.queries.push(query);
      group.progress.push(progress);
    }
    if (refused > 0) {
      context.warn(
        `${region}: ${refused} cursor(s) were more than ${FUTURE_ALLOWANCE_MS / 60_000} min past AWS's time ` +
          `(${new Date(endMs).toISOString()}): refused; those queries start again from the first-run lookback`,
      );
    }
    if (!run.dryRun) {
      const release = this.store.reserve(created.size * JOURNAL_BYTES_PER_QUERY);
      try {
        this.store.record(created);
      } finally {
        release();
      }
    }
    if (clamped > 0) {
      context.warn(
        `${region}: ${clamped} series were more than max_catchup (${this.config.max_catchup}s) behind; ` +
          'older points were skipped (Datadog rejects points older than about an hour)',
      );
    }
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

    const client = this.services.clients.client('cloudwatch', this.access, region);
    const inspected: EmittedPoint[] = [];
    const lateHorizonMs = this.config.late_horizon * 1000;
    let datapoints = 0;
    let newestPeriodEnd = 0;
    let failedBatches = 0;
    let firstError: string | undefined;
    let undelivered = 0;
    let firstDeliveryError: string | undefined;
    let stateError: Error | undefined;
    let outsideWindow = 0;
    const problemsSeen = new Set<string>();

    // Emits a fetched batch as one delivery; returns it settled, then its progress recorded.
    // Cursors are committed per query, as soon as that query's own lines were accepted: a SIGKILL while
    // a batch is on the wire then re-sends at most the queries of the datagram in flight, not the batch.
    // The records of the queries settled in one go are coalesced into one journal record, written
    // before control returns to the event loop (a microtask), so nothing comes between.
    let toRecord: CursorUpdates | undefined;
    const recordSettled = (): void => {
      const updates = toRecord!;
      toRecord = undefined;
      try {
        this.store.record(updates);
      } catch (error) {
        // Sent but not written down: kept in memory, and nothing more is sent until it is written.
        stateError ??= error instanceof Error ? error : new Error(describe(error));
      }
    };
    const recordSoon = (id: string, w: number, seen: readonly number[]): void => {
      if (toRecord === undefined) {
        toRecord = new CursorUpdates();
        queueMicrotask(recordSettled);
      }
      toRecord.add(id, w, seen);
    };
    // Emits a fetched batch, one delivery per query; resolves once every query settled.
    const emitBatch = (
      batch: Batch,
      fetched: FetchedBatch,
      release: () => void,
    ): Promise<void> | undefined => {
      if (fetched.unknownIds.length > 0) {
        context.warn(
          `${region}: GetMetricData returned unknown query ids (${fetched.unknownIds.slice(0, 3).join(', ')}); ignored`,
        );
      }
      const window = { startMs: batch.progress[0]!.w, endMs };
      let unsettled = batch.queries.length;
      let allSettled: () => void = () => undefined;
      const settled = new Promise<void>((resolve) => (allSettled = resolve));
      const settle = (
        error: Error | undefined,
        id: string,
        w: number,
        seen: readonly number[] | undefined,
      ): void => {
        if (error) {
          // Not recorded: the query's window is fetched and sent again next run.
          undelivered++;
          firstDeliveryError ??= describe(error);
        } else if (seen !== undefined) recordSoon(id, w, seen);
        if (--unsettled === 0) {
          release();
          allSettled();
        }
      };
      crashPoint('before-emit');
      for (let i = 0; i < batch.queries.length; i++) {
        const query = batch.queries[i]!;
        const progress = batch.progress[i]!;
        const result = fetched.results[i]!;
        for (const problem of result.problems) {
          const key = `${query.series.metricName}:${problem}`;
          if (!problemsSeen.has(key)) {
            problemsSeen.add(key);
            context.warn(`${region} ${query.series.key} ${query.statistic}: ${problem}`);
          }
        }
        const group = run.submit.openDelivery();
        const emittedNow = this.emitQuery(query, progress, result, window, group, inspected);
        outsideWindow += emittedNow.refused;
        datapoints += emittedNow.count;
        newestPeriodEnd = Math.max(newestPeriodEnd, emittedNow.newest + periodMs);
        if (run.dryRun) continue;
        let w = progress.w;
        let pending: readonly number[] | undefined;
        if (query.emitted) {
          // An incomplete answer keeps the watermark: the window is asked again, the seen set dedupes.
          if (result.complete)
            w = settledWatermark(progress.w, emittedNow.seen, endMs, now, periodMs, lateHorizonMs);
          const after = pendingAfter(emittedNow.seen, w);
          if (w !== progress.w || after.length !== progress.seen.length) pending = after;
        }
        group.onSettled((error) => settle(error, query.id, w, pending));
      }
      if (run.dryRun) return undefined;
      crashPoint('mid-emit');
      return settled;
    };
    // One batch, fetched then emitted. A function of its own so that nothing of the batch (the answer,
    // its points) stays referenced from the worker's frame while the worker waits for the next one: held
    // across that wait, a whole batch survived into the old generation and died there.
    const fetchAndEmit = async (batch: Batch): Promise<Promise<void> | undefined> => {
      // Room on disk for this batch's record before it is sent: a full disk stops it here, not between
      // "sent" and "recorded"; and nothing is sent after a record could not be written (CursorStore).
      let release = (): void => undefined;
      if (!run.dryRun) {
        try {
          release = this.store.reserve(batch.queries.length * JOURNAL_BYTES_PER_QUERY);
        } catch (error) {
          stateError ??= error instanceof Error ? error : new Error(describe(error));
          return undefined;
        }
      }
      let fetched: FetchedBatch;
      try {
        fetched = await fetchMetricData(
          client,
          this.integration.namespace,
          batch.queries,
          this.config.period,
          batch.progress[0]!.w,
          endMs,
          run.signal,
        );
      } catch (error) {
        failedBatches++;
        firstError ??= describe(error);
        this.logger.warn(
          `${region}: GetMetricData failed after retries; the window is fetched again next run: ${describe(error)}`,
        );
        release();
        return undefined;
      }
      const delivered = emitBatch(batch, fetched, release);
      if (delivered === undefined) release();
      return delivered;
    };
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < batches.length) {
        const index = next++;
        const taken = batches[index]!;
        // Released as soon as taken: a run holds only the batches not yet fetched or not yet flushed.
        batches[index] = EMPTY_BATCH;
        const delivered = await fetchAndEmit(taken);
        if (delivered === undefined) continue;
        unflushed.push(delivered);
        if (unflushed.length >= MAX_UNFLUSHED_BATCHES) await unflushed.shift();
      }
    };
    const unflushed: Promise<void>[] = [];
    await Promise.all(Array.from({ length: Math.min(FETCH_CONCURRENCY, batches.length) }, () => worker()));
    await Promise.all(unflushed);

    if (this.integration.inspectPoints) this.integration.inspectPoints(inspected, plan.resources, context);
    if (outsideWindow > 0) {
      context.warn(
        `${region}: CloudWatch returned ${outsideWindow} point(s) outside the asked window or off the ` +
          `${this.config.period}s period grid; refused (never emitted, never a watermark)`,
      );
    }
    return {
      datapoints,
      queries: planned.length,
      newestPeriodEnd,
      failedBatches,
      firstError,
      undelivered,
      firstDeliveryError,
      stateError,
    };
  }

  /**
   * Emits the points of one query not sent before; returns how many, the newest, every period start
   * now known to be sent at or after the watermark (`progress.seen` itself when nothing was new), and
   * how many points were refused: outside the asked window, or off the period grid (a CloudWatch answer
   * is never trusted to move a cursor past what was asked).
   */
  private emitQuery(
    query: PlannedQuery,
    progress: QueryProgress,
    result: QueryResult,
    window: { readonly startMs: number; readonly endMs: number },
    submit: SampleEmitter,
    inspected: EmittedPoint[],
  ): { count: number; newest: number; seen: readonly number[]; refused: number } {
    let seen = progress.seen;
    let copied = false;
    let count = 0;
    let newest = 0;
    let refused = 0;
    const periodMs = this.periodMs;
    for (let i = 0; i < result.timestamps.length; i++) {
      const t = result.timestamps[i]!;
      const value = result.values[i]!;
      if (t < window.startMs || t >= window.endMs || t % periodMs !== 0) {
        refused++;
        continue;
      }
      if (query.inspected)
        inspected.push({
          emitted: query.emitted,
          series: query.series,
          statistic: query.statistic,
          timestamp: t,
          value,
        });
      if (!query.emitted || t < progress.w || seen.includes(t)) continue;
      if (!copied) {
        seen = seen.slice();
        copied = true;
      }
      (seen as number[]).push(t);
      const options = { timestamp: t / 1000, tags: query.tags.tags, identityTags: query.tags.identity };
      for (const row of query.rows) {
        if (row.type === 'count') submit.count(row.metricName, value, options);
        else submit.gauge(row.metricName, value, options);
      }
      count++;
      if (t > newest) newest = t;
    }
    return { count, newest, seen, refused };
  }

  /** The stored cursor of a metric query (its marks are period starts). */
  private cursorOf(id: string): QueryProgress | undefined {
    return this.store.get(id) as QueryProgress | undefined;
  }

  /** The cursor a new query had in a state file of an earlier version, if any (kept in a dry run). */
  private adoptLegacy(query: PlannedQuery, region: string, dryRun: boolean): QueryProgress | undefined {
    const legacyId = legacyQueryId(region, query.series.key, query.statistic, this.config.period);
    return this.store.adoptLegacy(legacyId, this.legacyOwner, !dryRun) as QueryProgress | undefined;
  }

  /** Logs and reports when the wall clock is away from AWS's time, once per change. */
  private noticeClockSkew(context: CheckRunContext): void {
    const skew = this.services.clients.serverTime.wallClockSkewMs();
    const stepped = Math.abs(skew - this.lastSkewMs) > SKEW_WARNING_MS;
    if (stepped) {
      this.logger.warn(
        `the system clock moved ${Math.round((skew - this.lastSkewMs) / 1000)} s against AWS's ` +
          `(now ${Math.round(skew / 1000)} s ${skew >= 0 ? 'ahead' : 'behind'}); collection keeps to AWS's time`,
      );
      this.lastSkewMs = skew;
    }
    if (Math.abs(skew) > SKEW_WARNING_MS) {
      context.submit.warning(
        `the system clock is ${Math.round(Math.abs(skew) / 1000)} s ${skew > 0 ? 'ahead of' : 'behind'} AWS's ` +
          "(the Date of its answers); windows and gaps are judged by AWS's time, nothing is skipped. Fix: NTP",
      );
    }
    if (!context.dryRun)
      this.services.telemetry?.instanceMetric(this.info, 'clock.skew', 'gauge', skew / 1000);
  }

  /** The region's query plan, rebuilt only when discovery, inventory or tags were refreshed. */
  private async plan(context: RegionContext): Promise<RegionPlan<R>> {
    const { region } = context;
    const ttl = this.config.discovery_ttl * 1000;
    const taggedTypes = this.integration.taggedResourceTypes ?? [];
    const tagsKey = tagsCacheKey(taggedTypes, region);
    // The three caches expire together and their refreshes finish at different times (ListMetrics takes
    // longest): one rebuild when all are in, not one per refresh. A rebuild at 265,000 queries is seconds
    // of CPU and a whole new plan's garbage; the old plan serves one more run meanwhile. Asked before the
    // gets below start this run's refreshes: a refresh begun now must not hold back what earlier ones
    // brought in (with a TTL shorter than the interval, every run starts one).
    const earlierRefreshPending =
      this.discovery.refreshing(region) || this.resources.refreshing(region) || this.tags.refreshing(tagsKey);
    const [series, resources] = await Promise.all([
      this.discovery.get(region, ttl, (previous) => this.listMetrics(context, previous)),
      this.integration.loadResources
        ? this.resources.get(region, ttl, () => this.loadResources(context))
        : Promise.resolve(undefined as R),
    ]);
    const awsTags =
      taggedTypes.length > 0
        ? await this.resourceTags(taggedTypes, region)
        : new Map<string, Record<string, string>>();
    const version = [
      this.discovery.loadedAt(region),
      this.resources.loadedAt(region),
      this.tags.loadedAt(tagsKey),
    ].join('|');
    const cached = this.plans.get(region);
    if (cached && (cached.version === version || earlierRefreshPending)) return cached;

    const baseTags = [`region:${region}`, `aws_account:${context.accountId}`];
    const tagFilters = this.config.tag_filters;
    const accepts = (s: Series): boolean => {
      if (!this.scopeBySignature.has(dimensionSignature(s.dimensions.map((d) => d.Name)))) return false;
      if (!this.resourceFilter.accepts(this.integration.resourceName(s, resources))) return false;
      if (tagFilters) {
        const tags = this.integration.resourceAwsTags?.(s, resources, awsTags);
        if (tags !== undefined && !matchesTagFilters(tags, tagFilters)) return false;
      }
      return true;
    };
    // Every series of a resource gets the same tags: one array (and one copy of each tag) per distinct
    // list, shared by the plan's queries and, through identity caches, by the runtime's tag merging and
    // the sink's encoding. At 100,000 series that is a few thousand lists instead of 100,000.
    const tagLists = new Map<string, SeriesTags>();
    const tagStrings = new Map<string, string>();
    const previousTagLists = cached?.tagLists;
    const tagsOf = (s: Series): SeriesTags => {
      const rule = this.scopeBySignature.get(dimensionSignature(s.dimensions.map((d) => d.Name)))!;
      const identifying = [
        ...(rule.tags ? rule.tags(s) : s.dimensions.map((d) => `${d.Name.toLowerCase()}:${d.Value}`)),
        ...baseTags,
        ...caseIdTags(s, rule.userNamed),
      ];
      const tags = [...identifying, ...(this.integration.seriesTags?.(s, resources, context, awsTags) ?? [])];
      const content = `${identifying.length}\u0000${tags.join('\u0000')}`;
      let shared = tagLists.get(content);
      if (shared === undefined && (shared = previousTagLists?.get(content)) !== undefined)
        tagLists.set(content, shared);
      if (shared === undefined) {
        const list = tags.map((tag) => {
          let known = tagStrings.get(tag);
          if (known === undefined) {
            // A flat copy: tags are usually built by templates, ropes of two or three strings.
            known = JSON.parse(JSON.stringify(tag)) as string;
            tagStrings.set(known, known);
          }
          return known;
        });
        shared = { tags: list, identity: identifying.length };
        tagLists.set(content, shared);
      }
      return shared;
    };
    // Plans are rebuilt when discovery refreshes; at 100k series that is real work, done in slices so
    // the event loop (sink pacing, other instances, the status endpoint) is never held for long.
    const kept: Series[] = [];
    for (let i = 0; i < series.length; i++) {
      if (accepts(series[i]!)) kept.push(series[i]!);
      if (i % PLAN_SLICE === PLAN_SLICE - 1) await yieldToEventLoop();
    }
    const selection = this.integration.selectSeries
      ? this.integration.selectSeries(kept, resources, context)
      : { emit: kept };

    const namespace = this.integration.namespace;
    const period = this.config.period;
    const integration = this.integration;
    const inspects = (s: Series, statistic: string): boolean =>
      integration.inspectPoints !== undefined && (integration.inspects?.(s, statistic) ?? true);
    const queries: PlannedQuery[] = [];
    // A refresh mostly finds what it found before (discovery hands back the same Series objects): the
    // previous plan's query for the same series, statistic, rows and tags is kept as it is. At 265,000
    // queries a rebuild then allocates, hashes and leaves behind only what changed, instead of a whole
    // new plan that lives alongside the old one until a major GC (where the heap grew, run after run).
    const previousBySeries = new Map<Series, PlannedQuery[]>();
    const previousQueries = cached?.queries ?? [];
    for (let i = 0; i < previousQueries.length; i++) {
      if (i % WORK_SLICE === WORK_SLICE - 1) await yieldToEventLoop();
      const q = previousQueries[i]!;
      const list = previousBySeries.get(q.series);
      if (list) list.push(q);
      else previousBySeries.set(q.series, [q]);
    }
    const addQuery = (
      s: Series,
      metric: () => Metric,
      statistic: string,
      rows: readonly MetricRow[],
      tags: SeriesTags,
      emitted: boolean,
    ): void => {
      const inspected = inspects(s, statistic);
      const kept = previousBySeries
        .get(s)
        ?.find(
          (q) =>
            q.statistic === statistic &&
            q.rows === rows &&
            q.tags === tags &&
            q.emitted === emitted &&
            q.inspected === inspected,
        );
      if (kept) {
        queries.push(kept);
        return;
      }
      queries.push({
        id: emitted
          ? this.store.canonicalId(
              cursorId([
                'metric',
                this.info.checkName,
                this.info.instanceName ?? '',
                context.accountId,
                region,
                namespace,
                s.key,
                statistic,
                period,
              ]),
            )
          : '',
        series: s,
        statistic,
        rows,
        tags,
        emitted,
        inspected,
        request: {
          // Unique within the plan, so the same object serves every run, in whatever batch.
          Id: `q${(this.queryNumber++).toString(36)}`,
          MetricStat: { Metric: metric(), Period: period, Stat: statistic },
          ReturnData: true,
        },
      });
    };
    // The SDK only reads it: one object can serve several queries.
    const metricOf = (s: Series): Metric => ({
      Namespace: namespace,
      MetricName: s.metricName,
      Dimensions: s.dimensions as CloudWatchDimension[],
    });
    let planned = 0;
    for (const s of selection.emit) {
      if (++planned % PLAN_SLICE === 0) await yieldToEventLoop();
      const rule = this.scopeBySignature.get(dimensionSignature(s.dimensions.map((d) => d.Name)))!;
      const scopes = typeof rule.scope === 'string' ? [rule.scope] : rule.scope;
      const kind = `${s.metricName}|${scopes.join(',')}`;
      let byStatistic = this.rowsByKind.get(kind);
      if (!byStatistic) {
        const grouped = new Map<string, MetricRow[]>();
        for (const row of this.rowsByMetric.get(s.metricName) ?? []) {
          if (!row.scopes.some((x) => scopes.includes(x))) continue;
          grouped.set(row.statistic!, [...(grouped.get(row.statistic!) ?? []), row]);
        }
        byStatistic = [...grouped];
        this.rowsByKind.set(kind, byStatistic);
      }
      if (byStatistic.length === 0) continue;
      const tags = tagsOf(s);
      // One Metric per series, shared by its statistics' new queries (none if all are kept).
      let metric: Metric | undefined;
      const sharedMetric = (): Metric => (metric ??= metricOf(s));
      for (const [statistic, statRows] of byStatistic)
        addQuery(s, sharedMetric, statistic, statRows, tags, true);
    }
    for (const ref of selection.reference ?? []) {
      if (++planned % PLAN_SLICE === 0) await yieldToEventLoop();
      addQuery(ref.series, () => metricOf(ref.series), ref.statistic, NO_ROWS, NO_SERIES_TAGS, false);
    }
    const inventoryNames = new Set(
      this.integration.metrics
        .filter((row) => !row.cloudwatchMetric && this.metricFilter.accepts(row.metricName))
        .map((row) => row.metricName),
    );
    const inventory = (this.integration.inventory?.(resources, context) ?? [])
      .filter((item) => accepts(item.series))
      .map((item) => ({
        values: Object.fromEntries(Object.entries(item.values).filter(([name]) => inventoryNames.has(name))),
        tags: tagsOf(item.series),
      }));
    const plan: RegionPlan<R> = { version, queries, tagLists, inventory, resources };
    this.plans.set(region, plan);
    this.logger.debug(`${region}: planned ${queries.length} queries from ${series.length} discovered series`);
    return plan;
  }

  /**
   * ListMetrics, every page; per metric name when the instance's `metrics` filter narrows the table.
   * A series of the previous discovery found again is returned as the same object.
   */
  private async listMetrics(context: RegionContext, previous: readonly Series[] = []): Promise<Series[]> {
    const client = this.services.clients.client('cloudwatch', this.access, context.region);
    const names = this.metricFilter.narrows ? [...this.rowsByMetric.keys()] : [undefined];
    const found: Series[] = [];
    const interner = new SeriesInterner();
    // In slices: indexing 100,000 series at once held the event loop ~50 ms (and the previous plan's
    // 265,000 queries, below in plan, ~130 ms: the stall over 200 ms of a refresh run in the load bench).
    for (let i = 0; i < previous.length; i++) {
      if (i % WORK_SLICE === WORK_SLICE - 1) await yieldToEventLoop();
      interner.remember(previous[i]!);
    }
    for (const metricName of names) {
      let nextToken: string | undefined;
      do {
        const page = await client.send(
          new ListMetricsCommand({
            Namespace: this.integration.namespace,
            MetricName: metricName,
            RecentlyActive: this.config.recently_active ? 'PT3H' : undefined,
            NextToken: nextToken,
          }),
          { abortSignal: context.signal },
        );
        // A malformed page must not be cached as "these are all the series": fail, ask again later.
        if (page.Metrics !== undefined && !Array.isArray(page.Metrics)) {
          throw new Error('malformed ListMetrics response: Metrics is not a list');
        }
        for (const m of page.Metrics ?? []) {
          if (typeof m.MetricName !== 'string' || !this.rowsByMetric.has(m.MetricName)) continue;
          const dims = m.Dimensions ?? [];
          if (
            !Array.isArray(dims) ||
            !dims.every((d) => typeof d.Name === 'string' && typeof d.Value === 'string')
          ) {
            throw new Error(`malformed ListMetrics response: bad dimensions on ${m.MetricName}`);
          }
          found.push(interner.series(m.MetricName, dims as { Name: string; Value: string }[]));
        }
        nextToken = page.NextToken || undefined;
      } while (nextToken);
    }
    return found;
  }

  /** AWS tags by ARN from the Resource Groups Tagging API (100 a page), cached with the discovery TTL. */
  private resourceTags(
    types: readonly string[],
    region: string,
  ): Promise<Map<string, Record<string, string>>> {
    const key = tagsCacheKey(types, region);
    return this.tags.get(key, this.config.discovery_ttl * 1000, () =>
      this.degradable(
        `tags:${key}`,
        () => this.listResourceTags(types, region),
        (denied) => {
          if (this.config.tag_filters) {
            throw new Error(
              `${region}: tag_filters needs the resources' AWS tags, and ${denied.iamAction} is denied. ` +
                `Fix: allow ${denied.iamAction} in the role's policy (iam/dogwatch-policy.json), or remove tag_filters`,
            );
          }
          return {
            value: new Map<string, Record<string, string>>(),
            warning:
              `${region}: ${denied.iamAction} is denied, so the resources' AWS tags are missing from their ` +
              `series (metrics are collected). Fix: allow ${denied.iamAction} in the role's policy`,
          };
        },
      ),
    );
  }

  private async listResourceTags(
    types: readonly string[],
    region: string,
  ): Promise<Map<string, Record<string, string>>> {
    {
      const client = this.services.clients.client('tagging', this.access, region);
      const byArn = new Map<string, Record<string, string>>();
      let token: string | undefined;
      do {
        const page = await client.send(
          new GetResourcesCommand({
            ResourceTypeFilters: [...types],
            PaginationToken: token,
            ResourcesPerPage: 100,
          }),
          { abortSignal: awsCallScope.getStore()?.signal },
        );
        for (const mapping of page.ResourceTagMappingList ?? []) {
          if (!mapping.ResourceARN) continue;
          const tags: Record<string, string> = {};
          for (const t of mapping.Tags ?? []) if (t.Key) tags[t.Key] = t.Value ?? '';
          byArn.set(mapping.ResourceARN, tags);
        }
        token = page.PaginationToken || undefined;
      } while (token);
      return byArn;
    }
  }

  /** The region's inventory; an optional one that IAM denies degrades to the integration's empty one. */
  private loadResources(context: RegionContext): Promise<R> {
    const optional = this.integration.optionalInventory;
    return this.degradable(
      `inventory:${context.region}`,
      () => this.integration.loadResources!(context),
      (denied) => {
        if (!optional) throw denied;
        return {
          value: optional.empty(context),
          warning:
            `${context.region}: ${denied.iamAction} is denied, so ${optional.loses} (metrics are collected). ` +
            `Fix: allow ${denied.iamAction} in the role's policy`,
        };
      },
    );
  }

  /**
   * Runs an optional discovery call. When IAM denies it, `degrade` says what to use instead and what is
   * missing; that warning is raised on every run (see collect) until the call succeeds again.
   */
  private async degradable<T>(
    feature: string,
    load: () => Promise<T>,
    degrade: (denied: PermissionDeniedError) => { value: T; warning: string },
  ): Promise<T> {
    try {
      const value = await load();
      this.degraded.delete(feature);
      return value;
    } catch (error) {
      if (!(error instanceof PermissionDeniedError)) throw error;
      const { value, warning } = degrade(error);
      this.degraded.set(feature, warning);
      return value;
    }
  }

  private reportSelfMetrics(
    stats: AwsCallStats,
    run: { datapoints: number; queries: number; now: number; newestPeriodEnd: number },
  ): void {
    const telemetry = this.services.telemetry;
    if (!telemetry) return;
    for (const [key, n] of stats.attempts) {
      const [operation, outcome] = key.split('|');
      telemetry.instanceMetric(this.info, 'aws.api_calls', 'count', n, [
        `operation:${operation}`,
        `outcome:${outcome}`,
      ]);
    }
    telemetry.instanceMetric(this.info, 'aws.throttles', 'count', stats.throttles);
    telemetry.instanceMetric(this.info, 'aws.retries', 'count', stats.retries);
    telemetry.instanceMetric(this.info, 'cloudwatch.metrics_requested', 'count', stats.metricsRequested);
    telemetry.instanceMetric(this.info, 'cloudwatch.datapoints', 'count', run.datapoints);
    telemetry.instanceMetric(this.info, 'cloudwatch.queries', 'gauge', run.queries);
    if (run.newestPeriodEnd > 0) {
      telemetry.instanceMetric(
        this.info,
        'cloudwatch.watermark_lag',
        'gauge',
        (run.now - run.newestPeriodEnd) / 1000,
      );
    }
  }

  /** Folds the journal into the snapshot (shutdown, instance removed). */
  /** Nothing of its own to release: the cursor store is the process's and closes with it. */
  dispose(): Promise<void> {
    return Promise.resolve();
  }
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
  const w = settledWatermark(progress.w, list, endMs, now, periodMs, lateHorizonMs);
  return { w, seen: [...pendingAfter(list, w)] };
}

/** advanceWatermark's watermark, from a list of emitted period starts (a handful at most). */
function settledWatermark(
  from: number,
  emitted: readonly number[],
  endMs: number,
  now: number,
  periodMs: number,
  lateHorizonMs: number,
): number {
  let w = from;
  while (w < endMs) {
    if (!emitted.includes(w) && now - (w + periodMs) < lateHorizonMs) break;
    w += periodMs;
  }
  return w;
}

/** The emitted period starts still at or after `w`, ascending; the shared empty list when none. */
function pendingAfter(emitted: readonly number[], w: number): readonly number[] {
  if (emitted.length === 0) return NOTHING_SEEN;
  const pending = emitted.filter((t) => t >= w);
  return pending.length === 0 ? NOTHING_SEEN : pending.sort((a, b) => a - b);
}

function matchesTagFilters(
  tags: Readonly<Record<string, string>>,
  filters: Readonly<Record<string, readonly string[]>>,
): boolean {
  return Object.entries(filters).every(
    ([key, values]) => tags[key] !== undefined && values.includes(tags[key]),
  );
}

function align(ms: number, periodMs: number): number {
  return Math.ceil(ms / periodMs) * periodMs;
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name !== 'Error' ? `${error.name}: ` : ''}${error.message}`;
  return String(error);
}

/** The tags cache holds one entry per (region, resource types asked for). */
function tagsCacheKey(types: readonly string[], region: string): string {
  return `${region}|${types.join(',')}`;
}

/**
 * Where this instance's queries find their cursors in state files of versions before cursors were
 * shared: the file named after its current instance ID, or any file of the same check and instance
 * name (an instance whose options changed with the upgrade).
 */
function legacyOwnerOf(info: InstanceInfo): LegacyOwner {
  const safe = (text: string): string => text.replace(/[^A-Za-z0-9_.-]/g, '_');
  const prefix = safe(`${info.checkName}:${info.instanceName ? `${info.instanceName}:` : ''}`);
  return {
    instanceFile: safe(info.instanceId),
    sameCheck: new RegExp(`^${prefix.replace(/[.]/g, '\\.')}[0-9a-f]{16}$`),
  };
}

/**
 * Datadog lowercases tags, and AWS names are case-sensitive: `Orders` and `orders` are two Lambda
 * functions (two API stages, two routes) that would land on one series. A series whose user-chosen
 * names hold an upper-case letter therefore also carries `case_id:<6 hex>`, a hash of those exact
 * names: stable, and different for every spelling. All-lowercase names (most) carry none, nor do
 * names AWS fixes (Rekognition operations, HTTP methods).
 */
function caseIdTags(series: Series, userNamed: readonly string[] = []): string[] {
  const named = series.dimensions.filter((d) => userNamed.includes(d.Name));
  if (!named.some((d) => /[A-Z]/.test(d.Value))) return [];
  return [`case_id:${sha1(named.map((d) => d.Value).join('\u0000'), 'hex').slice(0, 6)}`];
}
