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

/**
 * Default request rates (per second, per account and region), configurable per daemon. A key is an
 * operation, or `<service>:*` for a budget every operation of the service shares. Where AWS publishes a
 * quota this is it; where it does not, a rate low enough never to be throttled: discovery is cached and
 * refreshed in the background, so slower paging costs nothing, while a throttled page costs retries and
 * can fail a run.
 */
export const DEFAULT_API_QUOTAS: Readonly<Record<string, number>> = {
  GetMetricData: 50,
  ListMetrics: 25,
  GetMetricStatistics: 400,
  // Lambda's control-plane APIs share one 15 requests/s budget.
  'lambda:*': 15,
  // API Gateway's management calls (v1 and v2 alike) share one account budget of 10 requests/s.
  'apigateway:*': 10,
  // The Tagging API publishes no rate and throttles paging at scale (ThrottledException).
  GetResources: 5,
  GetCallerIdentity: 20,
  AssumeRole: 20,
  LookupEvents: 2,
  ListRegions: 10,
};

/** One bucket per (account or credentials, region, API), shared by every instance of the process. */
export class ApiRateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(private readonly quotas: Readonly<Record<string, number>> = DEFAULT_API_QUOTAS) {}

  private quotaKey(service: string, operation: string): string | undefined {
    const shared = `${service}:*`;
    if (shared in this.quotas) return shared;
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
      // AWS's buckets hold a second's worth; ours half of it. Requests reach AWS with jitter, and a client
      // bucket as deep as the server's spends the whole reserve in a burst, then the next early arrival
      // is throttled. Half a second keeps the other half as margin; the steady rate is the same.
      bucket = new TokenBucket(rate, Math.max(1, Math.floor(rate / 2)));
      this.buckets.set(key, bucket);
    }
    return bucket.take(signal);
  }
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}
