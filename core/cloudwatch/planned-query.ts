import type { Metric } from '@aws-sdk/client-cloudwatch';
import { MetricStatQuery } from '../aws/get-metric-data-request.js';
import type { CloudWatchInstanceOptions } from './engine-options.js';
import type { MetricRow } from './metric-table.js';
import type { Series } from './series.js';

/** The options of one instance of a CloudWatch integration, as its stages read them. */
export type InstanceConfig = Readonly<CloudWatchInstanceOptions & Record<string, unknown>>;

/** A series' tags: the identifying ones (dimensions, region, account) first, then descriptive ones. */
export interface SeriesTags {
  readonly tags: readonly string[];
  /** How many leading tags identify the series: the runtime never trims those to fit a datagram. */
  readonly identity: number;
}
export const NO_SERIES_TAGS: SeriesTags = Object.freeze({ tags: Object.freeze([]), identity: 0 });

/**
 * One (series × statistic) to collect, with everything needed to emit its points. Built when first
 * planned, kept by every later plan while its series, rows and tags stay the same, and reused by every
 * run: a run allocates nothing per query that outlives it. It is its own GetMetricData query (Id,
 * MetricStat, ReturnData; see MetricStatQuery): a plan holds one object per query, not three.
 */
export class PlannedQuery extends MetricStatQuery {
  constructor(
    /** Cursor id in the shared cursor store. Empty for reference queries. */
    readonly id: string,
    readonly series: Series,
    readonly statistic: string,
    /** Shared by every query with the same metric, statistic and scopes. */
    readonly rows: readonly MetricRow[],
    /** Shared by every query of the series' resource; the same object for every point. */
    readonly tags: SeriesTags,
    /** False for reference queries (fetched for inspection, never emitted, no cursor). */
    readonly emitted: boolean,
    /** Its points go to the integration's inspectPoints. */
    readonly inspected: boolean,
    /** Unique within the plan, so the same object serves every run, in whatever batch. */
    readonly Id: string,
    /** Shared by the series' queries; frozen. */
    readonly metric: Metric,
    readonly period: number,
  ) {
    super();
  }
}

/** Values that do not come from CloudWatch, with the tags of the resource they describe. */
export interface InventoryValues {
  readonly values: Readonly<Record<string, number>>;
  readonly tags: SeriesTags;
}

/** What one region collects until discovery brings something new. */
export interface RegionPlan<R> {
  /** The discovery it was built from (see SeriesDiscovery): a new version means a new plan. */
  readonly version: string;
  readonly queries: readonly PlannedQuery[];
  /** Tag lists by content: the next plan shares them, so that its queries can be the same objects. */
  readonly tagLists: ReadonlyMap<string, SeriesTags>;
  readonly inventory: readonly InventoryValues[];
  readonly resources: R;
}

/**
 * Progress of one query: `w` is the end of its last settled period (ms); `seen` lists period starts
 * ≥ w already sent (points that arrived while an earlier period is still awaited). A view of the
 * query's entry in the cursor store, whose marks are numbers for metric cursors.
 */
export interface QueryProgress {
  readonly w: number;
  readonly seen: readonly number[];
}

/** One GetMetricData request of a run: queries and their progress, as parallel lists. */
export interface Batch {
  readonly queries: PlannedQuery[];
  readonly progress: QueryProgress[];
}
export const EMPTY_BATCH: Batch = Object.freeze({ queries: [], progress: [] });

export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name !== 'Error' ? `${error.name}: ` : ''}${error.message}`;
  return String(error);
}
