/**
 * A group of samples that is committed together: a source records its cursor only when every sample of
 * the group was accepted by the transport. Sinks report on each sample they were handed with it.
 *
 * Contract:
 * - a sink that takes a sample of the group calls `expect()` once, then exactly one of `delivered()`
 *   or `failed()` for it, however long that takes (a sink that fans out calls each child);
 * - `onSettled(callback)` (or `settle()`, its promise form) is called once, after the group's last
 *   sample; the callback runs once every sample is accounted for, synchronously in the sink's
 *   continuation, with a DeliveryError naming the first reason if any sample was not delivered. A
 *   group nobody expected anything of settles at once.
 * - `onSettled` may also ask for progress, giving the number of samples submitted: until the group
 *   settles, and while nothing of it failed, the callback is also called with no error and how many
 *   samples from the group's start were delivered, each time that grows. A source records that prefix
 *   at once, so a process killed between two datagrams of one group neither loses nor repeats what the
 *   first datagram carried. Sinks deliver a group's samples in the order they were submitted; the
 *   count is only a prefix when each sample went to exactly one sink, so progress is not reported
 *   otherwise (a fan-out to several sinks, a sample refused before any).
 */

export class Delivery {
  private outstanding = 0;
  private expected = 0;
  private deliveredCount = 0;
  private droppedCount = 0;
  private progress = false;
  private firstReason: string | undefined;
  private finish: ((error?: DeliveryError, delivered?: number) => void) | undefined;

  /** A sink took one sample of the group. */
  expect(count = 1): void {
    this.outstanding += count;
    this.expected += count;
  }

  /** Samples the transport accepted. */
  delivered(count = 1): void {
    this.outstanding -= count;
    this.deliveredCount += count;
    this.check();
  }

  /** Samples that will never be sent (the sink gave up on them), and why. */
  failed(count: number, reason: string): void {
    this.outstanding -= count;
    this.droppedCount += count;
    this.firstReason ??= reason;
    this.check();
  }

  get dropped(): number {
    return this.droppedCount;
  }

  /**
   * No more samples: `callback` runs once all of them are accounted for (at once if they are), with
   * `delivered` undefined. With `progressOfSamples` (the samples submitted), it also hears of delivered
   * prefixes until then, as `(undefined, delivered)` (see the class comment).
   */
  onSettled(callback: (error?: DeliveryError, delivered?: number) => void, progressOfSamples?: number): void {
    if (this.finish) throw new Error('Delivery: onSettled called twice');
    this.finish = callback;
    this.progress = progressOfSamples !== undefined && progressOfSamples === this.expected;
    this.check();
  }

  /** The promise form of onSettled: resolves when all were delivered, rejects otherwise. */
  settle(): Promise<void> {
    return new Promise<void>((resolve, reject) =>
      this.onSettled((error) => (error ? reject(error) : resolve())),
    );
  }

  private check(): void {
    if (!this.finish) return;
    if (this.outstanding > 0) {
      if (this.progress && this.droppedCount === 0 && this.deliveredCount > 0)
        this.finish(undefined, this.deliveredCount);
      return;
    }
    const finish = this.finish;
    this.finish = undefined;
    finish(
      this.droppedCount > 0
        ? new DeliveryError(this.droppedCount, this.firstReason ?? 'not delivered')
        : undefined,
    );
  }
}

/** Some samples of a Delivery were not sent; the source keeps its cursor and fetches them again. */
export class DeliveryError extends Error {
  constructor(
    readonly dropped: number,
    readonly reason: string,
  ) {
    super(`${dropped} sample(s) not delivered: ${reason}`);
    this.name = 'DeliveryError';
  }
}
