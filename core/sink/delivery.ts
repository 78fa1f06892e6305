/**
 * A group of samples that is committed together: a source records its cursor only when every sample of
 * the group was accepted by the transport. Sinks report on each sample they were handed with it.
 *
 * Contract:
 * - a sink that takes a sample of the group calls `expect()` once, then exactly one of `delivered()`
 *   or `failed()` for it, however long that takes (a sink that fans out calls each child);
 * - `settle()` is called once, after the group's last sample; it resolves when every sample is
 *   accounted for and all were delivered, and rejects with a DeliveryError naming the first reason
 *   otherwise. A group nobody expected anything of settles at once.
 */
export class Delivery {
  private outstanding = 0;
  private droppedCount = 0;
  private firstReason: string | undefined;
  private sealed = false;
  private done: Promise<void> | undefined;
  private finish: ((error?: DeliveryError) => void) | undefined;

  /** A sink took one sample of the group. */
  expect(count = 1): void {
    this.outstanding += count;
  }

  /** Samples the transport accepted. */
  delivered(count = 1): void {
    this.outstanding -= count;
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

  /** Resolves once every sample of the group is accounted for; rejects if any was not delivered. */
  settle(): Promise<void> {
    this.sealed = true;
    this.done ??= new Promise<void>((resolve, reject) => {
      this.finish = (error) => (error ? reject(error) : resolve());
    });
    this.check();
    return this.done;
  }

  private check(): void {
    if (!this.sealed || this.outstanding > 0 || !this.finish) return;
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
