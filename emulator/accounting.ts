/** What the emulator served, for tests and benchmarks: requests by outcome, billing units, IAM actions. */

export type Outcome = 'ok' | 'throttled' | 'error' | 'reset' | 'timeout';

export interface RequestCount {
  /** `service:Operation`, e.g. `cloudwatch:GetMetricData`, `apigatewayv2:GetApis`. */
  readonly operation: string;
  readonly region: string;
  readonly outcome: Outcome;
  readonly count: number;
}

export interface AccountingSnapshot {
  readonly requests: RequestCount[];
  /** MetricDataQueries across GetMetricData calls: CloudWatch's billing unit. */
  readonly metricsRequested: number;
  readonly datapointsReturned: number;
  /** IAM actions the calls needed, sorted (`cloudwatch:GetMetricData`, `apigateway:GET`, …). */
  readonly actions: string[];
}

export interface RequestFilter {
  operation?: string;
  region?: string;
  outcome?: Outcome;
}

export class Accounting {
  private readonly counts = new Map<string, number>();
  private readonly actionSet = new Set<string>();
  metricsRequested = 0;
  datapointsReturned = 0;

  record(operation: string, region: string, outcome: Outcome): void {
    const key = `${operation}\u0000${region}\u0000${outcome}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  recordAction(action: string): void {
    this.actionSet.add(action);
  }

  /** Number of requests matching the filter (every field optional). */
  requests(filter: RequestFilter = {}): number {
    let total = 0;
    for (const r of this.list()) {
      if (
        filter.operation &&
        r.operation !== filter.operation &&
        !r.operation.endsWith(`:${filter.operation}`)
      )
        continue;
      if (filter.region && r.region !== filter.region) continue;
      if (filter.outcome && r.outcome !== filter.outcome) continue;
      total += r.count;
    }
    return total;
  }

  get actions(): ReadonlySet<string> {
    return this.actionSet;
  }

  snapshot(): AccountingSnapshot {
    return {
      requests: this.list(),
      metricsRequested: this.metricsRequested,
      datapointsReturned: this.datapointsReturned,
      actions: [...this.actionSet].sort(),
    };
  }

  reset(): void {
    this.counts.clear();
    this.actionSet.clear();
    this.metricsRequested = 0;
    this.datapointsReturned = 0;
  }

  private list(): RequestCount[] {
    return [...this.counts].map(([key, count]) => {
      const [operation = '', region = '', outcome = 'ok'] = key.split('\u0000');
      return { operation, region, outcome: outcome as Outcome, count };
    });
  }
}
