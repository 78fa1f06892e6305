import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Dimension as CloudWatchDimension, Metric } from '@aws-sdk/client-cloudwatch';
import type { Logger } from '../log/logger.js';
import type { CloudWatchIntegration, RegionContext } from './integration.js';
import type { MetricSelection } from './metric-selection.js';
import type { MetricRow } from './metric-table.js';
import {
  type InstanceConfig,
  type InventoryValues,
  NO_SERIES_TAGS,
  PlannedQuery,
  type RegionPlan,
  type SeriesTags,
} from './planned-query.js';
import type { Series } from './series.js';
import type { DiscoveredRegion } from './series-discovery.js';
import { SeriesTagger } from './series-tagger.js';

/** Series handled between two yields to the event loop while a plan is built. */
const PLAN_SLICE = 500;
/** Previous queries indexed between two yields. */
const WORK_SLICE = 5_000;
const NO_ROWS: readonly MetricRow[] = Object.freeze([]);

/** The cursor id of an emitted query (see CloudWatchEngine). */
export type QueryCursorId = (region: string, accountId: string, series: Series, statistic: string) => string;

/**
 * Turns a region's discovery into its query plan: one query per (kept series × statistic of its metric
 * table rows), plus the integration's reference queries and inventory values. A plan is rebuilt only
 * when discovery brought something new; a rebuild keeps every query whose series, rows and tags did not
 * change (the same object), so that it leaves behind only what changed.
 *
 * Rebuilding is real work at large scale, done in slices so the event loop (sink pacing, other
 * instances, the status endpoint) is never held for long.
 */
export class QueryPlanner<R> {
  private readonly plans = new Map<string, RegionPlan<R>>();
  /** Numbers GetMetricData query Ids: never reused, so a query kept from an older plan keeps a unique Id. */
  private queryNumber = 0;

  constructor(
    private readonly integration: CloudWatchIntegration<R>,
    private readonly config: InstanceConfig,
    private readonly selection: MetricSelection,
    private readonly cursorIdOf: QueryCursorId,
    private readonly logger: Logger,
  ) {}

  /** The current plans, by region (read-only; the benchmark compares its baselines with them). */
  current(): ReadonlyMap<string, RegionPlan<R>> {
    return this.plans;
  }

  async plan(context: RegionContext, discovered: DiscoveredRegion<R>): Promise<RegionPlan<R>> {
    const cached = this.plans.get(context.region);
    if (cached && (cached.version === discovered.version || discovered.refreshPending)) return cached;
    const { resources } = discovered;
    const tagger = new SeriesTagger(
      this.integration,
      this.selection,
      context,
      resources,
      discovered.awsTags,
      cached?.tagLists,
    );
    const accepts = (s: Series): boolean => this.accepts(s, discovered);
    const kept: Series[] = [];
    for (let i = 0; i < discovered.series.length; i++) {
      if (accepts(discovered.series[i]!)) kept.push(discovered.series[i]!);
      if (i % PLAN_SLICE === PLAN_SLICE - 1) await yieldToEventLoop();
    }
    const selection = this.integration.selectSeries
      ? this.integration.selectSeries(kept, resources, context)
      : { emit: kept };
    const builder = new QueryBuilder(this, context, await indexBySeries(cached?.queries ?? []));
    let planned = 0;
    for (const s of selection.emit) {
      if (++planned % PLAN_SLICE === 0) await yieldToEventLoop();
      const byStatistic = this.selection.rowsByStatistic(s, this.selection.scopeOf(s)!);
      if (byStatistic.length === 0) continue;
      builder.addSeries(s, byStatistic, tagger.tagsOf(s));
    }
    for (const ref of selection.reference ?? []) {
      if (++planned % PLAN_SLICE === 0) await yieldToEventLoop();
      builder.add(ref.series, () => this.metricOf(ref.series), ref.statistic, NO_ROWS, NO_SERIES_TAGS, false);
    }
    const plan: RegionPlan<R> = {
      version: discovered.version,
      queries: builder.queries,
      tagLists: tagger.tagLists,
      inventory: this.inventory(context, resources, accepts, tagger),
      resources,
    };
    this.plans.set(context.region, plan);
    this.logger.debug(
      `${context.region}: planned ${plan.queries.length} queries from ${discovered.series.length} discovered series`,
    );
    return plan;
  }

  /** A new query's GetMetricData Id, unique within every plan of this instance. */
  nextRequestId(): string {
    return `q${(this.queryNumber++).toString(36)}`;
  }

  /** Whether a series is collected: its scope is enabled, its resource's name and AWS tags pass. */
  private accepts(s: Series, discovered: DiscoveredRegion<R>): boolean {
    if (!this.selection.scopeOf(s)) return false;
    if (!this.selection.acceptsResource(this.integration.resourceName(s, discovered.resources))) return false;
    const tagFilters = this.config.tag_filters;
    if (tagFilters) {
      const tags = this.integration.resourceAwsTags?.(s, discovered.resources, discovered.awsTags);
      if (tags !== undefined && !matchesTagFilters(tags, tagFilters)) return false;
    }
    return true;
  }

  /** The SDK only reads it: one object can serve several queries of a series. */
  /** Frozen: the request codec writes a frozen Metric's JSON once (a Series never changes). */
  metricOf(s: Series): Metric {
    return Object.freeze({
      Namespace: this.integration.namespace,
      MetricName: s.metricName,
      Dimensions: s.dimensions as CloudWatchDimension[],
    });
  }

  inspects(s: Series, statistic: string): boolean {
    return (
      this.integration.inspectPoints !== undefined && (this.integration.inspects?.(s, statistic) ?? true)
    );
  }

  cursorId(context: RegionContext, s: Series, statistic: string): string {
    return this.cursorIdOf(context.region, context.accountId, s, statistic);
  }

  /** Inventory values (no CloudWatch source) of accepted resources, restricted to the kept metrics. */
  private inventory(
    context: RegionContext,
    resources: R,
    accepts: (s: Series) => boolean,
    tagger: SeriesTagger<R>,
  ): InventoryValues[] {
    const names = new Set(
      this.integration.metrics
        .filter((row) => !row.cloudwatchMetric && this.selection.metricFilter.accepts(row.metricName))
        .map((row) => row.metricName),
    );
    return (this.integration.inventory?.(resources, context) ?? [])
      .filter((item) => accepts(item.series))
      .map((item) => ({
        values: Object.fromEntries(Object.entries(item.values).filter(([name]) => names.has(name))),
        tags: tagger.tagsOf(item.series),
      }));
  }
}

/** Collects one plan's queries, reusing the previous plan's where nothing changed. */
class QueryBuilder<R> {
  readonly queries: PlannedQuery[] = [];

  constructor(
    private readonly planner: QueryPlanner<R>,
    private readonly context: RegionContext,
    private readonly previousBySeries: ReadonlyMap<Series, PlannedQuery[]>,
  ) {}

  /** The series' queries, one per statistic, sharing one Metric (none is built if all are kept). */
  addSeries(s: Series, byStatistic: readonly [string, MetricRow[]][], tags: SeriesTags): void {
    let metric: Metric | undefined;
    const sharedMetric = (): Metric => (metric ??= this.planner.metricOf(s));
    for (const [statistic, rows] of byStatistic) this.add(s, sharedMetric, statistic, rows, tags, true);
  }

  add(
    s: Series,
    metric: () => Metric,
    statistic: string,
    rows: readonly MetricRow[],
    tags: SeriesTags,
    emitted: boolean,
  ): void {
    const inspected = this.planner.inspects(s, statistic);
    const kept = this.previousBySeries
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
      this.queries.push(kept);
      return;
    }
    this.queries.push(
      new PlannedQuery(
        emitted ? this.planner.cursorId(this.context, s, statistic) : '',
        s,
        statistic,
        rows,
        tags,
        emitted,
        inspected,
        this.planner.nextRequestId(),
        metric(),
        this.context.config.period,
      ),
    );
  }
}

/** The previous plan's queries by series (discovery hands back the same Series objects). */
async function indexBySeries(queries: readonly PlannedQuery[]): Promise<Map<Series, PlannedQuery[]>> {
  const bySeries = new Map<Series, PlannedQuery[]>();
  for (let i = 0; i < queries.length; i++) {
    if (i % WORK_SLICE === WORK_SLICE - 1) await yieldToEventLoop();
    const q = queries[i]!;
    const list = bySeries.get(q.series);
    if (list) list.push(q);
    else bySeries.set(q.series, [q]);
  }
  return bySeries;
}

export function matchesTagFilters(
  tags: Readonly<Record<string, string>>,
  filters: Readonly<Record<string, readonly string[]>>,
): boolean {
  return Object.entries(filters).every(
    ([key, values]) => tags[key] !== undefined && values.includes(tags[key]),
  );
}
