/**
 * A token bucket on real time: `rate` tokens a second, at most `burst` saved up. Waiters are served in
 * arrival order, so one busy instance cannot starve another sharing the same (account, region, API).
 * Hand-written rather than a library because it is ~40 lines and must queue fairly with abort support.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly queue: Array<{ resolve: () => void; reject: (e: unknown) => void; signal?: AbortSignal }> =
    [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly rate: number,
    readonly burst: number = Math.max(1, rate),
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = this.burst;
    this.last = this.now();
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
  }

  /** Resolves when a token is taken; rejects if `signal` aborts first. */
  take(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    this.refill();
    if (this.queue.length === 0 && this.tokens >= 1) {
      this.tokens -= 1;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ resolve, reject, signal });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.timer) return;
    const waitMs = Math.max(1, ((1 - this.tokens) / this.rate) * 1000);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.drain();
    }, waitMs);
  }

  private drain(): void {
    this.refill();
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      if (head.signal?.aborted) {
        this.queue.shift();
        head.reject(abortReason(head.signal));
        continue;
      }
      if (this.tokens < 1) break;
      this.tokens -= 1;
      this.queue.shift();
      head.resolve();
    }
    if (this.queue.length > 0) this.schedule();
  }
}

/** Published default quotas (requests per second, per account and region). Configurable per daemon. */
export const DEFAULT_API_QUOTAS: Readonly<Record<string, number>> = {
  GetMetricData: 50,
  ListMetrics: 25,
  GetMetricStatistics: 400,
  // Lambda's control-plane APIs share one 15 requests/s budget.
  'lambda:*': 15,
  GetResources: 10,
  GetRestApis: 10,
  GetStages: 10,
  GetTags: 10,
  GetApis: 10,
  GetCallerIdentity: 20,
  AssumeRole: 20,
  LookupEvents: 2,
  DescribeRegions: 20,
};

/** One bucket per (account or credentials, region, API), shared by every instance of the process. */
export class ApiRateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(private readonly quotas: Readonly<Record<string, number>> = DEFAULT_API_QUOTAS) {}

  private quotaKey(service: string, operation: string): string | undefined {
    if (service === 'lambda') return 'lambda:*';
    return operation in this.quotas ? operation : undefined;
  }

  take(
    scope: string,
    region: string,
    service: string,
    operation: string,
    signal?: AbortSignal,
  ): Promise<void> {
    const quotaKey = this.quotaKey(service, operation);
    if (!quotaKey) return Promise.resolve();
    const rate = this.quotas[quotaKey] ?? 0;
    if (!(rate > 0)) return Promise.resolve();
    const key = `${scope}|${region}|${quotaKey}`;
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket(rate);
      this.buckets.set(key, bucket);
    }
    return bucket.take(signal);
  }
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}
