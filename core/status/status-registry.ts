import type { SourceRunFigures } from '../check/check.js';

/**
 * Per-instance run history, as `dogwatch status` shows it (the Agent's collector section: total runs,
 * metric samples, events, service checks, average execution time, last execution, last success,
 * last error, warnings).
 */
/**
 * A source's progress since the daemon started, in InstanceStatus.sources under the source's name
 * (`cloudtrail_events`). An interface: `/status` consumers and the README rely on these names.
 */
export interface SourceStatus {
  /** Records (events) the Agent's socket took. */
  sent: number;
  /** Records it did not take; each is sent again by a later run. */
  notDelivered: number;
  /**
   * Seconds from the source's oldest cursor to AWS's now at its last run. For CloudTrail events it
   * stays near the late horizon (1800) when all is well: each run reads the last 30 minutes again.
   */
  cursorLagSeconds?: number;
  /** When the source last reported (ISO time). */
  lastRun: string;
}

export interface InstanceStatus {
  checkName: string;
  instanceId: string;
  source: string;
  schedule: string;
  totalRuns: number;
  skippedRuns: number;
  timeouts: number;
  errors: number;
  metricSamples: number;
  events: number;
  serviceChecks: number;
  /** Samples of the most recent run. */
  lastRunMetricSamples: number;
  averageExecutionMs: number;
  lastExecutionMs: number;
  lastExecution?: string;
  lastSuccess?: string;
  lastError?: { time: string; message: string };
  /** Warnings raised by the most recent run (cleared at the start of each run). */
  warnings: string[];
  running: boolean;
  /** Sources beside the metrics, by name (`cloudtrail_events`); empty when the instance runs none. */
  sources: Record<string, SourceStatus>;
}

export interface DaemonStatus {
  version: string;
  startedAt: string;
  pid: number;
  instances: InstanceStatus[];
  configProblems: string[];
  sink: Record<string, number | string>;
  /** The logs sink's counters (records, lines written, dropped, queued bytes). */
  logsSink?: Record<string, number | string>;
}

export class StatusRegistry {
  private readonly instances = new Map<string, InstanceStatus>();
  private configProblems: string[] = [];
  private readonly startedAt = new Date().toISOString();

  register(entry: {
    checkName: string;
    instanceId: string;
    source: string;
    schedule: string;
  }): InstanceStatus {
    const existing = this.instances.get(entry.instanceId);
    if (existing) return existing;
    const status: InstanceStatus = {
      ...entry,
      totalRuns: 0,
      skippedRuns: 0,
      timeouts: 0,
      errors: 0,
      metricSamples: 0,
      events: 0,
      serviceChecks: 0,
      lastRunMetricSamples: 0,
      averageExecutionMs: 0,
      lastExecutionMs: 0,
      warnings: [],
      running: false,
      sources: {},
    };
    this.instances.set(entry.instanceId, status);
    return status;
  }

  unregister(instanceId: string): void {
    this.instances.delete(instanceId);
  }

  get(instanceId: string): InstanceStatus | undefined {
    return this.instances.get(instanceId);
  }

  /** Adds one run's figures to an instance's source. */
  reportSource(instanceId: string, source: string, figures: SourceRunFigures): void {
    const status = this.instances.get(instanceId);
    if (!status) return;
    const entry = (status.sources[source] ??= { sent: 0, notDelivered: 0, lastRun: '' });
    entry.sent += figures.sent;
    entry.notDelivered += figures.notDelivered;
    if (figures.cursorLagSeconds !== undefined) entry.cursorLagSeconds = figures.cursorLagSeconds;
    entry.lastRun = new Date().toISOString();
  }

  setConfigProblems(problems: readonly string[]): void {
    this.configProblems = [...problems];
  }

  snapshot(extra: {
    version: string;
    sink: Record<string, number | string>;
    logsSink?: Record<string, number | string>;
  }): DaemonStatus {
    return {
      version: extra.version,
      startedAt: this.startedAt,
      pid: process.pid,
      instances: [...this.instances.values()].map((s) => ({
        ...s,
        warnings: [...s.warnings],
        sources: Object.fromEntries(Object.entries(s.sources).map(([name, source]) => [name, { ...source }])),
      })),
      configProblems: [...this.configProblems],
      sink: extra.sink,
      ...(extra.logsSink ? { logsSink: extra.logsSink } : {}),
    };
  }
}
