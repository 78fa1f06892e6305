import type { Logger } from '../log/logger.js';
import { type PackedDatagram, DatagramQueue, settleDatagram } from './datagram-packer.js';
import { classifySendError, type DatagramTransport, errorCodeName } from './datagram-transport.js';
import { inProcessContext } from './process-context.js';
import { settleTogether } from './settlement.js';
import type { SinkHealth, SinkStats } from './sink.js';

export interface SenderTuning {
  /** Datagrams waiting to be sent; beyond it the oldest are given up (their deliveries fail). */
  readonly maxQueuedDatagrams: number;
  /**
   * Pacing: at most `sliceDatagrams` datagrams and `sliceBytes` bytes, then a pause of `slicePauseMs`
   * (0: one event-loop turn). A local receiver with the OS default buffer loses datagrams to a burst,
   * and UDP gives no feedback about it, so the pace is fixed (see BENCHMARKS.md).
   */
  readonly sliceDatagrams: number;
  readonly sliceBytes: number;
  readonly slicePauseMs: number;
  /** While the Agent is unreachable, a datagram waits at most this long before it is given up. */
  readonly flushTimeoutMs: number;
  /** First reconnect delay after the Agent is lost; doubles per failure up to the maximum. */
  readonly reconnectInitialDelayMs: number;
  readonly reconnectMaxDelayMs: number;
}

/** Pause after the receiver reported a full buffer (EAGAIN / unix-dgram congestion). */
const CONGESTION_PAUSE_MS = 10;

interface SentDatagram {
  readonly datagram: PackedDatagram;
  readonly sentAt: number;
}

/**
 * Sends sealed datagrams through one transport and tells each datagram's deliveries what became of it:
 * delivered once the transport confirmed it (see DatagramTransport.confirmation), failed when it was
 * refused, or given up while the Agent stayed unreachable past the flush timeout, or pushed out of a
 * full queue. A datagram is sent at most once, and never after its deliveries were told it failed.
 *
 * Datagrams go one at a time: each send's verdict is in before the next, so a refusal is laid on the
 * datagram it concerns. After the Agent was lost, one datagram probes it, and sending resumes once that
 * one is confirmed.
 */
export class DatagramSender {
  private readonly queue = new DatagramQueue();
  private readonly unconfirmed: SentDatagram[] = [];
  private inFlight: PackedDatagram | undefined;
  private refusal: Error | undefined;
  private probing = true;
  private pumping = false;
  private closed = false;
  private reconnectDelayMs: number;
  private nextConnectAt = 0;
  private outage: { since: number; reason: string; dropped: number } | undefined;
  private drainWaiters: { throughSeq: number; resolve: () => void }[] = [];
  private wake: (() => void) | undefined;
  private sleepTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly transport: DatagramTransport,
    private readonly tuning: SenderTuning,
    private readonly logger: Logger,
    private readonly counters: SinkStats,
  ) {
    this.reconnectDelayMs = tuning.reconnectInitialDelayMs;
    transport.onError = (error) => {
      if (classifySendError(error) !== 'unreachable') {
        this.logger.warn(`DogStatsD: socket error on ${transport.description}: ${error.message}`);
        return;
      }
      this.refusal ??= error;
      this.stopSleeping();
    };
  }

  enqueue(datagram: PackedDatagram): void {
    if (this.closed) return this.giveUp(datagram, 'the DogStatsD sink is closed');
    while (this.queue.size >= this.tuning.maxQueuedDatagrams)
      this.giveUp(
        this.queue.shift()!,
        `the DogStatsD queue is full (${this.tuning.maxQueuedDatagrams} datagrams) while ${this.reachability()}`,
      );
    this.queue.push(datagram);
    this.startPump();
  }

  /** Resolves once every datagram sealed before `throughSeq` (inclusive) is delivered or given up. */
  drained(throughSeq: number): Promise<void> {
    if (this.settledThrough(throughSeq)) return Promise.resolve();
    return new Promise((resolve) => {
      this.drainWaiters.push({ throughSeq, resolve });
      this.startPump();
    });
  }

  health(): SinkHealth {
    if (!this.outage) return { reachable: true };
    return {
      reachable: false,
      problem: this.outage.reason,
      since: new Date(this.outage.since).toISOString(),
    };
  }

  /** Gives up whatever is still waiting, then closes the socket. */
  async close(): Promise<void> {
    this.closed = true;
    this.stopSleeping();
    while (this.queue.size > 0) this.giveUp(this.queue.shift()!, 'the DogStatsD sink was closed');
    this.confirmDue(true);
    this.settleWaiters();
    await this.transport.close();
  }

  // ---- the pump ---------------------------------------------------------------------------------

  private startPump(): void {
    if (this.pumping || this.closed) return;
    if (this.queue.size === 0 && this.unconfirmed.length === 0) return;
    this.pumping = true;
    // The pump outlives the run whose datagram started it (and it opens the socket): in that run's
    // async context it would keep the run's scope reachable (see process-context.ts).
    inProcessContext(
      () =>
        void this.pump().finally(() => {
          this.pumping = false;
          this.settleWaiters();
          if (this.queue.size > 0 || this.unconfirmed.length > 0) this.startPump();
        }),
    );
  }

  private async pump(): Promise<void> {
    while (!this.closed && (this.queue.size > 0 || this.unconfirmed.length > 0)) {
      this.takeRefusal();
      this.expireWhileUnreachable();
      this.settleWaiters();
      if (this.queue.size === 0) {
        await this.sleep(Math.max(1, this.transport.confirmation.afterMs));
        await this.readPendingRefusals();
        this.confirmDue();
        continue;
      }
      if (!this.transport.isOpen()) {
        const wait = this.nextConnectAt - Date.now();
        if (wait > 0) {
          await this.sleep(Math.min(wait, 50));
          continue;
        }
        const error = await this.transport.open();
        if (error) {
          this.lost(error);
          continue;
        }
        this.probing = true;
      }
      if (this.probing) {
        await this.probe();
        continue;
      }
      await this.sendSlice();
      await this.readPendingRefusals();
      this.confirmDue();
      const pause = this.tuning.slicePauseMs;
      await (pause > 0 ? this.sleep(pause) : new Promise<void>((resolve) => setImmediate(resolve)));
    }
  }

  /** After a (re)connect: one datagram, and the rest only once it is confirmed. */
  private async probe(): Promise<void> {
    const sent = await this.sendOne();
    if (sent !== 'sent') return;
    await this.sleep(Math.max(1, this.transport.confirmation.afterMs));
    await this.readPendingRefusals();
    if (!this.transport.isOpen()) return;
    this.confirmDue(true);
    this.probing = false;
    this.recovered();
  }

  private async sendSlice(): Promise<void> {
    let datagrams = 0;
    let bytes = 0;
    while (
      this.queue.size > 0 &&
      datagrams < this.tuning.sliceDatagrams &&
      bytes < this.tuning.sliceBytes &&
      !this.closed
    ) {
      bytes += this.queue.peek()!.bytes;
      datagrams++;
      const outcome = await this.sendOne();
      if (outcome !== 'sent') return;
      if (this.refusal) return;
    }
  }

  /** Sends the head of the queue and files it by the socket's verdict. */
  private async sendOne(): Promise<'sent' | 'stop' | 'failed'> {
    const datagram = this.queue.shift()!;
    this.inFlight = datagram;
    const error = await this.transport.send(datagram.payload);
    this.inFlight = undefined;
    if (error === undefined) {
      this.counters.datagrams++;
      this.counters.bytes += datagram.bytes;
      this.counters.maxDatagramBytes = Math.max(this.counters.maxDatagramBytes, datagram.bytes);
      // What this send confirms (over UDS: this datagram and any before it) is one settlement.
      settleTogether(() => {
        if (this.transport.confirmation.lastSendOnly) {
          for (const sent of this.unconfirmed.splice(0)) this.confirm(sent.datagram);
        }
        this.unconfirmed.push({ datagram, sentAt: Date.now() });
        if (this.transport.confirmation.afterMs === 0) this.confirmDue(true);
      });
      return 'sent';
    }
    this.counters.sendErrors++;
    switch (classifySendError(error)) {
      case 'unreachable':
        // The socket refused to send it: it never left, so it may go later.
        this.queue.unshift(datagram);
        this.lost(error);
        return 'stop';
      case 'congested':
        this.queue.unshift(datagram);
        await this.sleep(CONGESTION_PAUSE_MS);
        return 'stop';
      case 'failed':
        this.giveUp(datagram, `a datagram was refused by the socket (${error.message})`);
        this.logger.warn(`DogStatsD: send failed, datagram dropped: ${error.message}`);
        return 'failed';
    }
  }

  // ---- confirmation and loss --------------------------------------------------------------------

  /** Confirms the sent datagrams no refusal can concern any more (all of them when `all`). */
  private confirmDue(all = false): void {
    const before = Date.now() - this.transport.confirmation.afterMs;
    // Datagrams confirmed together are one settlement: their sources' cursors go in one journal record.
    settleTogether(() => {
      while (this.unconfirmed.length > 0 && (all || this.unconfirmed[0]!.sentAt <= before))
        this.confirm(this.unconfirmed.shift()!.datagram);
    });
  }

  private confirm(datagram: PackedDatagram): void {
    settleDatagram(datagram);
  }

  /**
   * Before anything is confirmed: one pass of the event loop's poll phase, where a refusal waiting in
   * the socket is read (setImmediate runs right after it), then that refusal is taken. A timer runs
   * before the poll phase, so after a stall (a loaded machine) the confirmation window's timer and the
   * refusal are due together, and the timer alone would confirm a refused datagram.
   */
  private async readPendingRefusals(): Promise<void> {
    if (this.transport.confirmation.afterMs > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    this.takeRefusal();
  }

  /** A refusal reported outside a send (UDP): the Agent went away. */
  private takeRefusal(): void {
    const error = this.refusal;
    if (!error) return;
    this.refusal = undefined;
    this.lost(error);
  }

  /**
   * The Agent cannot be reached: the datagrams sent but not yet confirmed may be lost, so their
   * deliveries fail (the source fetches them again); the socket is closed and reopened with backoff.
   */
  private lost(error: Error): void {
    const reason =
      `the Datadog Agent at ${this.transport.description} is unreachable ` +
      `(${errorCodeName(error) ?? error.message}); is it running with DogStatsD enabled?`;
    for (const sent of this.unconfirmed.splice(0)) this.giveUp(sent.datagram, reason);
    if (this.outage === undefined) {
      this.outage = { since: Date.now(), reason, dropped: this.counters.dropped };
      this.logger.warn(
        `DogStatsD: ${reason} Queueing up to ${this.tuning.maxQueuedDatagrams} datagrams for up to ` +
          `${this.tuning.flushTimeoutMs} ms and reconnecting with backoff; what cannot wait is fetched again later.`,
      );
    }
    this.nextConnectAt = Date.now() + this.reconnectDelayMs;
    this.reconnectDelayMs = Math.min(this.reconnectDelayMs * 2, this.tuning.reconnectMaxDelayMs);
    this.probing = true;
    void this.transport.close();
  }

  private recovered(): void {
    this.reconnectDelayMs = this.tuning.reconnectInitialDelayMs;
    if (this.outage === undefined) return;
    const given = this.counters.dropped - this.outage.dropped;
    this.logger.info(
      `DogStatsD: ${this.transport.description} reachable again after ${Date.now() - this.outage.since} ms; ` +
        `${given} sample(s) were given up meanwhile (their sources fetch them again)`,
    );
    this.outage = undefined;
  }

  /** While unreachable, datagrams that waited past the flush timeout are given up. */
  private expireWhileUnreachable(): void {
    if (this.outage === undefined) return;
    const oldest = Date.now() - this.tuning.flushTimeoutMs;
    while (this.queue.size > 0 && this.queue.peek()!.sealedAt <= oldest)
      this.giveUp(this.queue.shift()!, this.outage.reason);
  }

  private giveUp(datagram: PackedDatagram, reason: string): void {
    this.counters.dropped += datagram.samples;
    settleDatagram(datagram, reason);
  }

  private reachability(): string {
    return this.outage ? this.outage.reason : `sending to ${this.transport.description}`;
  }

  // ---- drain bookkeeping ------------------------------------------------------------------------

  private settledThrough(seq: number): boolean {
    const head = this.queue.peek();
    if (head !== undefined && head.seq <= seq) return false;
    if (this.inFlight !== undefined && this.inFlight.seq <= seq) return false;
    return !this.unconfirmed.some((sent) => sent.datagram.seq <= seq);
  }

  private settleWaiters(): void {
    if (this.drainWaiters.length === 0) return;
    const waiting: typeof this.drainWaiters = [];
    for (const waiter of this.drainWaiters) {
      if (this.closed || this.settledThrough(waiter.throughSeq)) waiter.resolve();
      else waiting.push(waiter);
    }
    this.drainWaiters = waiting;
  }

  /** A timer that close() and a refusal cut short. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.sleepTimer = setTimeout(() => {
        this.sleepTimer = undefined;
        this.wake = undefined;
        resolve();
      }, ms);
    });
  }

  private stopSleeping(): void {
    if (this.sleepTimer) clearTimeout(this.sleepTimer);
    this.sleepTimer = undefined;
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
