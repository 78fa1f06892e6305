import { normalizeTags } from '../check/normalize.js';
import type { Sink, SinkStats } from '../sink/sink.js';
import type { RunOutcome } from './run-outcome.js';
import type { SubmissionCounts } from './instance-submitter.js';

/** Both InstanceIdentity and the check-side InstanceInfo carry these. */
export interface InstanceIdentity {
  readonly checkName: string;
  readonly instanceId: string;
}

/**
 * dogwatch's own metrics, under `dogwatch.` (never namespaced, never `host:`-stripped: they describe
 * the sidecar itself). Sent without timestamps, like any Agent check's telemetry.
 */
export class SelfTelemetry {
  private lastSinkStats: SinkStats | undefined;

  constructor(
    private readonly sink: Sink,
    private readonly globalTags: readonly string[],
  ) {}

  private tags(instance: InstanceIdentity): string[] {
    return [`check:${instance.checkName}`, `instance:${instance.instanceId}`, ...this.globalTags];
  }

  private send(metric: string, type: 'gauge' | 'count', value: number, tags: readonly string[]): void {
    if (!Number.isFinite(value)) return;
    this.sink.submit({
      kind: 'metric',
      metric: `dogwatch.${metric}`,
      type,
      value,
      tags: normalizeTags(tags),
    });
  }

  run(instance: InstanceIdentity, outcome: RunOutcome, counts: SubmissionCounts): void {
    const tags = this.tags(instance);
    this.send('check.runs', 'count', 1, tags);
    this.send('check.run_duration', 'gauge', outcome.durationMs / 1000, tags);
    if (!outcome.ok) this.send('check.run_errors', 'count', 1, tags);
    if (outcome.timedOut) this.send('check.run_timeouts', 'count', 1, tags);
    this.send('check.samples', 'count', counts.metricSamples, tags);
    if (counts.rejected > 0) this.send('check.rejected_samples', 'count', counts.rejected, tags);
    if (counts.trimmed > 0) this.send('check.trimmed_samples', 'count', counts.trimmed, tags);
  }

  skippedRun(instance: InstanceIdentity): void {
    this.send('check.skipped_runs', 'count', 1, this.tags(instance));
  }

  /** Instance-scoped engine figures (API calls, metrics requested, lag …), named by the caller. */
  instanceMetric(
    instance: InstanceIdentity,
    metric: string,
    type: 'gauge' | 'count',
    value: number,
    tags: readonly string[] = [],
  ): void {
    this.send(metric, type, value, [...tags, ...this.tags(instance)]);
  }

  /** Sends the sink's counters as deltas since the last call. */
  reportSink(stats: SinkStats): void {
    const previous = this.lastSinkStats;
    this.lastSinkStats = { ...stats };
    if (!previous) return;
    const tags = [...this.globalTags];
    this.send('sink.datagrams', 'count', stats.datagrams - previous.datagrams, tags);
    this.send('sink.bytes', 'count', stats.bytes - previous.bytes, tags);
    this.send('sink.send_errors', 'count', stats.sendErrors - previous.sendErrors, tags);
    this.send('sink.dropped', 'count', stats.dropped - previous.dropped, tags);
  }
}
