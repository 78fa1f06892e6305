import type { Logger } from '../log/logger.js';
import type { LogGroupTarget } from '../cloudwatch-logs/log-group-target.js';
import type { AwsAccess, AwsClientFactory } from '../aws/aws-client-factory.js';
import type { CloudWatchInstanceOptions } from './engine-options.js';
import type { MetricRow } from './metric-table.js';
import type { Series } from './series.js';

/** A dimension set that identifies a scope of the metric contract (`function` = {FunctionName}). */
export interface ScopeRule {
  /** Metric-table scope name(s) these series take rows from (HTTP and WebSocket share dimensions). */
  readonly scope: string | readonly string[];
  readonly dimensions: readonly string[];
  /** Opt-in scopes (aliases, event source mappings) are kept only when this returns true. */
  readonly enabled?: (config: Readonly<Record<string, unknown>>) => boolean;
  /**
   * Dimensions whose values are names users choose, case-sensitive in AWS (FunctionName, Stage …):
   * a series with an upper-case letter there also gets `case_id` (see the engine), so that names that
   * differ only in case stay apart once Datadog lowercases the tags.
   */
  readonly userNamed?: readonly string[];
  /** Tags for the dimensions of this scope; default: `lowercase(Name):Value` for each dimension. */
  readonly tags?: (series: Series) => readonly string[];
}

/** What an integration hook sees of one (account, region). */
export interface RegionContext {
  readonly region: string;
  readonly accountId: string;
  readonly access: AwsAccess;
  readonly clients: AwsClientFactory;
  readonly config: Readonly<CloudWatchInstanceOptions & Record<string, unknown>>;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  /** AWS tags of resources of these Tagging API types in `region` (default: this region), cached. */
  resourceTags(
    resourceTypes: readonly string[],
    region?: string,
  ): Promise<ReadonlyMap<string, Readonly<Record<string, string>>>>;
  /** Raised on the instance's status and logged. */
  warn(message: string): void;
  /** An integration's own `dogwatch.*` self-metric (not sent by `dogwatch check`). */
  selfMetric(metric: string, type: 'gauge' | 'count', value: number, tags?: readonly string[]): void;
}

/**
 * A value that does not come from CloudWatch (aws.lambda.memorysize), attached to a synthetic series so
 * that it is filtered and tagged exactly like the resource's CloudWatch series.
 */
export interface InventoryItem {
  readonly series: Series;
  /** Datadog metric name (a row of the metric table without a CloudWatch source) → value. */
  readonly values: Readonly<Record<string, number>>;
}

/**
 * How an integration describes itself to the engine. The engine discovers, plans, fetches, maps and
 * emits; the integration only declares its metric table and scopes, plus small enrichment hooks.
 *
 * `R` is whatever inventory the integration loads per region (functions, APIs); the engine caches it
 * for `discovery_ttl` and hands it to the hooks.
 */
export interface CloudWatchIntegration<R = unknown> {
  readonly namespace: string;
  readonly metrics: readonly MetricRow[];
  readonly scopes: readonly ScopeRule[];
  /** Tagging API resource types whose tags `tag_filters` are evaluated on (e.g. lambda:function). */
  readonly taggedResourceTypes?: readonly string[];
  /** The name include/exclude patterns match (FunctionName, ApiName …); undefined = not filterable. */
  resourceName(series: Series, resources: R): string | undefined;
  /** Loads the region's inventory (cached by the engine). */
  loadResources?(context: RegionContext): Promise<R>;
  /**
   * The inventory is optional: when IAM denies its calls, the engine uses `empty` (metrics are still
   * collected) and warns that `loses` (e.g. "resource attributes are missing") until it is allowed.
   */
  readonly optionalInventory?: { empty(context: RegionContext): R; readonly loses: string };
  /**
   * The AWS tags `tag_filters` are matched against (`awsTags` holds the region's Tagging API answer by
   * ARN); undefined = the series belongs to no taggable resource and is not filtered by tags.
   */
  resourceAwsTags?(
    series: Series,
    resources: R,
    awsTags: ReadonlyMap<string, Readonly<Record<string, string>>>,
  ): Readonly<Record<string, string>> | undefined;
  /** Extra tags of a series (resource attributes, AWS tags, Lambda@Edge). Computed once per plan. */
  seriesTags?(
    series: Series,
    resources: R,
    context: RegionContext,
    awsTags: ReadonlyMap<string, Readonly<Record<string, string>>>,
  ): readonly string[];
  /**
   * Chooses among discovered series (API Gateway: the most detailed per stage). `reference` queries are
   * fetched in the same batches but never emitted; their points reach `inspectPoints` only.
   */
  selectSeries?(series: readonly Series[], resources: R, context: RegionContext): SeriesSelection;
  /** Values that do not come from CloudWatch (aws.lambda.memorysize), sent once per run without timestamp. */
  inventory?(resources: R, context: RegionContext): readonly InventoryItem[];
  /**
   * Called once a region's points of the run are known, to check them (API Gateway: detailed series that
   * do not add up to the stage totals).
   */
  inspectPoints?(points: readonly EmittedPoint[], resources: R, context: RegionContext): void;
  /**
   * Which queries' points inspectPoints needs (default: every query's). Decided once per plan; the
   * points of other queries are not kept for inspection (an object per point, held for the whole run).
   */
  inspects?(series: Series, statistic: string): boolean;
  /**
   * The log groups of the region's resources (`collect_logs`), from the cached inventory: each with the
   * ddsource, service, tags and attributes of its records. Absent: the integration has no logs.
   */
  logGroups?(
    resources: R,
    context: RegionContext,
    awsTags: ReadonlyMap<string, Readonly<Record<string, string>>>,
  ): readonly LogGroupCandidate[];
}

/** A log group an integration found, with what the instance's `include`/`exclude` and `tag_filters` judge. */
export interface LogGroupCandidate {
  readonly target: LogGroupTarget;
  /** The name `include`/`exclude` match (function name, API name). */
  readonly resourceName: string;
  /** The resource's AWS tags, for `tag_filters`; undefined = not filtered by tags. */
  readonly awsTags?: Readonly<Record<string, string>>;
}

export interface SeriesSelection {
  readonly emit: readonly Series[];
  readonly reference?: readonly { readonly series: Series; readonly statistic: string }[];
}

export interface EmittedPoint {
  /** False for `reference` points, fetched only to be inspected. */
  readonly emitted: boolean;
  readonly series: Series;
  readonly statistic: string;
  readonly timestamp: number;
  readonly value: number;
}
