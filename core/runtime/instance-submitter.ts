import type { CheckSubmitter, EventOptions, ServiceCheckOptions, SubmitOptions } from '../check/check.js';
import { normalizeMetricName, TagNormalizer } from '../check/normalize.js';
import type { Logger } from '../log/logger.js';
import type { MetricType, ServiceCheckStatus } from '../sink/samples.js';
import type { Sink } from '../sink/sink.js';

export interface SubmitterOptions {
  /** Agent `namespace` option: prefixes every metric name of the instance. */
  readonly namespace?: string;
  /** Instance, check-level and global tags appended to every sample. */
  readonly tags: readonly string[];
  /** Metric samples get `host:` so the Agent attaches no host (AWS resources are not the sidecar). */
  readonly emptyHostname: boolean;
  readonly logger: Logger;
}

export interface SubmissionCounts {
  metricSamples: number;
  events: number;
  serviceChecks: number;
  /** Samples refused before the sink: non-finite values, names with nothing usable left. */
  rejected: number;
}

/**
 * The runtime's side of the check API: validates and normalises what a check submits, merges tags,
 * then hands well-formed samples to the sink. One per instance, reused across runs.
 */
export class InstanceSubmitter implements CheckSubmitter {
  private readonly metricTags: TagNormalizer;
  private readonly otherTags: TagNormalizer;
  private readonly names = new Map<string, string | undefined>();
  private readonly rejectedNames = new Set<string>();
  counts: SubmissionCounts = { metricSamples: 0, events: 0, serviceChecks: 0, rejected: 0 };
  warnings: string[] = [];
  private droppedSeen = 0;

  constructor(
    private sink: Sink,
    private readonly options: SubmitterOptions,
  ) {
    this.metricTags = new TagNormalizer(options.emptyHostname ? [...options.tags, 'host:'] : options.tags);
    this.otherTags = new TagNormalizer(options.tags);
  }

  /** Starts a new run: counters and warnings reset; `sink` may differ (e.g. `dogwatch check`). */
  beginRun(sink: Sink): void {
    this.sink = sink;
    this.counts = { metricSamples: 0, events: 0, serviceChecks: 0, rejected: 0 };
    this.warnings = [];
    this.droppedSeen = sink.stats().dropped;
  }

  gauge(metric: string, value: number, options?: SubmitOptions): void {
    this.metric('gauge', metric, value, options);
  }

  count(metric: string, value: number, options?: SubmitOptions): void {
    this.metric('count', metric, value, options);
  }

  event(title: string, text: string, options: EventOptions = {}): void {
    this.counts.events++;
    this.sink.submit({
      kind: 'event',
      title,
      text,
      timestamp: options.timestamp,
      aggregationKey: options.aggregationKey,
      priority: options.priority,
      alertType: options.alertType,
      sourceTypeName: options.sourceTypeName,
      tags: this.otherTags.merge(options.tags),
    });
  }

  serviceCheck(name: string, status: ServiceCheckStatus, options: ServiceCheckOptions = {}): void {
    const normalized = this.metricName(name);
    if (normalized === undefined) return;
    this.counts.serviceChecks++;
    this.sink.submit({
      kind: 'service_check',
      name: normalized,
      status,
      message: options.message,
      timestamp: options.timestamp,
      tags: this.otherTags.merge(options.tags),
    });
  }

  warning(message: string): void {
    this.warnings.push(message);
    this.options.logger.warn(message);
  }

  /**
   * Rejects when the sink had to drop samples since the last flush (socket gone, queue full): the
   * caller must then not record progress, so the points are fetched and sent again.
   */
  async flush(): Promise<void> {
    await this.sink.flush();
    const dropped = this.sink.stats().dropped;
    if (dropped > this.droppedSeen) {
      const lost = dropped - this.droppedSeen;
      this.droppedSeen = dropped;
      throw new Error(`the DogStatsD sink dropped ${lost} sample(s) (Agent socket unavailable?)`);
    }
  }

  private metric(type: MetricType, metric: string, value: number, options?: SubmitOptions): void {
    const name = this.metricName(metric);
    if (name === undefined || !Number.isFinite(value)) {
      // Never NaN or Infinity on the wire; say so once per name rather than once per point.
      this.counts.rejected++;
      const key = `${metric}|${Number.isFinite(value) ? 'name' : 'value'}`;
      if (!this.rejectedNames.has(key)) {
        this.rejectedNames.add(key);
        this.options.logger.warn(
          name === undefined
            ? `metric name "${metric}" has no valid characters; dropped`
            : `metric ${metric} submitted a non-finite value (${value}); dropped`,
        );
      }
      return;
    }
    this.counts.metricSamples++;
    this.sink.submit({
      kind: 'metric',
      metric: name,
      type,
      value,
      timestamp: options?.timestamp,
      tags: this.metricTags.merge(options?.tags),
    });
  }

  private metricName(metric: string): string | undefined {
    let name = this.names.get(metric);
    if (name === undefined && !this.names.has(metric)) {
      name = normalizeMetricName(this.options.namespace ? `${this.options.namespace}.${metric}` : metric);
      this.names.set(metric, name);
    }
    return name;
  }
}
