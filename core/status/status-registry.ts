/**
 * Per-instance run history, as `dogwatch status` shows it (the Agent's collector section: total runs,
 * metric samples, events, service checks, average execution time, last execution, last success,
 * last error, warnings).
 */
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
}

export interface DaemonStatus {
  version: string;
  startedAt: string;
  pid: number;
  instances: InstanceStatus[];
  configProblems: string[];
  sink: Record<string, number | string>;
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

  setConfigProblems(problems: readonly string[]): void {
    this.configProblems = [...problems];
  }

  snapshot(extra: { version: string; sink: Record<string, number | string> }): DaemonStatus {
    return {
      version: extra.version,
      startedAt: this.startedAt,
      pid: process.pid,
      instances: [...this.instances.values()].map((s) => ({ ...s, warnings: [...s.warnings] })),
      configProblems: [...this.configProblems],
      sink: extra.sink,
    };
  }
}
