/** What the admission needs to know of the queue it guards, asked at each decision. */
export interface AdmittedQueue {
  /** Bytes waiting in the queue now. */
  readonly queuedBytes: number;
  /** Lines waiting in the queue now. */
  readonly pending: number;
  readonly maxQueuedBytes: number;
  /** Closed, or the peer unreachable: nobody waits, lines fail on their own terms. */
  readonly open: boolean;
}

/**
 * Flow control in front of a bounded line queue: a source asks for room for its next batch of lines
 * and waits until they fit, instead of pushing lines that the full queue then gives up on (which fails
 * deliveries, and a window bigger than the queue would then never progress). A line is reckoned at
 * twice the average so far (a generous guess before the first), lines let in but not yet queued count
 * as queued, and waiters go in order, one at a time.
 */
export class QueueAdmission {
  private readonly waiters: { lines: number; resolve: () => void }[] = [];
  private lines = 0;
  private bytes = 0;
  private admitted = 0;

  constructor(private readonly queue: () => AdmittedQueue) {}

  /** Resolves once `lines` more fit (or the queue is empty, closed, or its peer unreachable). */
  room(lines: number): Promise<void> {
    if (this.waiters.length === 0 && this.fits(lines)) {
      this.admitted += lines;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiters.push({ lines, resolve }));
  }

  /** A line entered the queue. */
  queued(bytes: number): void {
    this.lines++;
    this.bytes += bytes;
    if (this.admitted > 0) this.admitted--;
  }

  /** The queue shrank, or the peer went away, or the queue closed: let the next waiter in if it fits. */
  notify(): void {
    const next = this.waiters[0];
    if (next === undefined || !this.fits(next.lines)) return;
    this.admitted += next.lines;
    this.waiters.shift()!.resolve();
    // The next one only after this one queued its lines (in its continuation, before setImmediate).
    if (this.waiters.length > 0) setImmediate(() => this.notify());
  }

  private fits(lines: number): boolean {
    const queue = this.queue();
    if (!queue.open || (queue.pending === 0 && this.admitted === 0)) return true;
    const lineBytes = this.lines === 0 ? 4096 : (2 * this.bytes) / this.lines;
    return queue.queuedBytes + (this.admitted + lines) * lineBytes <= queue.maxQueuedBytes;
  }
}
