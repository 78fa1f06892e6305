import type { AssetDraft, MonitorJson } from '../check/asset.js';

/**
 * How long a monitor on CloudWatch-sourced metrics waits before it evaluates a window. dogwatch sends
 * each point with its CloudWatch timestamp 2–3 minutes after the period (the default `delay` of 120 s
 * plus the run interval), so the newest minutes of a window that ends now are still empty.
 */
export const CLOUDWATCH_EVALUATION_DELAY = 300;

export type Comparator = '>' | '>=' | '<' | '<=';

export interface MonitorSpec {
  readonly stem: string;
  /** The monitor's name; `{{functionname.name}}`-style variables name the group that alerts. */
  readonly name: string;
  /** How the expression is reduced over the window: `sum(last_15m):…`. */
  readonly reducer: 'sum' | 'avg' | 'max' | 'min';
  readonly window: 'last_5m' | 'last_10m' | 'last_15m' | 'last_30m' | 'last_1h';
  /** Metric queries (from a MetricCatalog) and arithmetic: `errors / invocations * 100`. */
  readonly expression: string;
  readonly comparator: Comparator;
  readonly critical: number;
  readonly warning?: number;
  /** What is wrong and what to look at; Markdown, Datadog template variables allowed. */
  readonly message: string;
  /** Seconds: CLOUDWATCH_EVALUATION_DELAY for CloudWatch metrics, 0 for dogwatch's own live metrics. */
  readonly evaluationDelay: number;
  /** Alert when the metric stops arriving for this many minutes (dogwatch's own heartbeat). */
  readonly noDataAfterMinutes?: number;
  readonly tags?: readonly string[];
}

/** A warning threshold must be crossed before the critical one, whichever way the comparison goes. */
function assertThresholdOrder(spec: MonitorSpec): void {
  if (spec.warning === undefined) return;
  const rising = spec.comparator === '>' || spec.comparator === '>=';
  if (rising ? spec.warning >= spec.critical : spec.warning <= spec.critical) {
    throw new Error(
      `monitor ${spec.stem}: warning ${spec.warning} must come before critical ${spec.critical} (${spec.comparator})`,
    );
  }
}

/**
 * A metric monitor in the Monitors API's JSON. The critical threshold is written once and appears both
 * in the query and in `options.thresholds`, which the API requires to agree.
 */
export function monitor(spec: MonitorSpec): AssetDraft {
  assertThresholdOrder(spec);
  const body: MonitorJson = {
    name: spec.name,
    type: 'query alert',
    query: `${spec.reducer}(${spec.window}):${spec.expression} ${spec.comparator} ${spec.critical}`,
    message: spec.message,
    tags: [...(spec.tags ?? [])],
    options: {
      thresholds: {
        critical: spec.critical,
        ...(spec.warning !== undefined ? { warning: spec.warning } : {}),
      },
      notify_no_data: spec.noDataAfterMinutes !== undefined,
      ...(spec.noDataAfterMinutes !== undefined ? { no_data_timeframe: spec.noDataAfterMinutes } : {}),
      // Counted events are sparse (no invocation, no point): a partly empty window is normal.
      require_full_window: false,
      evaluation_delay: spec.evaluationDelay,
      // A new function or API gets a few minutes of data before it can alert.
      new_group_delay: 300,
      include_tags: true,
      renotify_interval: 0,
    },
  };
  return { kind: 'monitor', stem: spec.stem, body };
}
