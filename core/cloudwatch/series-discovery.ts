import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { ListMetricsCommand } from '@aws-sdk/client-cloudwatch';
import { GetResourcesCommand } from '@aws-sdk/client-resource-groups-tagging-api';
import type { Clock } from '../clock.js';
import type { Logger } from '../log/logger.js';
import { awsCallScope } from '../aws/aws-call-stats.js';
import type { AwsAccess, AwsClientFactory } from '../aws/aws-client-factory.js';
import { PermissionDeniedError } from '../aws/permission-denied.js';
import type { CloudWatchIntegration, RegionContext } from './integration.js';
import type { MetricSelection } from './metric-selection.js';
import { describeError, type InstanceConfig } from './planned-query.js';
import { type Series, SeriesInterner } from './series.js';
import { TtlCache } from './ttl-cache.js';

/** Previous series looked at between two yields to the event loop while a refresh indexes them. */
const WORK_SLICE = 5_000;

/** AWS tags by resource ARN. */
export type AwsTagsByArn = ReadonlyMap<string, Readonly<Record<string, string>>>;

/** What discovery knows of one region: its series, the integration's inventory and the AWS tags. */
export interface DiscoveredRegion<R> {
  readonly series: readonly Series[];
  readonly resources: R;
  readonly awsTags: AwsTagsByArn;
  /** Changes whenever one of the three was refreshed: the plan is rebuilt then, and only then. */
  readonly version: string;
  /**
   * A refresh begun by an earlier run is still under way: the plan waits for it rather than being
   * rebuilt once per refresh (the three finish at different times).
   */
  readonly refreshPending: boolean;
}

/**
 * Series discovery of one instance: ListMetrics (every page), the integration's resource inventory and
 * the resources' AWS tags (Resource Groups Tagging API), each cached for `discovery_ttl` and refreshed
 * in the background. Optional calls that IAM denies degrade with a warning (see `warnings`).
 */
export class SeriesDiscovery<R> {
  private readonly series: TtlCache<Series[]>;
  private readonly resources: TtlCache<R>;
  private readonly tags: TtlCache<Map<string, Record<string, string>>>;
  /** Optional discovery IAM denies, by feature: the warning each run repeats until it is allowed. */
  private readonly degraded = new Map<string, string>();

  constructor(
    private readonly integration: CloudWatchIntegration<R>,
    private readonly config: InstanceConfig,
    private readonly selection: MetricSelection,
    private readonly access: AwsAccess,
    private readonly clients: AwsClientFactory,
    clock: Clock,
    logger: Logger,
  ) {
    const onRefreshError = (key: string, error: unknown): void => {
      logger.warn(`background refresh of ${key} failed, keeping the cached copy: ${describeError(error)}`);
    };
    this.series = new TtlCache(clock, onRefreshError);
    this.resources = new TtlCache(clock, onRefreshError);
    this.tags = new TtlCache(clock, onRefreshError);
  }

  /** The warnings of degraded features, to raise on every run until they recover. */
  warnings(): Iterable<string> {
    return this.degraded.values();
  }

  async discover(context: RegionContext): Promise<DiscoveredRegion<R>> {
    const { region } = context;
    const ttl = this.config.discovery_ttl * 1000;
    const taggedTypes = this.integration.taggedResourceTypes ?? [];
    const tagsKey = tagsCacheKey(taggedTypes, region);
    // Asked before the gets below start this run's refreshes: a refresh begun now must not hold back
    // what earlier ones brought in (with a TTL shorter than the interval, every run starts one).
    const refreshPending =
      this.series.refreshing(region) || this.resources.refreshing(region) || this.tags.refreshing(tagsKey);
    const [series, resources] = await Promise.all([
      this.series.get(region, ttl, (previous) => this.listMetrics(context, previous)),
      this.integration.loadResources
        ? this.resources.get(region, ttl, () => this.loadResources(context))
        : Promise.resolve(undefined as R),
    ]);
    const awsTags: AwsTagsByArn =
      taggedTypes.length > 0 ? await this.resourceTags(taggedTypes, region) : new Map();
    const version = [
      this.series.loadedAt(region),
      this.resources.loadedAt(region),
      this.tags.loadedAt(tagsKey),
    ].join('|');
    return { series, resources, awsTags, version, refreshPending };
  }

  /** The inventory of every region loaded so far, by region (without loading anything). */
  loadedResources(): ReadonlyMap<string, R> {
    return this.resources.loaded();
  }

  /** AWS tags by ARN of resources of `types` in `region`, cached with the discovery TTL. */
  resourceTags(types: readonly string[], region: string): Promise<Map<string, Record<string, string>>> {
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

  /**
   * ListMetrics, every page; per metric name when the instance's `metrics` filter narrows the table.
   * A series of the previous discovery found again is returned as the same object, so that the plan
   * can keep that series' queries as they are.
   */
  private async listMetrics(context: RegionContext, previous: readonly Series[] = []): Promise<Series[]> {
    const interner = new SeriesInterner();
    for (let i = 0; i < previous.length; i++) {
      if (i % WORK_SLICE === WORK_SLICE - 1) await yieldToEventLoop();
      interner.remember(previous[i]!);
    }
    const names = this.selection.metricFilter.narrows ? [...this.selection.rowsByMetric.keys()] : [undefined];
    const found: Series[] = [];
    for (const metricName of names) await this.listMetricsNamed(context, metricName, interner, found);
    return found;
  }

  private async listMetricsNamed(
    context: RegionContext,
    metricName: string | undefined,
    interner: SeriesInterner,
    found: Series[],
  ): Promise<void> {
    const client = this.clients.client('cloudwatch', this.access, context.region);
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
        if (typeof m.MetricName !== 'string' || !this.selection.rowsByMetric.has(m.MetricName)) continue;
        const dims = m.Dimensions ?? [];
        if (
          !Array.isArray(dims) ||
          !dims.every((d) => typeof d.Name === 'string' && typeof d.Value === 'string')
        ) {
          throw new Error(`malformed ListMetrics response: bad dimensions on ${m.MetricName}`);
        }
        // A series no enabled scope collects is never planned: not keeping it saves a Series per
        // dimension set the instance leaves off (per version, per alias: as many as the ones it keeps).
        if (!this.selection.scopeOfDimensions(dims as { Name: string }[])) continue;
        found.push(interner.series(m.MetricName, dims as { Name: string; Value: string }[]));
      }
      nextToken = page.NextToken || undefined;
    } while (nextToken);
  }

  private async listResourceTags(
    types: readonly string[],
    region: string,
  ): Promise<Map<string, Record<string, string>>> {
    const client = this.clients.client('tagging', this.access, region);
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
   * missing; that warning is raised on every run until the call succeeds again.
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
}

/** The tags cache holds one entry per (region, resource types asked for). */
function tagsCacheKey(types: readonly string[], region: string): string {
  return `${region}|${types.join(',')}`;
}
