import type { Clock } from '../clock.js';

/**
 * AWS's idea of the time, carried forward on a clock that never steps.
 *
 * Every AWS answer carries a `Date` header (whole seconds). The latest one, plus the monotonic time
 * since it arrived, is what collection calls "now": which periods are settled, which are still being
 * aggregated, how old an empty period is. A wall clock that is stepped ahead would otherwise make
 * recent periods look old enough to be gaps and skip them; one stepped back would stall collection.
 * Before the first answer (or with a proxy that sends no Date) the wall clock is all there is.
 */
export class ServerTime {
  private sample: { readonly serverMs: number; readonly monotonicMs: number } | undefined;

  constructor(private readonly clock: Clock) {}

  /** Records the Date header of an AWS answer. */
  observe(dateHeader: string | undefined): void {
    if (!dateHeader) return;
    const serverMs = Date.parse(dateHeader);
    if (!Number.isFinite(serverMs)) return;
    // The header is truncated to the second: the middle of that second is the better estimate.
    this.sample = { serverMs: serverMs + 500, monotonicMs: this.clock.monotonic() };
  }

  /** Milliseconds since the epoch by AWS's clock (the wall clock until AWS answered once). */
  now(): number {
    const sample = this.sample;
    if (!sample) return this.clock.now();
    return sample.serverMs + (this.clock.monotonic() - sample.monotonicMs);
  }

  /** How far the wall clock is ahead of AWS's (negative: behind); 0 before AWS answered. */
  wallClockSkewMs(): number {
    return this.sample ? this.clock.now() - this.now() : 0;
  }
}
