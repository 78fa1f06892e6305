import { normalizeMetricName } from '../check/normalize.js';
import type { MetricRow } from '../cloudwatch/metric-table.js';
import type { AssetOptions } from '../check/asset.js';

/**
 * Tags that may be on every metric dogwatch sends: DD_ENV, DD_SERVICE and DD_VERSION (or an instance's
 * `tags:` / `service:`) become `env:`, `service:`, `version:`. A dashboard may filter on them.
 */
export const DEPLOYMENT_TAGS: readonly string[] = ['env', 'service', 'version'];

/** Self-metrics are sent by the runtime under `dogwatch.`, never namespaced (see SelfTelemetry). */
const SELF_METRIC_PREFIX = 'dogwatch.';

export interface CatalogMetric {
  /** As in metadata.csv, or a `dogwatch.*` self-metric as the README lists it. */
  readonly name: string;
  readonly type: 'count' | 'gauge';
  readonly unit: string;
  /** Tag keys every series of the metric carries, besides DEPLOYMENT_TAGS. */
  readonly tags: readonly string[];
}

export type SpaceAggregation = 'sum' | 'avg' | 'max' | 'min';
/** How a scalar widget (query value, toplist, table) reduces a query over the time frame. */
export type Reducer = 'sum' | 'avg' | 'max' | 'min' | 'last';

export interface MetricQuery {
  /** A Datadog metrics query, e.g. `sum:aws.lambda.errors{$region} by {functionname}.as_count()`. */
  readonly query: string;
  readonly reducer: Reducer;
}

export interface QuerySpec {
  /** Tag keys to group by. */
  readonly by?: readonly string[];
  /** Fixed `key:value` filters, e.g. `at_edge:true`. */
  readonly filter?: readonly string[];
  /** The unit the asset assumes (e.g. `second`): generation fails if metadata.csv says otherwise. */
  readonly unit?: string;
  /** Default: `sum` for counts, `avg` for gauges. */
  readonly reducer?: Reducer;
}

/**
 * Queries over one catalog, with the template variables of the dashboard they are for: a variable
 * filters a metric only when the metric carries its tag (account-wide Lambda series have no
 * `functionname`, and `$functionname` would otherwise empty them).
 */
export class MetricQueries {
  constructor(
    private readonly catalog: MetricCatalog,
    private readonly templateVariables: readonly string[],
  ) {}

  sum(name: string, spec?: QuerySpec): MetricQuery {
    return this.catalog.query('sum', name, spec, this.templateVariables);
  }
  avg(name: string, spec?: QuerySpec): MetricQuery {
    return this.catalog.query('avg', name, spec, this.templateVariables);
  }
  max(name: string, spec?: QuerySpec): MetricQuery {
    return this.catalog.query('max', name, spec, this.templateVariables);
  }
  min(name: string, spec?: QuerySpec): MetricQuery {
    return this.catalog.query('min', name, spec, this.templateVariables);
  }
}

/**
 * The metrics an asset may query, with their types, units and tags, and the namespace they are sent
 * under. Every query an asset makes goes through here, so a metric missing from metadata.csv, a tag
 * its series do not carry or a unit mismatch fails generation instead of shipping an empty graph.
 */
export class MetricCatalog {
  private readonly metrics: ReadonlyMap<string, CatalogMetric>;

  constructor(
    metrics: readonly CatalogMetric[],
    private readonly options: AssetOptions = {},
  ) {
    this.metrics = new Map(metrics.map((m) => [m.name, m]));
  }

  /**
   * A check's catalog from its metadata.csv rows. `scopeTags` names the tags of each dimension scope's
   * series; a row that spans scopes (`rest+http`) gets the tags common to all of them.
   */
  static fromMetricTable(
    rows: readonly MetricRow[],
    scopeTags: Readonly<Record<string, readonly string[]>>,
    options: AssetOptions,
    extra: readonly CatalogMetric[] = [],
  ): MetricCatalog {
    const metrics = rows.map((row): CatalogMetric => {
      const sets = row.scopes.map((scope) => {
        const tags = scopeTags[scope];
        if (!tags) throw new Error(`${row.metricName}: no tags declared for dimension scope "${scope}"`);
        return tags;
      });
      const tags = sets.reduce((common, next) => common.filter((tag) => next.includes(tag)));
      return { name: row.metricName, type: row.type, unit: row.unit, tags };
    });
    return new MetricCatalog([...metrics, ...extra], options);
  }

  has(name: string): boolean {
    return this.metrics.has(name);
  }

  /** The name as it reaches Datadog: `<namespace>.<name>` when namespaced, as the runtime writes it. */
  emittedName(name: string): string {
    const namespace = this.options.namespace;
    if (!namespace || name.startsWith(SELF_METRIC_PREFIX)) return name;
    const prefixed = normalizeMetricName(`${namespace}.${name}`);
    if (prefixed === undefined) throw new Error(`namespace "${namespace}" leaves no valid metric name`);
    return prefixed;
  }

  forDashboard(templateVariables: readonly string[]): MetricQueries {
    return new MetricQueries(this, templateVariables);
  }

  /** Monitors have no template variables: they group by tags instead. */
  forMonitors(): MetricQueries {
    return new MetricQueries(this, []);
  }

  query(
    aggregation: SpaceAggregation,
    name: string,
    spec: QuerySpec = {},
    templateVariables: readonly string[] = [],
  ): MetricQuery {
    const metric = this.metrics.get(name);
    if (!metric) throw new Error(`${name} is not in the metric table (metadata.csv or the self-metrics)`);
    if (spec.unit !== undefined && spec.unit !== metric.unit) {
      throw new Error(`${name} is in "${metric.unit}" in the metric table; the asset assumes "${spec.unit}"`);
    }
    const carried = new Set([...metric.tags, ...DEPLOYMENT_TAGS]);
    const filters = spec.filter ?? [];
    for (const key of [...(spec.by ?? []), ...filters.map((f) => f.split(':')[0] ?? f)]) {
      if (!carried.has(key)) throw new Error(`${name} series carry no "${key}" tag`);
    }
    const scope = [...filters, ...templateVariables.filter((v) => carried.has(v)).map((v) => `$${v}`)];
    const by = spec.by?.length ? ` by {${spec.by.join(',')}}` : '';
    const count = metric.type === 'count' ? '.as_count()' : '';
    return {
      query: `${aggregation}:${this.emittedName(name)}{${scope.join(',') || '*'}}${by}${count}`,
      reducer: spec.reducer ?? (metric.type === 'count' ? 'sum' : 'avg'),
    };
  }
}
