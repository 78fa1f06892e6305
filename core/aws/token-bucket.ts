import type { ApiQuotaTable } from './aws-api-registry.js';

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
 * One bucket per (credentials, region, quota), shared by every instance of the process and by every
 * operation that draws from the quota (see AwsQuotaDeclaration). Calls of operations no quota covers are
 * not limited.
 */
export class ApiRateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(private readonly quotas: ApiQuotaTable) {}

  take(
    scope: string,
    region: string,
    clientId: string,
    operation: string,
    signal?: AbortSignal,
  ): Promise<void> {
    const quota = this.quotas.quotaOf(clientId, operation);
    if (!quota || !(quota.requestsPerSecond > 0)) return Promise.resolve();
    const key = `${scope}|${region}|${quota.name}`;
    let bucket = this.buckets.get(key);
    if (!bucket) {
      // AWS's buckets hold a second's worth; ours half of it. Requests reach AWS with jitter, and a client
      // bucket as deep as the server's spends the whole reserve in a burst, then the next early arrival
      // is throttled. Half a second keeps the other half as margin; the steady rate is the same.
      const rate = quota.requestsPerSecond;
      bucket = new TokenBucket(rate, Math.max(1, Math.floor(rate / 2)));
      this.buckets.set(key, bucket);
    }
    return bucket.take(signal);
  }
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}
