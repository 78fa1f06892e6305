import { AsyncLocalStorage } from 'node:async_hooks';

export type CallOutcome = 'ok' | 'throttled' | 'server_error' | 'client_error' | 'timeout' | 'network_error';

/**
 * Per-instance AWS call accounting. SDK clients are shared between instances, so the middleware finds
 * the instance's counters through AsyncLocalStorage: the engine runs each instance's work inside
 * `awsCallScope.run(stats, …)`.
 */
export class AwsCallStats {
  /** `${operation}|${outcome}` → attempts (every HTTP attempt, retries included). */
  readonly attempts = new Map<string, number>();
  /** Logical calls (an SDK `send`), whatever its attempts. */
  calls = 0;
  throttles = 0;
  /** GetMetricData queries sent: the CloudWatch billing unit ("metrics requested"). */
  metricsRequested = 0;

  record(operation: string, outcome: CallOutcome): void {
    const key = `${operation}|${outcome}`;
    this.attempts.set(key, (this.attempts.get(key) ?? 0) + 1);
    if (outcome === 'throttled') this.throttles++;
  }

  callsByOperation(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [key, n] of this.attempts) {
      const operation = key.split('|')[0]!;
      out[operation] = (out[operation] ?? 0) + n;
    }
    return out;
  }

  /** Attempts beyond the first of each call. */
  get retries(): number {
    let attempts = 0;
    for (const n of this.attempts.values()) attempts += n;
    return Math.max(0, attempts - this.calls);
  }

  reset(): void {
    this.attempts.clear();
    this.calls = 0;
    this.throttles = 0;
    this.metricsRequested = 0;
  }
}

export interface AwsCallScope {
  readonly stats: AwsCallStats;
  readonly signal?: AbortSignal;
}

export const awsCallScope = new AsyncLocalStorage<AwsCallScope>();

/** Classifies an SDK error the way our self-metrics report it. */
export function classifyAwsError(error: unknown): CallOutcome {
  const e = error as {
    name?: string;
    code?: string;
    $metadata?: { httpStatusCode?: number };
    $retryable?: { throttling?: boolean };
  };
  const name = e?.name ?? '';
  const status = e?.$metadata?.httpStatusCode;
  if (
    e?.$retryable?.throttling ||
    /Throttl|TooManyRequests|RequestLimitExceeded|SlowDown/i.test(name) ||
    status === 429
  ) {
    return 'throttled';
  }
  if (name === 'TimeoutError' || /timeout/i.test(name) || e?.code === 'ETIMEDOUT') return 'timeout';
  if (status !== undefined && status >= 500) return 'server_error';
  if (status !== undefined && status >= 400) return 'client_error';
  return 'network_error';
}
