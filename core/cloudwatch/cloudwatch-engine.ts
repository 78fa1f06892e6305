import type { CheckRunContext, InstanceInfo, SelfMetrics } from '../check/check.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../log/logger.js';
import { AwsCallStats, awsCallScope } from '../aws/aws-call-stats.js';
import { awsAccessOf, type AwsAccess, type AwsClientFactory } from '../aws/aws-client-factory.js';
import type { CursorStore } from '../state/cursor-store.js';
import { buildBatches, FUTURE_ALLOWANCE_MS, type RunWindow } from './batch-builder.js';
import type { CloudWatchIntegration, RegionContext } from './integration.js';
import { MetricSelection } from './metric-selection.js';
import { describeError, type InstanceConfig, type RegionPlan } from './planned-query.js';
import { QueryCursors } from './query-cursors.js';
import { QueryPlanner } from './query-planner.js';
import { type RegionOutcome, RegionCollection } from './region-collection.js';
import { SeriesDiscovery } from './series-discovery.js';
import type { MetricRequestTicket, RunRequests, SharedMetricRequests } from './shared-metric-requests.js';
import { MAX_QUERIES_PER_REQUEST } from './metric-data-fetcher.js';
import { matchesTagFilters } from './query-planner.js';
import type { LogGroupTarget } from '../cloudwatch-logs/log-group-target.js';

/** The wall clock differing from AWS's by more than this is worth a warning. */
const SKEW_WARNING_MS = 30_000;

export interface RunSummary {
  readonly queries: number;
  readonly datapoints: number;
  readonly requests: number;
  readonly failures: readonly string[];
}

/** Process-wide services the engine shares between instances, and the hooks handed to it. */
export interface EngineServices {
  readonly clients: AwsClientFactory;
  readonly clock: Clock;
  readonly cursors: CursorStore;
  /** GetMetricData requests shared by the instances that run at the same time on the same client. */
  readonly metricRequests: SharedMetricRequests;
  readonly telemetry?: SelfMetrics;
  /** Fault injection for the restart tests; inert in production (see core/fault-injection.ts). */
  readonly crashPoint?: (name: string) => void;
  /** For the events source beside the engine: LookupEvents pages per read (tests make it small). */
  readonly maxPagesPerRead?: number;
}

/** What one region's run produced, for the run's summary. */
interface RegionResult extends RegionOutcome {
  readonly queries: number;
}

/**
 * The CloudWatch metrics source of one instance: collects every datapoint of an integration exactly
 * once. Per run and region it goes through the stages, each its own module:
 *
 *   discover (SeriesDiscovery) → plan (QueryPlanner) → batch (buildBatches) →
 *   fetch → map → commit (RegionCollection: SharedMetricRequests, mapQueryPoints, CursorCommitter)
 *
 * Windows are [cursor, end) with end = floor(now − delay, period) on AWS's clock; cursors live in the
 * shared cursor store and move only after the sink accepted the query's samples. It knows nothing of
 * any integration: everything specific comes from the CloudWatchIntegration.
 */
export class CloudWatchEngine<R = unknown> {
  private readonly access: AwsAccess;
  private readonly cursors: QueryCursors;
  private readonly discovery: SeriesDiscovery<R>;
  private readonly planner: QueryPlanner<R>;
  private readonly crashPoint: (name: string) => void;
  private readonly selection: MetricSelection;
  /** The wall clock's skew from AWS's at the last run, to log a step once. */
  private lastSkewMs = 0;
  private currentRun: CheckRunContext | undefined;
  /** Whether the last run was a dry run (`dogwatch check`): its self-metrics are not sent. */
  private dryRun = false;
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
    this.access = awsAccessOf(config);
    this.crashPoint = services.crashPoint ?? (() => undefined);
    const selection = new MetricSelection(integration, config);
    this.selection = selection;
    this.cursors = new QueryCursors(services.cursors, info, integration.namespace, config.period);
    this.discovery = new SeriesDiscovery(
      integration,
      config,
      selection,
      this.access,
      services.clients,
      services.clock,
      logger,
    );
    this.planner = new QueryPlanner(
      integration,
      config,
      selection,
      (region, accountId, series, statistic) => this.cursors.idOf(region, accountId, series, statistic),
      logger,
    );
  }

  /** The CloudWatch namespace this engine collects. */
  get namespace(): string {
    return this.integration.namespace;
  }

  /** The current query plans by region (read-only: the benchmark compares its baselines with them). */
  plans(): ReadonlyMap<string, RegionPlan<R>> {
    return this.planner.current();
  }

  private get periodMs(): number {
    return this.config.period * 1000;
  }

  async run(context: CheckRunContext): Promise<RunSummary> {
    // Joined before the first await, so that instances started together all wait for each other's
    // partial batches (see SharedMetricRequests); each region leaves as soon as it knows it has none.
    const requests = this.services.metricRequests.forRun((region) =>
      this.services.clients.client('cloudwatch', this.access, region),
    );
    if (this.config.regions !== 'all') requests.joinAll(this.config.regions);
    try {
      return await this.runJoined(context, requests);
    } finally {
      requests.leaveAll();
    }
  }

  private async runJoined(context: CheckRunContext, requests: RunRequests): Promise<RunSummary> {
    const store = this.services.cursors;
    // Until it succeeds once, every run loads the state again: a run must not collect without it.
    for (const warning of await store.load()) context.submit.warning(warning);
    // Before anything is sent: the state folder can be written (after a full disk, everything in
    // memory is written again first), or the run fails saying which file and how to fix it.
    if (!context.dryRun) await store.prepareToWrite();
    const stats = new AwsCallStats();
    this.currentRun = context;
    this.dryRun = context.dryRun;
    try {
      return await awsCallScope.run({ stats, signal: context.signal }, () =>
        this.collect(context, stats, requests),
      );
    } finally {
      this.currentRun = undefined;
    }
  }

  /**
   * The region's log groups (`collect_logs`), from the same cached discovery as the metrics, kept by the
   * instance's `include`/`exclude` and `tag_filters` as its series are.
   */
  async logGroups(region: string, accountId: string, run: CheckRunContext): Promise<LogGroupTarget[]> {
    if (!this.integration.logGroups) return [];
    const context = this.regionContext(region, accountId, run.signal);
    const discovered = await this.discovery.discover(context);
    const tagFilters = this.config.tag_filters;
    return this.integration
      .logGroups(discovered.resources, context, discovered.awsTags)
      .filter(
        (c) =>
          this.selection.acceptsResource(c.resourceName) &&
          (!tagFilters || c.awsTags === undefined || matchesTagFilters(c.awsTags, tagFilters)),
      )
      .map((c) => c.target);
  }

  private windowEnd(at: number): number {
    return Math.floor((at - this.config.delay * 1000) / this.periodMs) * this.periodMs;
  }

  private async collect(
    context: CheckRunContext,
    stats: AwsCallStats,
    requests: RunRequests,
  ): Promise<RunSummary> {
    const clients = this.services.clients;
    // Before any AWS call can fail: where this instance started (see firstAttemptEndMs).
    if (!context.dryRun) this.firstAttemptEndMs ??= this.windowEnd(clients.serverTime.now());
    const accountId = await clients.accountId(this.access);
    // AWS's time, not the wall clock's: see ServerTime. The call above brought a Date if none came yet.
    const now = clients.serverTime.now();
    this.noticeClockSkew(context);
    const regions =
      this.config.regions === 'all' ? await clients.enabledRegions(this.access) : this.config.regions;
    const failures: string[] = [];
    const results: RegionResult[] = [];
    await Promise.all(
      regions.map(async (region) => {
        try {
          const result = await this.collectRegion(region, accountId, now, context, requests.of(region));
          results.push(result);
          failures.push(...regionFailures(region, result));
        } catch (error) {
          failures.push(`${region}: ${describeError(error)}`);
        }
      }),
    );
    for (const warning of this.discovery.warnings()) context.submit.warning(warning);
    if (!context.dryRun) await this.services.cursors.compactIfDue();
    const summary = {
      queries: results.reduce((n, r) => n + r.queries, 0),
      datapoints: results.reduce((n, r) => n + r.datapoints, 0),
      requests: stats.callsByOperation().GetMetricData ?? 0,
      failures: failures.sort(),
    };
    if (failures.length === 0) this.firstAttemptEndMs = undefined;
    if (!context.dryRun) {
      const newestPeriodEnd = results.reduce((n, r) => Math.max(n, r.newestPeriodEnd), 0);
      this.reportSelfMetrics(stats, { ...summary, now, newestPeriodEnd });
    }
    // The failed windows keep their cursors and are fetched again next run.
    if (failures.length > 0) throw new Error(`collection incomplete — ${summary.failures.join('; ')}`);
    return summary;
  }

  /** One region's run: discover → plan → batch → fetch → map → commit. */
  private async collectRegion(
    region: string,
    accountId: string,
    now: number,
    run: CheckRunContext,
    requests: MetricRequestTicket,
  ): Promise<RegionResult> {
    const context = this.regionContext(region, accountId, run.signal);
    const plan = await this.planner.plan(context, await this.discovery.discover(context));
    for (const item of plan.inventory) {
      for (const [metric, value] of Object.entries(item.values))
        run.submit.gauge(metric, value, { tags: item.tags.tags, identityTags: item.tags.identity });
    }
    const window = this.runWindow(now);
    const built = await buildBatches(plan.queries, this.cursors, window, region, run.dryRun);
    // Cursors this run creates are recorded before anything is fetched: a crash in the first run cannot
    // move where a query starts.
    if (!run.dryRun) this.cursors.recordNow(built.created);
    this.warnAboutCursors(context, built.refused, built.clamped, window.endMs);
    const last = built.batches.at(-1);
    if (last === undefined || last.queries.length >= MAX_QUERIES_PER_REQUEST) requests.leave();
    else requests.announce();
    const collection = new RegionCollection(
      {
        requests,
        cursors: this.cursors,
        run,
        context,
        logger: this.logger,
        crashPoint: this.crashPoint,
      },
      { endMs: window.endMs, now, periodMs: this.periodMs, lateHorizonMs: this.config.late_horizon * 1000 },
    );
    const outcome = await collection.collect(built.batches);
    this.integration.inspectPoints?.(outcome.inspected, plan.resources, context);
    if (outcome.outsideWindow > 0) {
      context.warn(
        `${region}: CloudWatch returned ${outcome.outsideWindow} point(s) outside the asked window or off the ` +
          `${this.config.period}s period grid; refused (never emitted, never a watermark)`,
      );
    }
    return { ...outcome, queries: plan.queries.length };
  }

  private runWindow(now: number): RunWindow {
    const periodMs = this.periodMs;
    const endMs = this.windowEnd(now);
    const lookbackMs =
      Math.ceil(
        (Math.max(this.config.lookback ?? this.config.period, this.config.period) * 1000) / periodMs,
      ) * periodMs;
    return {
      endMs,
      cutoffMs: endMs - this.config.max_catchup * 1000,
      lookbackMs,
      firstAttemptEndMs: this.firstAttemptEndMs,
      referenceStartMs: endMs - Math.max(lookbackMs, 5 * periodMs),
    };
  }

  private warnAboutCursors(context: RegionContext, refused: number, clamped: number, endMs: number): void {
    if (refused > 0) {
      context.warn(
        `${context.region}: ${refused} cursor(s) were more than ${FUTURE_ALLOWANCE_MS / 60_000} min past AWS's time ` +
          `(${new Date(endMs).toISOString()}): refused; those queries start again from the first-run lookback`,
      );
    }
    if (clamped > 0) {
      context.warn(
        `${context.region}: ${clamped} series were more than max_catchup (${this.config.max_catchup}s) behind; ` +
          'older points were skipped (Datadog rejects points older than about an hour)',
      );
    }
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
      resourceTags: (types, otherRegion) => this.discovery.resourceTags(types, otherRegion ?? region),
      warn: (message) => {
        if (this.currentRun) this.currentRun.submit.warning(message);
        else this.logger.warn(message);
      },
      selfMetric: (metric, type, value, tags = []) => {
        if (!this.dryRun)
          this.services.telemetry?.instanceMetric(this.info, metric, type, value, [
            ...tags,
            `region:${region}`,
          ]);
      },
    };
  }

  /** Logs and reports when the wall clock is away from AWS's time, once per change. */
  private noticeClockSkew(context: CheckRunContext): void {
    const skew = this.services.clients.serverTime.wallClockSkewMs();
    if (Math.abs(skew - this.lastSkewMs) > SKEW_WARNING_MS) {
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

  private reportSelfMetrics(
    stats: AwsCallStats,
    run: { datapoints: number; queries: number; now: number; newestPeriodEnd: number },
  ): void {
    const telemetry = this.services.telemetry;
    if (!telemetry) return;
    const metric = (name: string, type: 'gauge' | 'count', value: number, tags?: readonly string[]): void =>
      telemetry.instanceMetric(this.info, name, type, value, tags);
    for (const [key, n] of stats.attempts) {
      const [operation, outcome] = key.split('|');
      metric('aws.api_calls', 'count', n, [`operation:${operation}`, `outcome:${outcome}`]);
    }
    metric('aws.throttles', 'count', stats.throttles);
    metric('aws.retries', 'count', stats.retries);
    metric('cloudwatch.metrics_requested', 'count', stats.metricsRequested);
    metric('cloudwatch.datapoints', 'count', run.datapoints);
    metric('cloudwatch.queries', 'gauge', run.queries);
    if (run.newestPeriodEnd > 0)
      metric('cloudwatch.watermark_lag', 'gauge', (run.now - run.newestPeriodEnd) / 1000);
  }

  /**
   * The integration's inventory of every region loaded so far (functions, APIs), by region: what the
   * instance's other sources join their records with, so that they carry the metrics' tags.
   */
  loadedInventories(): ReadonlyMap<string, R> {
    return this.discovery.loadedResources();
  }

  /** Nothing of its own to release: the cursor store is the process's and closes with it. */
  dispose(): Promise<void> {
    return Promise.resolve();
  }
}

/** The failures of a region's run, each saying what is fetched again. */
function regionFailures(region: string, result: RegionResult): string[] {
  const failures: string[] = [];
  if (result.failedBatches > 0)
    failures.push(`${region}: ${result.failedBatches} GetMetricData batch(es) failed (${result.firstError})`);
  if (result.stateError) failures.push(`${region}: ${result.stateError.message}`);
  if (result.undelivered > 0) {
    failures.push(
      `${region}: the points of ${result.undelivered} queries were not delivered; they are fetched again next run (${result.firstDeliveryError})`,
    );
  }
  return failures;
}
