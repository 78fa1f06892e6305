/** A CloudWatch metric stream as ListMetrics names it. */
export interface Dimension {
  readonly Name: string;
  readonly Value: string;
}

export interface Series {
  readonly metricName: string;
  /** Sorted by Name: the canonical order used in keys. */
  readonly dimensions: readonly Dimension[];
  /** `MetricName|Name=Value,…`, unique within a namespace and region. */
  readonly key: string;
}

export function makeSeries(metricName: string, dimensions: readonly Dimension[]): Series {
  const sorted = [...dimensions].sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
  return {
    metricName,
    dimensions: sorted,
    key: `${metricName}|${sorted.map((d) => `${d.Name}=${d.Value}`).join(',')}`,
  };
}

/** Dimension names, sorted and comma-joined: how scopes are matched. */
export function dimensionSignature(names: readonly string[]): string {
  return [...names].sort().join(',');
}

export function dimensionValue(series: Series, name: string): string | undefined {
  return series.dimensions.find((d) => d.Name === name)?.Value;
}
