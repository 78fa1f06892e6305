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
import type { AwsAccess, AwsClientFactory } from '../aws/aws-client-factory.js';
import { crashPoint } from '../runtime/crash-points.js';
import type { SelfTelemetry } from '../runtime/self-telemetry.js';
import { type CloudWatchInstanceOptions, NameFilter } from './engine-options.js';
import type { CloudWatchIntegration, EmittedPoint, RegionContext, ScopeRule } from './integration.js';
import { fetchMetricData, MAX_QUERIES_PER_REQUEST, type QueryResult } from './metric-data-fetcher.js';
import type { MetricRow } from './metric-table.js';
import { dimensionSignature, type Series, SeriesInterner } from './series.js';
import { TtlCache } from './ttl-cache.js';
import {
  NOTHING_PENDING,
  ProgressUpdates,
  type QueryProgress,
  stateId,
  WatermarkStore,
} from './watermark-store.js';

/** Concurrent GetMetricData requests per region and instance; the token bucket bounds the rate. */
const FETCH_CONCURRENCY = 4;
/** Series handled between two yields to the event loop while a plan is built. */
const PLAN_SLICE = 500;
/** Planned queries looked at between two yields while a run's batches are formed (state pruned, a previous plan indexed). */
const WORK_SLICE = 5_000;
/** Batches handed to the sink but not yet flushed, before fetching waits: bounds the sink's queue. */
const MAX_UNFLUSHED_BATCHES = 8;

type InstanceConfig = Readonly<CloudWatchInstanceOptions & Record<string, unknown>>;

/**
 * One (series × statistic) to collect, with everything needed to emit its points. Built when first
 * planned, kept by every later plan while its series, rows and tags stay the same, and reused by every
 * run: a run allocates nothing per query that outlives it.
 */
interface PlannedQuery {
  /** Watermark id: stateId(`region|MetricName|dims|stat|period`). Empty for reference queries. */
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

/** Process-wide services the engine shares between instances. */
export interface EngineServices {
  readonly clients: AwsClientFactory;
  readonly clock: Clock;
  readonly stateDir: string;
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
  private readonly store: WatermarkStore;
  private readonly access: AwsAccess;
  private readonly discovery: TtlCache<Series[]>;
  private readonly resources: TtlCache<R>;
  private readonly tags: TtlCache<Map<string, Record<string, string>>>;
  private readonly plans = new Map<string, RegionPlan<R>>();
  /** Rows by statistic, per (metric, scopes): fixed by the configuration, shared by every plan. */
  private readonly rowsByKind = new Map<string, [string, MetricRow[]][]>();
  /** Numbers GetMetricData query Ids: never reused, so a query kept from an older plan keeps a unique Id. */
  private queryNumber = 0;
  /** Per region, the plan version whose queries the store was last pruned to (see collectRegion). */
  private readonly prunedFor = new Map<string, string>();
  private readonly rowsByMetric: Map<string, MetricRow[]>;
  private readonly scopeBySignature: Map<string, ScopeRule>;
  private readonly metricFilter: NameFilter;
  private readonly statisticFilter: NameFilter;
  private readonly resourceFilter: NameFilter;
  private currentWarnings: ((message: string) => void) | undefined;
  private currentDryRun = false;
  /**
   * End of the first window this instance tried to collect, kept until a run fully succeeds: if the first
   * runs fail (AssumeRole denied, a region down), collection still starts where the daemon started.
   */
  private firstAttemptEndMs: number | undefined;

  constructor(
    private readonly integration: CloudWatchIntegration<R>,
    private readonly config: InstanceConfig,
    private readonly info: InstanceInfo,
    private readonly logger: Logger,
    private readonly services: EngineServices,
  ) {
    this.store = new WatermarkStore(services.stateDir, info.instanceId, logger);
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
    const warning = await this.store.load();
    if (warning) context.submit.warning(warning);
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
    const now = this.services.clock.now();
    const endMs = Math.floor((now - this.config.delay * 1000) / this.periodMs) * this.periodMs;
    if (!context.dryRun) this.firstAttemptEndMs ??= endMs;
    const accountId = await this.services.clients.accountId(this.access);
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
          if (result.undelivered > 0) {
            failures.push(
              `${region}: ${result.undelivered} batch(es) not delivered, fetched again next run (${result.firstDeliveryError})`,
            );
          }
        } catch (error) {
          failures.push(`${region}: ${describe(error)}`);
        }
      }),
    );
    if (!context.dryRun) await this.store.compactIfDue(now);

    const requests = stats.callsByOperation().GetMetricData ?? 0;
    if (!context.dryRun) this.reportSelfMetrics(stats, { datapoints, queries, now, newestPeriodEnd });
    if (failures.length === 0) this.firstAttemptEndMs = undefined;
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
    const firstEnd = Math.min(endMs, this.firstAttemptEndMs ?? endMs);
    const referenceProgress: QueryProgress = {
      w: endMs - Math.max(lookbackMs, 5 * periodMs),
      emitted: NOTHING_PENDING,
    };
    const planned = plan.queries;
    for (let i = 0; i < planned.length; i++) {
      if (i % WORK_SLICE === WORK_SLICE - 1) await yieldToEventLoop();
      const query = planned[i]!;
      let progress: QueryProgress = query.emitted
        ? (this.store.get(query.id) ?? { w: firstEnd - lookbackMs, emitted: NOTHING_PENDING })
        : referenceProgress;
      if (progress.w < cutoff) {
        clamped++;
        const emitted = progress.emitted.filter((t) => t >= cutoff);
        progress = { w: cutoff, emitted: emitted.length > 0 ? emitted : NOTHING_PENDING };
      }
      if (progress.w >= endMs) continue;
      let group = groups.get(progress.w);
      if (!group) groups.set(progress.w, (group = { queries: [], progress: [] }));
      group.queries.push(query);
      group.progress.push(progress);
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
    const problemsSeen = new Set<string>();

    // Emits a fetched batch as one delivery; returns it settled, then its progress recorded.
    const emitBatch = (batch: Batch, fetched: FetchedBatch): Promise<void> | undefined => {
      if (fetched.unknownIds.length > 0) {
        context.warn(
          `${region}: GetMetricData returned unknown query ids (${fetched.unknownIds.slice(0, 3).join(', ')}); ignored`,
        );
      }
      const updates = new ProgressUpdates();
      const firstWindows = new ProgressUpdates();
      const delivery = run.submit.openDelivery();
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
        const emittedNow = this.emitQuery(query, progress, result, delivery, inspected);
        datapoints += emittedNow.count;
        newestPeriodEnd = Math.max(newestPeriodEnd, emittedNow.newest + periodMs);
        if (query.emitted) {
          // An incomplete answer keeps the watermark: the window is asked again, the emitted set dedupes.
          const w = result.complete
            ? settledWatermark(progress.w, emittedNow.emitted, endMs, now, periodMs, lateHorizonMs)
            : progress.w;
          const pending = pendingAfter(emittedNow.emitted, w);
          // A query seen for the first time is recorded even when nothing arrived: otherwise its
          // synthetic first window would slide forward with every run and skip late periods.
          const isNew = this.store.get(query.id) === undefined;
          if (isNew) firstWindows.add(query.id, progress.w, NOTHING_PENDING);
          if (isNew || w !== progress.w || pending.length !== progress.emitted.length) {
            updates.add(query.id, w, pending);
          }
        }
      }
      if (run.dryRun) return undefined;
      crashPoint('mid-emit');
      // Fetching goes on while the batch leaves the socket; its progress is recorded in the
      // continuation of its own delivery (nothing can interleave), at most MAX_UNFLUSHED_BATCHES behind.
      return delivery.settle().then(
        () => this.store.record(updates),
        (error: unknown) => {
          // Not recorded: the batch is fetched and sent again next run. New queries keep their
          // first window, or it would slide forward and its points would never be asked again.
          this.store.record(firstWindows);
          undelivered++;
          firstDeliveryError ??= describe(error);
        },
      );
    };
    // One batch, fetched then emitted. A function of its own so that nothing of the batch (the answer,
    // its points) stays referenced from the worker's frame while the worker waits for the next one: held
    // across that wait, a whole batch survived into the old generation and died there.
    const fetchAndEmit = async (batch: Batch): Promise<Promise<void> | undefined> => {
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
        return undefined;
      }
      return emitBatch(batch, fetched);
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
    if (
      !run.dryRun &&
      failedBatches === 0 &&
      undelivered === 0 &&
      this.prunedFor.get(region) !== plan.version
    ) {
      // State of series no longer planned is dropped once per plan: an unchanged plan leaves nothing behind.
      this.prunedFor.set(region, plan.version);
      const keep = new Set<string>();
      for (let i = 0; i < planned.length; i++) {
        if (i % WORK_SLICE === WORK_SLICE - 1) await yieldToEventLoop();
        if (planned[i]!.emitted) keep.add(planned[i]!.id);
      }
      await this.store.retainOnly(keep, `${region}|`);
    }
    return {
      datapoints,
      queries: planned.length,
      newestPeriodEnd,
      failedBatches,
      firstError,
      undelivered,
      firstDeliveryError,
    };
  }

  /**
   * Emits the points of one query not sent before; returns how many, the newest, and every period start
   * now known to be sent at or after the watermark (`progress.emitted` itself when nothing was new).
   */
  private emitQuery(
    query: PlannedQuery,
    progress: QueryProgress,
    result: QueryResult,
    submit: SampleEmitter,
    inspected: EmittedPoint[],
  ): { count: number; newest: number; emitted: readonly number[] } {
    let emitted = progress.emitted;
    let copied = false;
    let count = 0;
    let newest = 0;
    for (let i = 0; i < result.timestamps.length; i++) {
      const t = result.timestamps[i]!;
      const value = result.values[i]!;
      if (query.inspected)
        inspected.push({
          emitted: query.emitted,
          series: query.series,
          statistic: query.statistic,
          timestamp: t,
          value,
        });
      if (!query.emitted || t < progress.w || emitted.includes(t)) continue;
      if (!copied) {
        emitted = emitted.slice();
        copied = true;
      }
      (emitted as number[]).push(t);
      const options = { timestamp: t / 1000, tags: query.tags.tags, identityTags: query.tags.identity };
      for (const row of query.rows) {
        if (row.type === 'count') submit.count(row.metricName, value, options);
        else submit.gauge(row.metricName, value, options);
      }
      count++;
      if (t > newest) newest = t;
    }
    return { count, newest, emitted };
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
        ? this.resources.get(region, ttl, () => this.integration.loadResources!(context))
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
        id: emitted ? this.store.canonicalId(stateId([region, s.key, statistic, period].join('|'))) : '',
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
    return this.tags.get(tagsCacheKey(types, region), this.config.discovery_ttl * 1000, async () => {
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
    });
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
  async dispose(): Promise<void> {
    await this.store.compact();
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
  return { w, emitted: [...pendingAfter(list, w)] };
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
  if (emitted.length === 0) return NOTHING_PENDING;
  const pending = emitted.filter((t) => t >= w);
  return pending.length === 0 ? NOTHING_PENDING : pending.sort((a, b) => a - b);
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
