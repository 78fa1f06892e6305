import dns from 'node:dns';
import net from 'node:net';
import os from 'node:os';
import { StatsD } from 'hot-shots';
import type { ClientOptions } from 'hot-shots';
import type { Logger } from '../log/logger.js';
import { encodeSample } from './dogstatsd-format.js';
import type { Sample } from './samples.js';
import { emptySinkStats, type Sink, type SinkStats } from './sink.js';

/** Where the Agent listens: UDP host and port, or a unix datagram socket path. */
export type DogStatsdTarget =
  | { readonly transport: 'udp'; readonly host: string; readonly port: number }
  | { readonly transport: 'uds'; readonly path: string };

export interface DogStatsdSinkTuning {
  readonly logger: Logger;
  /** Largest datagram sent. Default 1432 (UDP over a network) or 8192 (UDS); at most 8192 (SPEC §5). */
  readonly maxDatagramBytes?: number;
  /**
   * Datagrams waiting to be sent (a whole run is queued at once, and more while the socket is
   * unavailable). Beyond it the OLDEST are dropped and counted: fresh points matter more than old
   * ones, and the intake refuses points older than ~1 hour anyway. Default: 32 MiB worth of
   * datagrams (23,431 at 1432 bytes, 4,096 at 8192), room for a 100,000-line run.
   */
  readonly maxQueuedDatagrams?: number;
  /**
   * Pacing: at most `sliceDatagrams` datagrams and `sliceBytes` bytes are handed to the socket, then
   * the sink waits `slicePauseMs` (0: one event-loop turn). A local receiver with the OS default
   * buffer (212,992 bytes of kernel accounting on Linux, which charges ~4 KB per small datagram,
   * so ~48 datagrams) loses datagrams to a burst; UDP gives no feedback, so the pace is fixed.
   * Defaults 8 datagrams, 32,768 bytes, 1 ms: at most ~8,000 datagrams/s (~11 MB/s at 1432 bytes),
   * so 100,000 lines take about a second. Measured: 16 per slice still lost datagrams to a receiver
   * in another process on a loaded 2-core machine; 8 did not.
   */
  readonly sliceDatagrams?: number;
  readonly sliceBytes?: number;
  readonly slicePauseMs?: number;
  /**
   * How long `flush` waits for an unavailable socket before dropping (and counting) what it was
   * waiting for. Default 10,000 ms.
   */
  readonly flushTimeoutMs?: number;
  /** First reconnect delay after the socket is lost; doubles per failure. Default 100 ms. */
  readonly reconnectInitialDelayMs?: number;
  /** Upper bound of the reconnect delay. Default 5,000 ms. */
  readonly reconnectMaxDelayMs?: number;
}

export type DogStatsdSinkOptions = DogStatsdTarget & DogStatsdSinkTuning;

/** SPEC §5: the Agent's read buffer truncates silently beyond 8192 bytes. */
export const AGENT_MAX_DATAGRAM_BYTES = 8192;
export const DEFAULT_UDP_MAX_DATAGRAM_BYTES = 1432;
export const DEFAULT_UDS_MAX_DATAGRAM_BYTES = 8192;

const DEFAULTS = {
  queuedBytes: 32 * 1024 * 1024,
  sliceDatagrams: 8,
  sliceBytes: 32_768,
  slicePauseMs: 1,
  flushTimeoutMs: 10_000,
  reconnectInitialDelayMs: 100,
  reconnectMaxDelayMs: 5_000,
} as const;

/** Pause after the receiver reported a full buffer (EAGAIN / unix-dgram congestion). */
const CONGESTION_PAUSE_MS = 10;

/** Resolved host names are reused this long; a moved Agent is found again after it. */
const DNS_CACHE_TTL_MS = 60_000;

interface QueuedDatagram {
  /** Off the JS heap: a whole run of datagrams can wait here without burdening the garbage collector. */
  readonly payload: Buffer;
  readonly bytes: number;
  /** Samples packed in it: what `dropped` counts if it is given up. */
  readonly samples: number;
  /** Enqueue order; `flush` waits for everything up to the sequence current at its call. */
  readonly seq: number;
}

/** What a queue slot holds once its datagram was taken (see takeHead). */
const TAKEN: QueuedDatagram = { payload: Buffer.alloc(0), bytes: 0, samples: 0, seq: 0 };

interface FlushWaiter {
  readonly throughSeq: number;
  readonly resolve: () => void;
  readonly timer: NodeJS.Timeout;
}

/** What a failed send means for the datagram and the connection. */
type SendFailure = 'disconnected' | 'congested' | 'failed';

/**
 * Errors after which the socket is useless and a new one must be opened (the Agent restarted, or its
 * socket file was removed). unix-dgram reports negative errno numbers, so both forms are matched.
 */
const DISCONNECT_CODES = new Set([
  'ECONNREFUSED',
  'ENOENT',
  'ENOTCONN',
  'EDESTADDRREQ',
  'ECONNRESET',
  'EPIPE',
]);
/** Errors meaning "receiver full, try again later" (unix-dgram reports congestion as code 1). */
const CONGESTION_CODES = new Set(['EAGAIN', 'EWOULDBLOCK', 'ENOBUFS', 'congestion']);

function errorCodeName(error: Error): string | undefined {
  const code: unknown = (error as NodeJS.ErrnoException).code;
  if (typeof code === 'string') return code;
  if (typeof code === 'number') {
    if (code === 1) return 'congestion';
    for (const [name, value] of Object.entries(os.constants.errno)) if (value === -code) return name;
  }
  return undefined;
}

function classifySendError(error: Error): SendFailure {
  const code = errorCodeName(error);
  if (code !== undefined && DISCONNECT_CODES.has(code)) return 'disconnected';
  if (code !== undefined && CONGESTION_CODES.has(code)) return 'congested';
  // hot-shots' message when its transport could not be created.
  if (error.message.includes('Socket not created')) return 'disconnected';
  return 'failed';
}

/**
 * The only use of a hot-shots method outside its typings. `StatsD#sendMessage` is the client's raw
 * path: it writes the string as one datagram, adds nothing (no global tags, no container id, no
 * buffering with maxBufferSize 0) and reports the socket's callback. The typed methods cannot be
 * used: they rebuild every line themselves, and `event()` counts JS characters instead of UTF-8 bytes.
 */
interface RawDatagramClient {
  sendMessage(message: string | Buffer, callback: (error?: Error | null) => void): void;
}

function sendRawDatagram(client: StatsD, payload: Buffer): Promise<Error | undefined> {
  return new Promise((resolve) => {
    try {
      (client as unknown as RawDatagramClient).sendMessage(payload, (error) => resolve(error ?? undefined));
    } catch (error) {
      resolve(error instanceof Error ? error : new Error(String(error)));
    }
  });
}

function closeClient(client: StatsD): Promise<void> {
  return new Promise((resolve) => {
    try {
      client.close(() => resolve());
    } catch {
      resolve();
    }
  });
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;

/**
 * dgram's own lookup runs getaddrinfo once per datagram; this one remembers the answer for
 * DNS_CACHE_TTL_MS. It resolves in the socket's family (dgram passes 4 for udp4), so `localhost`
 * does not come back as ::1 for an IPv4 socket.
 */
function cachingLookup(): (
  hostname: string,
  options: dns.LookupOneOptions,
  callback: LookupCallback,
) => void {
  const cache = new Map<string, { address: string; family: number; at: number }>();
  return (hostname, options, callback) => {
    const family = typeof options === 'number' ? options : (options.family ?? 0);
    const key = `${hostname}/${String(family)}`;
    const hit = cache.get(key);
    if (hit && Date.now() - hit.at < DNS_CACHE_TTL_MS) {
      process.nextTick(callback, null, hit.address, hit.family);
      return;
    }
    dns.lookup(
      hostname,
      { family: family === 'IPv6' ? 6 : family === 'IPv4' ? 4 : family },
      (err, address, fam) => {
        if (!err) cache.set(key, { address, family: fam, at: Date.now() });
        callback(err, address, fam);
      },
    );
  };
}

/** An optional integer option within [min, max]; throws a message naming the option otherwise. */
function integerOption(
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(
      `DogStatsdSink: ${name} must be an integer between ${String(min)} and ${String(max)}, got ${String(value)}`,
    );
  }
  return value;
}

/**
 * Sends samples to a Datadog Agent over DogStatsD, through hot-shots' UDP or UDS transport.
 *
 * - Lines are packed into datagrams of at most `maxDatagramBytes`, joined by `\n`. A single line
 *   longer than that is dropped and counted, never sent truncated.
 * - `submit` only encodes and queues. Sending happens on later ticks, in small paced slices, so
 *   100,000 lines do not overflow a local receiver's socket buffer.
 * - A lost or missing UDS socket is reopened with exponential backoff; meanwhile datagrams wait in
 *   a bounded queue (oldest dropped first). UDP never reports an unreachable Agent: it just sends.
 * - `stats().maxDatagramBytes` is the largest datagram actually sent.
 */
export class DogStatsdSink implements Sink {
  readonly maxDatagramBytes: number;
  private readonly logger: Logger;
  private readonly maxQueuedDatagrams: number;
  private readonly sliceDatagrams: number;
  private readonly sliceBytes: number;
  private readonly slicePauseMs: number;
  private readonly flushTimeoutMs: number;
  private readonly reconnectInitialDelayMs: number;
  private readonly reconnectMaxDelayMs: number;
  private readonly counters: SinkStats = emptySinkStats();

  /**
   * Datagram being packed: lines joined by `\n`, written straight into this buffer and copied out at
   * seal. Concatenating strings instead left a rope of two strings per line on the heap until the
   * datagram was sent, which at 100,000 lines a run was most of what reached the old generation.
   */
  private packing: Buffer | undefined;
  private packingBytes = 0;
  private packingSamples = 0;
  private sealScheduled = false;

  /** FIFO of sealed datagrams; `queueHead` avoids O(n) shifts. */
  private queue: QueuedDatagram[] = [];
  private queueHead = 0;
  private nextSeq = 1;
  private readonly inFlight = new Set<number>();
  private flushWaiters: FlushWaiter[] = [];

  private client: StatsD | undefined;
  private pumping = false;
  private reconnectDelayMs: number;
  private nextConnectAt = 0;
  /** Whether the current client delivered anything; decides between instant and delayed reconnect. */
  private sentSinceConnect = false;
  private wake: (() => void) | undefined;
  private sleepTimer: NodeJS.Timeout | undefined;
  private outage: { since: number; dropped: number } | undefined;
  private closePromise: Promise<void> | undefined;
  private closed = false;
  private readonly loggedOnce = new Set<string>();

  constructor(private readonly options: DogStatsdSinkOptions) {
    if (options.transport === 'udp') {
      if (typeof options.host !== 'string' || options.host === '') {
        throw new Error('DogStatsdSink: host must be a non-empty string (e.g. "127.0.0.1")');
      }
      if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) {
        throw new Error(
          `DogStatsdSink: port must be an integer between 1 and 65535, got ${String(options.port)}`,
        );
      }
    } else if (options.transport === 'uds') {
      if (typeof options.path !== 'string' || options.path === '') {
        throw new Error(
          'DogStatsdSink: path must be a non-empty socket path (e.g. /var/run/datadog/dsd.socket)',
        );
      }
    } else {
      throw new Error(
        `DogStatsdSink: transport must be "udp" or "uds", got ${String((options as { transport: unknown }).transport)}`,
      );
    }
    this.logger = options.logger;
    const defaultMax =
      options.transport === 'udp' ? DEFAULT_UDP_MAX_DATAGRAM_BYTES : DEFAULT_UDS_MAX_DATAGRAM_BYTES;
    const max = Number.MAX_SAFE_INTEGER;
    this.maxDatagramBytes = integerOption(
      'maxDatagramBytes',
      options.maxDatagramBytes,
      defaultMax,
      64,
      AGENT_MAX_DATAGRAM_BYTES,
    );
    this.maxQueuedDatagrams = integerOption(
      'maxQueuedDatagrams',
      options.maxQueuedDatagrams,
      Math.floor(DEFAULTS.queuedBytes / this.maxDatagramBytes),
      1,
      max,
    );
    this.sliceDatagrams = integerOption(
      'sliceDatagrams',
      options.sliceDatagrams,
      DEFAULTS.sliceDatagrams,
      1,
      max,
    );
    this.sliceBytes = integerOption('sliceBytes', options.sliceBytes, DEFAULTS.sliceBytes, 1, max);
    this.slicePauseMs = integerOption('slicePauseMs', options.slicePauseMs, DEFAULTS.slicePauseMs, 0, 60_000);
    this.flushTimeoutMs = integerOption(
      'flushTimeoutMs',
      options.flushTimeoutMs,
      DEFAULTS.flushTimeoutMs,
      0,
      max,
    );
    this.reconnectInitialDelayMs = integerOption(
      'reconnectInitialDelayMs',
      options.reconnectInitialDelayMs,
      DEFAULTS.reconnectInitialDelayMs,
      1,
      max,
    );
    this.reconnectMaxDelayMs = Math.max(
      this.reconnectInitialDelayMs,
      integerOption('reconnectMaxDelayMs', options.reconnectMaxDelayMs, DEFAULTS.reconnectMaxDelayMs, 1, max),
    );
    this.reconnectDelayMs = this.reconnectInitialDelayMs;
  }

  submit(sample: Sample): void {
    this.accept(sample);
    this.scheduleSeal();
  }

  submitMany(samples: readonly Sample[]): void {
    for (const sample of samples) this.accept(sample);
    this.scheduleSeal();
  }

  flush(): Promise<void> {
    this.seal();
    const throughSeq = this.nextSeq - 1;
    if (this.isDoneThrough(throughSeq)) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.expireFlush(throughSeq), this.flushTimeoutMs);
      this.flushWaiters.push({ throughSeq, resolve, timer });
      this.startPump();
    });
  }

  close(): Promise<void> {
    this.closePromise ??= this.closeOnce();
    return this.closePromise;
  }

  stats(): SinkStats {
    return { ...this.counters };
  }

  private async closeOnce(): Promise<void> {
    await this.flush();
    this.closed = true;
    this.dropQueuedThrough(Number.MAX_SAFE_INTEGER);
    this.stopSleeping();
    const client = this.client;
    this.client = undefined;
    if (client) await closeClient(client);
  }

  // ---- packing ----------------------------------------------------------------------------------

  private accept(sample: Sample): void {
    this.counters.samples++;
    if (this.closed) {
      this.counters.dropped++;
      return;
    }
    try {
      this.pack(sample);
    } catch (error) {
      // Only a sample that breaks samples.ts' types gets here (e.g. tags not an array).
      this.counters.dropped++;
      this.warnOnce('encode', `DogStatsD: could not encode a sample, dropped: ${String(error)}`);
    }
  }

  private pack(sample: Sample): void {
    const line = encodeSample(sample);
    if (line === undefined) {
      this.counters.dropped++;
      this.warnOnce(
        'unencodable',
        `DogStatsD: dropped a ${sample.kind} that cannot be encoded (non-finite value or bad status)`,
      );
      return;
    }
    const bytes = Buffer.byteLength(line, 'utf8');
    if (bytes > this.maxDatagramBytes) {
      this.counters.dropped++;
      this.warnOnce(
        'oversized',
        `DogStatsD: dropped a ${String(bytes)}-byte line longer than maxDatagramBytes ${String(this.maxDatagramBytes)} ` +
          `(${line.slice(0, 80)}…); further ones are only counted in dropped`,
      );
      return;
    }
    if (this.packingSamples > 0 && this.packingBytes + 1 + bytes > this.maxDatagramBytes) this.seal();
    const packing = (this.packing ??= Buffer.allocUnsafe(this.maxDatagramBytes));
    if (this.packingSamples > 0) packing[this.packingBytes++] = 0x0a; // '\n'
    this.packingBytes += packing.write(line, this.packingBytes, 'utf8');
    this.packingSamples++;
  }

  /** A partly packed datagram leaves on the next tick, so one synchronous batch shares datagrams. */
  private scheduleSeal(): void {
    if (this.sealScheduled || this.packingSamples === 0) return;
    this.sealScheduled = true;
    setImmediate(() => {
      this.sealScheduled = false;
      this.seal();
    });
  }

  private seal(): void {
    if (this.packingSamples === 0 || this.packing === undefined) return;
    const payload = Buffer.allocUnsafe(this.packingBytes);
    this.packing.copy(payload, 0, 0, this.packingBytes);
    this.enqueue({
      payload,
      bytes: this.packingBytes,
      samples: this.packingSamples,
      seq: this.nextSeq++,
    });
    this.packingBytes = 0;
    this.packingSamples = 0;
    this.startPump();
  }

  private enqueue(datagram: QueuedDatagram): void {
    if (this.queuedCount() >= this.maxQueuedDatagrams) this.dropOldest();
    this.queue.push(datagram);
  }

  /**
   * Removes the head of the queue. Its slot is cleared (the array is only compacted every 1,024
   * datagrams): a sent datagram's payload must not stay reachable, up to 8 MB of them per sink.
   */
  private takeHead(): QueuedDatagram {
    const head = this.queue[this.queueHead]!;
    this.queue[this.queueHead] = TAKEN;
    this.queueHead++;
    if (this.queueHead === this.queue.length) {
      this.queue = [];
      this.queueHead = 0;
    }
    return head;
  }

  private dropOldest(): void {
    if (this.queuedCount() === 0) return;
    const oldest = this.takeHead();
    this.countDropped(oldest.samples);
    this.warnOnce(
      'queue-full',
      `DogStatsD: queue full (${String(this.maxQueuedDatagrams)} datagrams), dropping the oldest; see dropped`,
    );
    this.compactQueue();
  }

  private queuedCount(): number {
    return this.queue.length - this.queueHead;
  }

  private compactQueue(): void {
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    }
  }

  // ---- sending ----------------------------------------------------------------------------------

  private startPump(): void {
    if (this.pumping || this.closed || this.queuedCount() === 0) return;
    this.pumping = true;
    void this.pump().finally(() => {
      this.pumping = false;
      this.settleFlushWaiters();
      // Something may have been queued between the loop's last check and now.
      if (this.queuedCount() > 0) this.startPump();
    });
  }

  private async pump(): Promise<void> {
    while (this.queuedCount() > 0 && !this.closed) {
      const client = this.connectedClient();
      if (client === undefined) {
        await this.sleep(Math.max(0, this.nextConnectAt - Date.now()));
        continue;
      }
      const failure = await this.sendSlice(client);
      this.settleFlushWaiters();
      if (failure === 'disconnected') {
        // The first loss after a good send retries at once (an Agent restart); repeated ones back off.
        this.nextConnectAt = this.sentSinceConnect ? 0 : Date.now() + this.bumpBackoff();
        await this.dropClient();
      } else if (failure === 'congested') {
        await this.sleep(CONGESTION_PAUSE_MS);
      } else {
        await (this.slicePauseMs > 0 ? this.sleep(this.slicePauseMs) : new Promise((r) => setImmediate(r)));
      }
    }
  }

  /** Sends up to `sliceDatagrams` / `sliceBytes` and waits for every socket callback. */
  private async sendSlice(client: StatsD): Promise<SendFailure | undefined> {
    const sends: Promise<void>[] = [];
    const retry: QueuedDatagram[] = [];
    let worst: SendFailure | undefined;
    let sliceBytes = 0;
    // unix-dgram calls back synchronously, so a lost socket stops the slice after one datagram.
    while (
      this.queuedCount() > 0 &&
      sends.length < this.sliceDatagrams &&
      sliceBytes < this.sliceBytes &&
      worst === undefined
    ) {
      const datagram = this.takeHead();
      sliceBytes += datagram.bytes;
      this.inFlight.add(datagram.seq);
      sends.push(
        sendRawDatagram(client, datagram.payload).then((error) => {
          if (error === undefined) {
            this.inFlight.delete(datagram.seq);
            this.counters.datagrams++;
            this.counters.bytes += datagram.bytes;
            this.counters.maxDatagramBytes = Math.max(this.counters.maxDatagramBytes, datagram.bytes);
            this.onSendSucceeded();
            return;
          }
          this.counters.sendErrors++;
          const failure = classifySendError(error);
          if (failure === 'failed') {
            this.inFlight.delete(datagram.seq);
            this.countDropped(datagram.samples);
            this.warnOnce('send-failed', `DogStatsD: send failed, datagram dropped: ${error.message}`);
          } else {
            // Not delivered and the socket said so: keep it for the next attempt. It stays in
            // `inFlight` until it is back in the queue, so a flush cannot miss it in between.
            retry.push(datagram);
            if (worst !== 'disconnected') worst = failure;
            if (failure === 'disconnected') this.onDisconnected(error);
          }
        }),
      );
      // Yield the microtask queue so synchronous callbacks are seen before the next datagram.
      await Promise.resolve();
    }
    await Promise.all(sends);
    this.compactQueue();
    if (retry.length > 0) this.requeueAtHead(retry);
    return worst;
  }

  private requeueAtHead(datagrams: QueuedDatagram[]): void {
    datagrams.sort((a, b) => a.seq - b.seq);
    this.queue = datagrams.concat(this.queue.slice(this.queueHead));
    this.queueHead = 0;
    for (const datagram of datagrams) this.inFlight.delete(datagram.seq);
    while (this.queuedCount() > this.maxQueuedDatagrams) this.dropOldest();
  }

  // ---- connection -------------------------------------------------------------------------------

  /** The current client, or a new one when allowed by the backoff; undefined while unavailable. */
  private connectedClient(): StatsD | undefined {
    if (this.client) return this.client;
    if (Date.now() < this.nextConnectAt) return undefined;
    const client = this.openClient();
    if (client instanceof Error) {
      this.onDisconnected(client);
      this.nextConnectAt = Date.now() + this.bumpBackoff();
      return undefined;
    }
    this.client = client;
    this.sentSinceConnect = false;
    return client;
  }

  private openClient(): StatsD | Error {
    let openError: Error | undefined;
    let opening = true;
    const base: ClientOptions = {
      // Raw datagrams only: no buffering, no client telemetry or origin detection mixed in.
      maxBufferSize: 0,
      datadog: false,
      includeDatadogTelemetry: false,
      closingFlushInterval: 1,
      errorHandler: (error: Error) => {
        if (opening) openError ??= error;
        else this.warnOnce('socket-error', `DogStatsD: socket error: ${error.message}`);
      },
    };
    let client: StatsD;
    try {
      if (this.options.transport === 'udp') {
        const ipVersion = net.isIP(this.options.host);
        client = new StatsD({
          ...base,
          protocol: 'udp',
          host: this.options.host,
          port: this.options.port,
          udpSocketOptions: { type: ipVersion === 6 ? 'udp6' : 'udp4', lookup: cachingLookup() },
        });
      } else {
        client = new StatsD({
          ...base,
          protocol: 'uds',
          path: this.options.path,
          // Reopening and backpressure are handled here, with the queue: hot-shots' own graceful
          // handling reopens at most once a second and loses the datagram that hit the error, and
          // its congestion retry holds each datagram on a private timer.
          udsGracefulErrorHandling: false,
          udsRetryOptions: { retries: 0 },
        });
      }
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    } finally {
      opening = false;
    }
    const socket: unknown = client.socket;
    if (openError !== undefined || socket === null || socket === undefined) {
      void closeClient(client);
      return openError ?? new Error('Socket not created');
    }
    return client;
  }

  private async dropClient(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await closeClient(client);
  }

  private onDisconnected(error: Error): void {
    if (this.outage === undefined) {
      this.outage = { since: Date.now(), dropped: this.counters.dropped };
      const where =
        this.options.transport === 'uds'
          ? this.options.path
          : `${this.options.host}:${String(this.options.port)}`;
      this.logger.warn(
        `DogStatsD: cannot send to ${where} (${errorCodeName(error) ?? error.message}); ` +
          `queueing up to ${String(this.maxQueuedDatagrams)} datagrams and reconnecting with backoff. ` +
          'Is the Datadog Agent running with DogStatsD enabled?',
      );
    }
  }

  private onSendSucceeded(): void {
    this.sentSinceConnect = true;
    this.reconnectDelayMs = this.reconnectInitialDelayMs;
    if (this.outage !== undefined) {
      const lost = this.counters.dropped - this.outage.dropped;
      this.logger.info(
        `DogStatsD: reconnected after ${String(Date.now() - this.outage.since)} ms; ${String(lost)} samples dropped meanwhile`,
      );
      this.outage = undefined;
    }
  }

  private bumpBackoff(): number {
    const delay = this.reconnectDelayMs;
    this.reconnectDelayMs = Math.min(this.reconnectDelayMs * 2, this.reconnectMaxDelayMs);
    return delay;
  }

  /** A timer that close() and a new flush deadline can cut short. */
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

  // ---- flush bookkeeping ------------------------------------------------------------------------

  private isDoneThrough(seq: number): boolean {
    const head = this.queue[this.queueHead];
    if (head !== undefined && head.seq <= seq) return false;
    // The queue stays in seq order (retries go back to the head), so its head is the oldest queued.
    for (const inFlightSeq of this.inFlight) if (inFlightSeq <= seq) return false;
    return true;
  }

  private settleFlushWaiters(): void {
    if (this.flushWaiters.length === 0) return;
    const waiting: FlushWaiter[] = [];
    for (const waiter of this.flushWaiters) {
      if (this.isDoneThrough(waiter.throughSeq)) {
        clearTimeout(waiter.timer);
        waiter.resolve();
      } else {
        waiting.push(waiter);
      }
    }
    this.flushWaiters = waiting;
  }

  /** The flush deadline passed with the socket still unavailable: give up on its datagrams. */
  private expireFlush(throughSeq: number): void {
    const before = this.counters.dropped;
    this.dropQueuedThrough(throughSeq);
    const lost = this.counters.dropped - before;
    if (lost > 0) {
      this.logger.warn(
        `DogStatsD: flush gave up after ${String(this.flushTimeoutMs)} ms with the socket unavailable; ` +
          `${String(lost)} samples dropped`,
      );
    }
    // Datagrams still in flight were handed to the socket already; the waiter is released either way.
    const waiting: FlushWaiter[] = [];
    for (const waiter of this.flushWaiters) {
      if (waiter.throughSeq <= throughSeq) {
        clearTimeout(waiter.timer);
        waiter.resolve();
      } else {
        waiting.push(waiter);
      }
    }
    this.flushWaiters = waiting;
  }

  private dropQueuedThrough(seq: number): void {
    while (this.queuedCount() > 0) {
      if (this.queue[this.queueHead]!.seq > seq) break;
      this.countDropped(this.takeHead().samples);
    }
    this.compactQueue();
    if (this.queuedCount() === 0) {
      this.queue = [];
      this.queueHead = 0;
    }
  }

  private countDropped(samples: number): void {
    this.counters.dropped += samples;
  }

  private warnOnce(key: string, message: string): void {
    if (this.loggedOnce.has(key)) return;
    this.loggedOnce.add(key);
    this.logger.warn(message);
  }
}
