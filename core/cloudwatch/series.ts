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
  const sorted = sortDimensions(dimensions);
  return { metricName, dimensions: sorted, key: seriesKey(metricName, sorted) };
}

function sortDimensions(dimensions: readonly Dimension[]): Dimension[] {
  return [...dimensions].sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
}

function seriesKey(metricName: string, sorted: readonly Dimension[]): string {
  // Built with join, not a template: a template leaves a rope (a string object per part) alive as
  // long as the series, and discovery keeps every series it found.
  return [metricName, sorted.map((d) => [d.Name, d.Value].join('=')).join(',')].join('|');
}

/**
 * Shares equal strings and dimensions between the series of one discovery: every series of a function
 * repeats its name, and ListMetrics' JSON gives each its own copy. Given the previous discovery, a
 * series found again is that same object: a refresh then allocates only for what is new, and the
 * engine can keep the queries it planned for the series that stayed (see CloudWatchEngine.plan).
 */
export class SeriesInterner {
  private readonly strings = new Map<string, string>();
  private readonly dimensions = new Map<string, Dimension>();
  private readonly previous = new Map<string, Series>();

  /** A series of the previous discovery: found again, it is returned as is. */
  remember(series: Series): void {
    this.previous.set(series.key, series);
  }

  series(metricName: string, dimensions: readonly { Name: string; Value: string }[]): Series {
    const sorted = sortDimensions(dimensions);
    const key = seriesKey(metricName, sorted);
    const known = this.previous.get(key);
    if (known !== undefined) return known;
    return {
      metricName: this.string(metricName),
      dimensions: sorted.map((d) => this.dimension(d.Name, d.Value)),
      key,
    };
  }

  string(value: string): string {
    const known = this.strings.get(value);
    if (known !== undefined) return known;
    this.strings.set(value, value);
    return value;
  }

  dimension(name: string, value: string): Dimension {
    const key = `${name}\u0000${value}`;
    let known = this.dimensions.get(key);
    if (known === undefined) {
      known = Object.freeze({ Name: this.string(name), Value: this.string(value) });
      this.dimensions.set(key, known);
    }
    return known;
  }
}

/** Dimension names, sorted and comma-joined: how scopes are matched. */
export function dimensionSignature(names: readonly string[]): string {
  return [...names].sort().join(',');
}

export function dimensionValue(series: Series, name: string): string | undefined {
  return series.dimensions.find((d) => d.Name === name)?.Value;
}
