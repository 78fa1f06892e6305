import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { ListMetricsCommand } from '@aws-sdk/client-cloudwatch';
import { GetResourcesCommand } from '@aws-sdk/client-resource-groups-tagging-api';
import type { CheckRunContext, CheckSubmitter, InstanceInfo } from '../check/check.js';
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
import { dimensionSignature, makeSeries, type Series } from './series.js';
import { TtlCache } from './ttl-cache.js';
import { type QueryProgress, WatermarkStore } from './watermark-store.js';

/** Concurrent GetMetricData requests per region and instance; the token bucket bounds the rate. */
const FETCH_CONCURRENCY = 4;
/** Series handled between two yields to the event loop while a plan is built. */
const PLAN_SLICE = 2_000;
/** Batches handed to the sink but not yet flushed, before fetching waits: bounds the sink's queue. */
const MAX_UNFLUSHED_BATCHES = 8;

type InstanceConfig = Readonly<CloudWatchInstanceOptions & Record<string, unknown>>;

/** One (series × statistic) to collect, with everything needed to emit its points. */
interface PlannedQuery {
  /** `region|MetricName|dims|stat|period`: the watermark key. */
  readonly key: string;
  readonly series: Series;
  readonly statistic: string;
  readonly rows: readonly MetricRow[];
  /** Built once per plan; the same array object for every point (the runtime caches by identity). */
  readonly tags: readonly string[];
  /** False for reference queries (fetched for inspection, never emitted, no watermark). */
  readonly emitted: boolean;
}

interface RegionPlan<R> {
  readonly version: string;
  readonly queries: readonly PlannedQuery[];
  readonly inventory: readonly {
    readonly values: Readonly<Record<string, number>>;
    readonly tags: readonly string[];
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
  }> {
    const context = this.regionContext(region, accountId, run.signal);
    const plan = await this.plan(context);
    for (const item of plan.inventory) {
      for (const [metric, value] of Object.entries(item.values))
        run.submit.gauge(metric, value, { tags: item.tags });
    }

    const periodMs = this.periodMs;
    const cutoff = endMs - this.config.max_catchup * 1000;
    const lookbackMs = align(
      Math.max(this.config.lookback ?? this.config.period, this.config.period) * 1000,
      periodMs,
    );
    let clamped = 0;
    const work: { query: PlannedQuery; progress: QueryProgress }[] = [];
    for (const query of plan.queries) {
      const firstEnd = Math.min(endMs, this.firstAttemptEndMs ?? endMs);
      let progress: QueryProgress = query.emitted
        ? (this.store.get(query.key) ?? { w: firstEnd - lookbackMs, emitted: [] })
        : { w: endMs - Math.max(lookbackMs, 5 * periodMs), emitted: [] };
      if (progress.w < cutoff) {
        clamped++;
        progress = { w: cutoff, emitted: progress.emitted.filter((t) => t >= cutoff) };
      }
      if (progress.w < endMs) work.push({ query, progress });
    }
    if (clamped > 0) {
      context.warn(
        `${region}: ${clamped} series were more than max_catchup (${this.config.max_catchup}s) behind; ` +
          'older points were skipped (Datadog rejects points older than about an hour)',
      );
    }

    // Similar windows together, so the shared window of a batch stays tight.
    work.sort((a, b) => a.progress.w - b.progress.w);
    const batches: (typeof work)[] = [];
    for (let i = 0; i < work.length; i += MAX_QUERIES_PER_REQUEST)
      batches.push(work.slice(i, i + MAX_QUERIES_PER_REQUEST));

    const client = this.services.clients.client('cloudwatch', this.access, region);
    const inspected: EmittedPoint[] = [];
    let datapoints = 0;
    let newestPeriodEnd = 0;
    let failedBatches = 0;
    let firstError: string | undefined;
    const problemsSeen = new Set<string>();

    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < batches.length) {
        const batch = batches[next++]!;
        const startMs = batch[0]!.progress.w;
        let fetched: Awaited<ReturnType<typeof fetchMetricData>>;
        try {
          fetched = await fetchMetricData(
            client,
            this.integration.namespace,
            batch.map((w) => w.query),
            this.config.period,
            startMs,
            endMs,
            run.signal,
          );
        } catch (error) {
          failedBatches++;
          firstError ??= describe(error);
          this.logger.warn(
            `${region}: GetMetricData failed after retries; the window is fetched again next run: ${describe(error)}`,
          );
          continue;
        }
        if (fetched.unknownIds.length > 0) {
          context.warn(
            `${region}: GetMetricData returned unknown query ids (${fetched.unknownIds.slice(0, 3).join(', ')}); ignored`,
          );
        }
        const updates = new Map<string, QueryProgress>();
        const firstWindows = new Map<string, QueryProgress>();
        crashPoint('before-emit');
        batch.forEach(({ query, progress }, i) => {
          const result = fetched.results[i]!;
          for (const problem of result.problems) {
            const key = `${query.series.metricName}:${problem}`;
            if (!problemsSeen.has(key)) {
              problemsSeen.add(key);
              context.warn(`${region} ${query.series.key} ${query.statistic}: ${problem}`);
            }
          }
          const emittedNow = this.emitQuery(query, progress, result, run.submit, inspected);
          datapoints += emittedNow.count;
          newestPeriodEnd = Math.max(newestPeriodEnd, emittedNow.newest + periodMs);
          if (query.emitted) {
            // An incomplete answer keeps the watermark: the window is asked again, the emitted set dedupes.
            const updated = result.complete
              ? advanceWatermark(
                  progress,
                  emittedNow.emitted,
                  endMs,
                  now,
                  periodMs,
                  this.config.late_horizon * 1000,
                )
              : { w: progress.w, emitted: [...emittedNow.emitted].sort((a, b) => a - b) };
            // A query seen for the first time is recorded even when nothing arrived: otherwise its
            // synthetic first window would slide forward with every run and skip late periods.
            const isNew = this.store.get(query.key) === undefined;
            if (isNew) firstWindows.set(query.key, { w: progress.w, emitted: [] });
            if (isNew || updated.w !== progress.w || updated.emitted.length !== progress.emitted.length) {
              updates.set(query.key, updated);
            }
          }
        });
        if (!run.dryRun) {
          crashPoint('mid-emit');
          // Fetching goes on while the batch leaves the socket; its progress is recorded in the
          // continuation of its own flush (nothing can interleave), at most MAX_UNFLUSHED_BATCHES behind.
          const delivered = run.submit.flush().then(
            () => this.store.record(updates),
            (error: unknown) => {
              // Not recorded: the batch is fetched and sent again next run. New queries keep their
              // first window, or it would slide forward and its points would never be asked again.
              this.store.record(firstWindows);
              failedBatches++;
              firstError ??= describe(error);
            },
          );
          unflushed.push(delivered);
          if (unflushed.length >= MAX_UNFLUSHED_BATCHES) await unflushed.shift();
        }
      }
    };
    const unflushed: Promise<void>[] = [];
    await Promise.all(Array.from({ length: Math.min(FETCH_CONCURRENCY, batches.length) }, () => worker()));
    await Promise.all(unflushed);

    if (this.integration.inspectPoints) this.integration.inspectPoints(inspected, plan.resources, context);
    if (!run.dryRun && failedBatches === 0) {
      this.store.retainOnly(new Set(plan.queries.filter((q) => q.emitted).map((q) => q.key)), `${region}|`);
    }
    return { datapoints, queries: plan.queries.length, newestPeriodEnd, failedBatches, firstError };
  }

  /** Emits the points of one query not sent before; returns what is now known to be sent. */
  private emitQuery(
    query: PlannedQuery,
    progress: QueryProgress,
    result: QueryResult,
    submit: CheckSubmitter,
    inspected: EmittedPoint[],
  ): { count: number; newest: number; emitted: Set<number> } {
    const emitted = new Set(progress.emitted);
    let count = 0;
    let newest = 0;
    const wantsInspection = this.integration.inspectPoints !== undefined;
    for (let i = 0; i < result.timestamps.length; i++) {
      const t = result.timestamps[i]!;
      const value = result.values[i]!;
      if (wantsInspection)
        inspected.push({
          emitted: query.emitted,
          series: query.series,
          statistic: query.statistic,
          timestamp: t,
          value,
        });
      if (!query.emitted || t < progress.w || emitted.has(t)) continue;
      emitted.add(t);
      const timestamp = t / 1000;
      for (const row of query.rows) {
        if (row.type === 'count') submit.count(row.metricName, value, { timestamp, tags: query.tags });
        else submit.gauge(row.metricName, value, { timestamp, tags: query.tags });
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
    const [series, resources] = await Promise.all([
      this.discovery.get(region, ttl, () => this.listMetrics(context)),
      this.integration.loadResources
        ? this.resources.get(region, ttl, () => this.integration.loadResources!(context))
        : Promise.resolve(undefined as R),
    ]);
    const taggedTypes = this.integration.taggedResourceTypes ?? [];
    const awsTags =
      taggedTypes.length > 0
        ? await this.resourceTags(taggedTypes, region)
        : new Map<string, Record<string, string>>();
    const version = [
      this.discovery.loadedAt(region),
      this.resources.loadedAt(region),
      this.tags.loadedAt(`${region}|${taggedTypes.join(',')}`),
    ].join('|');
    const cached = this.plans.get(region);
    if (cached && cached.version === version) return cached;

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
    const tagsOf = (s: Series): string[] => {
      const rule = this.scopeBySignature.get(dimensionSignature(s.dimensions.map((d) => d.Name)))!;
      return [
        ...(rule.tags ? rule.tags(s) : s.dimensions.map((d) => `${d.Name.toLowerCase()}:${d.Value}`)),
        ...baseTags,
        ...(this.integration.seriesTags?.(s, resources, context, awsTags) ?? []),
      ];
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

    const queries: PlannedQuery[] = [];
    let planned = 0;
    for (const s of selection.emit) {
      if (++planned % PLAN_SLICE === 0) await yieldToEventLoop();
      const rule = this.scopeBySignature.get(dimensionSignature(s.dimensions.map((d) => d.Name)))!;
      const scopes = typeof rule.scope === 'string' ? [rule.scope] : rule.scope;
      const rows = (this.rowsByMetric.get(s.metricName) ?? []).filter((row) =>
        row.scopes.some((x) => scopes.includes(x)),
      );
      if (rows.length === 0) continue;
      const tags = tagsOf(s);
      const byStatistic = new Map<string, MetricRow[]>();
      for (const row of rows)
        byStatistic.set(row.statistic!, [...(byStatistic.get(row.statistic!) ?? []), row]);
      for (const [statistic, statRows] of byStatistic) {
        queries.push({
          key: `${region}|${s.key}|${statistic}|${this.config.period}`,
          series: s,
          statistic,
          rows: statRows,
          tags,
          emitted: true,
        });
      }
    }
    for (const ref of selection.reference ?? []) {
      queries.push({
        key: `${region}|${ref.series.key}|${ref.statistic}|${this.config.period}|reference`,
        series: ref.series,
        statistic: ref.statistic,
        rows: [],
        tags: [],
        emitted: false,
      });
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
    const plan: RegionPlan<R> = { version, queries, inventory, resources };
    this.plans.set(region, plan);
    this.logger.debug(`${region}: planned ${queries.length} queries from ${series.length} discovered series`);
    return plan;
  }

  /** ListMetrics, every page; per metric name when the instance's `metrics` filter narrows the table. */
  private async listMetrics(context: RegionContext): Promise<Series[]> {
    const client = this.services.clients.client('cloudwatch', this.access, context.region);
    const names = this.metricFilter.narrows ? [...this.rowsByMetric.keys()] : [undefined];
    const found: Series[] = [];
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
          found.push(makeSeries(m.MetricName, dims as { Name: string; Value: string }[]));
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
    const key = `${region}|${types.join(',')}`;
    return this.tags.get(key, this.config.discovery_ttl * 1000, async () => {
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
  let w = progress.w;
  while (w < endMs) {
    if (!emitted.has(w) && now - (w + periodMs) < lateHorizonMs) break;
    w += periodMs;
  }
  const pending = [...emitted].filter((t) => t >= w).sort((a, b) => a - b);
  return { w, emitted: pending };
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
