import type { CloudWatchIntegration, ScopeRule } from './integration.js';
import { NameFilter } from './engine-options.js';
import type { MetricRow } from './metric-table.js';
import type { InstanceConfig } from './planned-query.js';
import { dimensionSignature, type Series } from './series.js';

/**
 * What one instance collects, fixed by its configuration: the metric table's rows its `metrics` and
 * `statistics` keep, the dimension scopes it enables, and the resource-name filter. Every stage of
 * the metrics source asks it rather than reading the options itself.
 */
export class MetricSelection {
  /** CloudWatch metric name → the table rows (Datadog metrics) it feeds. */
  readonly rowsByMetric = new Map<string, MetricRow[]>();
  readonly metricFilter: NameFilter;
  private readonly resourceFilter: NameFilter;
  private readonly scopeBySignature = new Map<string, ScopeRule>();
  /** Rows by statistic, per (metric, scopes): shared by every plan. */
  private readonly rowsByKind = new Map<string, [string, MetricRow[]][]>();

  constructor(integration: Pick<CloudWatchIntegration, 'scopes' | 'metrics'>, config: InstanceConfig) {
    this.metricFilter = new NameFilter(config.metrics);
    const statisticFilter = new NameFilter(config.statistics);
    this.resourceFilter = new NameFilter(
      config.include || config.exclude ? { include: config.include, exclude: config.exclude } : undefined,
    );
    for (const rule of integration.scopes) {
      if (rule.enabled && !rule.enabled(config)) continue;
      this.scopeBySignature.set(dimensionSignature(rule.dimensions), rule);
    }
    for (const row of integration.metrics) {
      if (!row.cloudwatchMetric || !row.statistic) continue;
      if (!this.metricFilter.accepts(row.metricName, row.cloudwatchMetric)) continue;
      if (!statisticFilter.accepts(row.statistic)) continue;
      const list = this.rowsByMetric.get(row.cloudwatchMetric) ?? [];
      list.push(row);
      this.rowsByMetric.set(row.cloudwatchMetric, list);
    }
  }

  /** The scope rule of a series' dimension set; undefined when no enabled scope has that set. */
  scopeOf(series: Series): ScopeRule | undefined {
    return this.scopeOfDimensions(series.dimensions);
  }

  scopeOfDimensions(dimensions: readonly { readonly Name: string }[]): ScopeRule | undefined {
    return this.scopeBySignature.get(dimensionSignature(dimensions.map((d) => d.Name)));
  }

  acceptsResource(name: string | undefined): boolean {
    return this.resourceFilter.accepts(name);
  }

  /** The rows of a series, grouped by statistic (one query each); empty when none is kept. */
  rowsByStatistic(series: Series, rule: ScopeRule): readonly [string, MetricRow[]][] {
    const scopes = typeof rule.scope === 'string' ? [rule.scope] : rule.scope;
    const kind = `${series.metricName}|${scopes.join(',')}`;
    let byStatistic = this.rowsByKind.get(kind);
    if (!byStatistic) {
      const grouped = new Map<string, MetricRow[]>();
      for (const row of this.rowsByMetric.get(series.metricName) ?? []) {
        if (!row.scopes.some((x) => scopes.includes(x))) continue;
        grouped.set(row.statistic!, [...(grouped.get(row.statistic!) ?? []), row]);
      }
      byStatistic = [...grouped];
      this.rowsByKind.set(kind, byStatistic);
    }
    return byStatistic;
  }
}
