import { createConnection, type Socket } from 'node:net';
import { inProcessContext } from '../sink/process-context.js';
import type { Logger } from '../log/logger.js';
import { QueueAdmission } from './queue-admission.js';
import type { Delivery } from '../sink/delivery.js';
import { settleTogether } from '../sink/settlement.js';
import type { SinkHealth } from '../sink/sink.js';

/** Where the Agent's TCP logs listener is (the daemon setting `logs_url`, parsed by the config). */
export interface LogsTarget {
  readonly host: string;
  readonly port: number;
}

export interface TcpLineSenderTuning {
  /** Bytes of lines waiting to be written; beyond it the oldest are given up (their deliveries fail). */
  readonly maxQueuedBytes: number;
  /** Lines are written in batches of at most this many bytes (a line longer than it goes alone). */
  readonly maxWriteBytes: number;
  /** A line still waiting after this long (Agent unreachable, or not reading) is given up. */
  readonly flushTimeoutMs: number;
  /** First reconnect delay after the Agent is lost; doubles per failure up to the maximum. */
  readonly reconnectInitialDelayMs: number;
  readonly reconnectMaxDelayMs: number;
  readonly connectTimeoutMs: number;
  /**
   * A written batch counts as delivered only once the connection survived this long after the write:
   * a peer that closed (Agent restart or crash) answers the next bytes with a reset, and the batches
   * still unconfirmed then are written again instead of lost.
   */
  readonly confirmDelayMs: number;
  /** Written bytes awaiting confirmation; writing pauses at this bound. */
  readonly maxUnconfirmedBytes: number;
}

export const DEFAULT_TCP_LINE_SENDER_TUNING: TcpLineSenderTuning = {
  maxQueuedBytes: 16 * 1024 * 1024,
  maxWriteBytes: 64 * 1024,
  flushTimeoutMs: 30_000,
  reconnectInitialDelayMs: 250,
  reconnectMaxDelayMs: 30_000,
  connectTimeoutMs: 5_000,
  confirmDelayMs: 200,
  maxUnconfirmedBytes: 4 * 1024 * 1024,
};

export interface TcpLineSenderCounters {
  /** Lines written to the socket and confirmed (see confirmDelayMs). */
  lines: number;
  bytes: number;
  writes: number;
  /** Connections lost or refused. */
  sendErrors: number;
  /** Lines given up (queue full, flush timeout, closed). Never silent: their deliveries fail. */
  dropped: number;
}

interface WrittenBatch {
  readonly lines: QueuedLine[];
  readonly size: number;
  readonly writtenAt: number;
}

interface QueuedLine {
  readonly bytes: Buffer;
  readonly delivery: Delivery | undefined;
  readonly queuedAt: number;
}

/**
 * Writes newline-terminated lines to one TCP peer, in order, and tells each line's delivery what became
 * of it: delivered once the socket's write callback reported the bytes handed to the kernel and the
 * connection then stayed up for `confirmDelayMs`, failed when given up. One batch is in flight at a
 * time and unconfirmed bytes are bounded, so the memory held is bounded whatever the peer does.
 *
 * A batch whose write failed, or that was unconfirmed when the connection was lost, goes back to the
 * front of the queue and is written again after reconnecting: what the peer had already read of it
 * arrives twice (at-least-once across a reconnect). Bytes the peer read into its own buffer and lost
 * in a crash, or bytes sent into a silent network partition longer than the confirmation delay, are
 * lost without notice: TCP gives no application receipt.
 */
export class TcpLineSender {
  private queue: QueuedLine[] = [];
  private head = 0;
  private queuedBytes = 0;
  private inFlight: QueuedLine[] | undefined;
  private unconfirmed: WrittenBatch[] = [];
  private unconfirmedBytes = 0;
  private confirmTimer: NodeJS.Timeout | undefined;
  private socket: Socket | undefined;
  private connecting = false;
  private closed = false;
  private reconnectDelayMs: number;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private outage: { since: number; reason: string } | undefined;
  private idleWaiters: (() => void)[] = [];
  private readonly admission = new QueueAdmission(() => ({
    queuedBytes: this.queuedBytes,
    pending: this.pending,
    maxQueuedBytes: this.tuning.maxQueuedBytes,
    open: !this.closed && this.outage === undefined,
  }));

  constructor(
    private readonly target: LogsTarget,
    private readonly tuning: TcpLineSenderTuning,
    private readonly logger: Logger,
    private readonly counters: TcpLineSenderCounters,
    private readonly now: () => number = Date.now,
  ) {
    this.reconnectDelayMs = tuning.reconnectInitialDelayMs;
  }

  get description(): string {
    return `tcp://${this.target.host}:${this.target.port}`;
  }

  /** Takes one line (with its trailing newline). Never throws, never blocks. */
  enqueue(bytes: Buffer, delivery?: Delivery): void {
    delivery?.expect();
    const line: QueuedLine = { bytes, delivery, queuedAt: this.now() };
    if (this.closed) return this.giveUp(line, 'the logs sink is closed');
    while (this.pending > 0 && this.queuedBytes + bytes.length > this.tuning.maxQueuedBytes)
      this.giveUp(
        this.shift()!,
        `the logs queue is full (${this.tuning.maxQueuedBytes} bytes) while ${this.reachability()}`,
      );
    this.queue.push(line);
    this.queuedBytes += bytes.length;
    this.admission.queued(bytes.length);
    // Timers, the connection and the writes outlive the run that enqueued: not in its async context.
    inProcessContext(() => this.pump());
  }

  /** Lines waiting, not counting the batch in flight. */
  get pending(): number {
    return this.queue.length - this.head;
  }

  get pendingBytes(): number {
    return this.queuedBytes;
  }

  /** Resolves once `lines` more lines fit in the queue (see QueueAdmission): sources wait between batches. */
  room(lines = 0): Promise<void> {
    return this.admission.room(lines);
  }

  /** Resolves once every line enqueued so far was written or given up. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  health(): SinkHealth {
    if (!this.outage) return { reachable: true };
    return {
      reachable: false,
      problem: this.outage.reason,
      since: new Date(this.outage.since).toISOString(),
    };
  }

  /** Waits up to the flush timeout for the queue to drain, gives up the rest, closes. Safe twice. */
  async close(): Promise<void> {
    if (!this.closed) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>(
        (resolve) => (timer = setTimeout(resolve, this.tuning.flushTimeoutMs)),
      );
      await Promise.race([this.idle(), timeout]);
      clearTimeout(timer);
    }
    this.closed = true;
    this.admission.notify();
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.expiryTimer);
    clearTimeout(this.confirmTimer);
    for (const written of this.unconfirmed.splice(0))
      for (const line of written.lines) this.giveUp(line, 'the logs sink was closed');
    this.unconfirmedBytes = 0;
    while (this.pending > 0) this.giveUp(this.shift()!, 'the logs sink was closed');
    const batch = this.inFlight;
    this.inFlight = undefined;
    for (const line of batch ?? []) this.giveUp(line, 'the logs sink was closed');
    const socket = this.socket;
    this.socket = undefined;
    if (socket) await new Promise<void>((resolve) => socket.end(resolve));
    this.notifyIdle();
  }

  // ---- writing ----------------------------------------------------------------------------------

  private pump(): void {
    if (this.closed || this.inFlight || this.unconfirmedBytes >= this.tuning.maxUnconfirmedBytes) return;
    if (this.pending === 0) return this.notifyIdle();
    this.scheduleExpiry();
    const socket = this.socket;
    if (!socket) return this.connect();
    const batch: QueuedLine[] = [];
    let size = 0;
    while (
      this.pending > 0 &&
      (batch.length === 0 || size + this.peek()!.bytes.length <= this.tuning.maxWriteBytes)
    ) {
      const line = this.shift()!;
      batch.push(line);
      size += line.bytes.length;
    }
    this.inFlight = batch;
    socket.write(
      batch.length === 1
        ? batch[0]!.bytes
        : Buffer.concat(
            batch.map((line) => line.bytes),
            size,
          ),
      (error) => this.written(batch, size, error ?? undefined),
    );
  }

  private written(batch: QueuedLine[], size: number, error: Error | undefined): void {
    if (this.inFlight !== batch) return;
    this.inFlight = undefined;
    if (error) return this.requeue(batch);
    this.counters.writes++;
    this.unconfirmed.push({ lines: batch, size, writtenAt: this.now() });
    this.unconfirmedBytes += size;
    this.scheduleConfirmation();
    this.pump();
  }

  private scheduleConfirmation(): void {
    const oldest = this.unconfirmed[0];
    if (this.confirmTimer || !oldest) return;
    const wait = Math.max(0, oldest.writtenAt + this.tuning.confirmDelayMs - this.now());
    this.confirmTimer = setTimeout(() => {
      this.confirmTimer = undefined;
      const limit = this.now() - this.tuning.confirmDelayMs;
      // Batches confirmed together are one settlement: their cursors go in one journal record.
      settleTogether(() => {
        while (this.unconfirmed[0] && this.unconfirmed[0].writtenAt <= limit) {
          const written = this.unconfirmed.shift()!;
          this.unconfirmedBytes -= written.size;
          this.counters.lines += written.lines.length;
          this.counters.bytes += written.size;
          for (const line of written.lines) line.delivery?.delivered();
        }
      });
      this.scheduleConfirmation();
      this.pump();
      this.notifyIdle();
    }, wait);
  }

  /** A batch that may not have reached the peer goes back to the front, in order. */
  private requeue(batch: QueuedLine[]): void {
    const rest = this.queue.slice(this.head);
    this.queue = [...batch, ...rest];
    this.head = 0;
    for (const line of batch) this.queuedBytes += line.bytes.length;
  }

  // ---- the connection ---------------------------------------------------------------------------

  private connect(): void {
    if (this.socket || this.connecting || this.reconnectTimer || this.closed) return;
    this.connecting = true;
    const socket = createConnection({ host: this.target.host, port: this.target.port });
    let lastError: Error | undefined;
    const connectTimer = setTimeout(
      () => socket.destroy(new Error(`no connection within ${this.tuning.connectTimeoutMs} ms`)),
      this.tuning.connectTimeoutMs,
    );
    socket.setNoDelay(true);
    socket.on('data', () => undefined); // the Agent sends nothing back; never let bytes pile up
    socket.on('error', (error) => (lastError = error));
    socket.once('connect', () => {
      clearTimeout(connectTimer);
      this.connecting = false;
      if (this.closed) return void socket.destroy();
      this.socket = socket;
      this.reconnectDelayMs = this.tuning.reconnectInitialDelayMs;
      if (this.outage) this.logger.info(`Logs: the Agent is reachable again at ${this.description}`);
      this.outage = undefined;
      this.pump();
    });
    socket.once('close', () => {
      clearTimeout(connectTimer);
      this.lost(socket, lastError);
    });
  }

  private lost(socket: Socket, error: Error | undefined): void {
    this.connecting = false;
    if (this.socket === socket) this.socket = undefined;
    const batch = this.inFlight;
    if (batch) this.written(batch, 0, error ?? new Error('connection closed'));
    clearTimeout(this.confirmTimer);
    this.confirmTimer = undefined;
    const unconfirmed = this.unconfirmed.splice(0);
    this.unconfirmedBytes = 0;
    this.requeue(unconfirmed.flatMap((written) => written.lines));
    if (this.closed) return;
    this.counters.sendErrors++;
    const reason = `${this.description}: ${error?.message ?? 'the Agent closed the connection'}`;
    if (!this.outage) {
      this.outage = { since: this.now(), reason };
      this.admission.notify();
      this.logger.warn(`Logs: lost the Agent's logs listener (${reason}); reconnecting with backoff`);
    }
    if (this.pending === 0 && !this.inFlight) return; // reconnect when there is something to send
    const delay = this.reconnectDelayMs;
    this.reconnectDelayMs = Math.min(delay * 2, this.tuning.reconnectMaxDelayMs);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.pump();
    }, delay);
  }

  // ---- giving up --------------------------------------------------------------------------------

  /** Lines older than the flush timeout are given up, whether the Agent is away or not reading. */
  private scheduleExpiry(): void {
    if (this.expiryTimer || this.pending === 0 || this.closed) return;
    const oldest = this.peek()!.queuedAt;
    const wait = Math.max(0, oldest + this.tuning.flushTimeoutMs - this.now());
    this.expiryTimer = setTimeout(() => {
      this.expiryTimer = undefined;
      const limit = this.now() - this.tuning.flushTimeoutMs;
      while (this.pending > 0 && this.peek()!.queuedAt <= limit)
        this.giveUp(
          this.shift()!,
          `not written within ${this.tuning.flushTimeoutMs} ms while ${this.reachability()}`,
        );
      this.scheduleExpiry();
      this.notifyIdle();
    }, wait);
  }

  private giveUp(line: QueuedLine, reason: string): void {
    this.counters.dropped++;
    line.delivery?.failed(1, reason);
  }

  private reachability(): string {
    return this.outage ? `the Agent is unreachable (${this.outage.reason})` : 'the Agent is not reading';
  }

  // ---- the queue --------------------------------------------------------------------------------

  private peek(): QueuedLine | undefined {
    return this.queue[this.head];
  }

  private shift(): QueuedLine | undefined {
    const line = this.queue[this.head];
    if (line === undefined) return undefined;
    this.queue[this.head] = undefined as unknown as QueuedLine;
    this.head++;
    this.queuedBytes -= line.bytes.length;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.admission.notify();
    return line;
  }

  private isIdle(): boolean {
    return this.pending === 0 && !this.inFlight && this.unconfirmed.length === 0;
  }

  private notifyIdle(): void {
    if (!this.isIdle()) return;
    this.admission.notify();
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
