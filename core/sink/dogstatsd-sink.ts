import type { Logger } from '../log/logger.js';
import { DatagramPacker } from './datagram-packer.js';
import { DatagramSender, type SenderTuning } from './datagram-sender.js';
import type { DatagramTransport } from './datagram-transport.js';
import type { Delivery } from './delivery.js';
import { encodeSample } from './dogstatsd-format.js';
import type { Sample } from './samples.js';
import { emptySinkStats, type Sink, type SinkHealth, type SinkStats } from './sink.js';
import { UdpTransport } from './udp-transport.js';
import { UdsTransport } from './uds-transport.js';

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
   * ones, and the intake refuses points older than about an hour anyway. Default: 32 MiB worth of
   * datagrams, room for the largest run the benchmark measures.
   */
  readonly maxQueuedDatagrams?: number;
  /**
   * Pacing: at most `sliceDatagrams` datagrams and `sliceBytes` bytes are handed to the socket, then
   * the sink waits `slicePauseMs` (0: one event-loop turn). A local receiver with the OS default
   * receive buffer holds only a few dozen small datagrams (the kernel charges each a whole page), so
   * a burst loses datagrams, and UDP gives no feedback: the pace is fixed. Defaults 8 datagrams,
   * 32,768 bytes, 1 ms: the largest slice that lost nothing to a receiver in another process on a
   * loaded machine (BENCHMARKS.md).
   */
  readonly sliceDatagrams?: number;
  readonly sliceBytes?: number;
  readonly slicePauseMs?: number;
  /**
   * While the Agent is unreachable, how long a datagram waits before it is given up (its samples
   * count as dropped and their sources fetch them again). Default 10,000 ms.
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
 * Sends samples to a Datadog Agent over DogStatsD: encodes each into a line, packs lines into datagrams
 * of at most `maxDatagramBytes` (joined by `\n`), and hands them to a DatagramSender over UDP (a
 * connected socket, see UdpTransport) or a unix datagram socket (hot-shots, see UdsTransport).
 *
 * - Every sample submitted with a Delivery is reported to it: delivered once the transport confirmed
 *   its datagram, failed when the sink gave up on it. Nothing else is ever counted against a source.
 * - A line longer than a datagram is refused (its delivery fails, `dropped` counts it) and never sent
 *   truncated; the runtime trims tags so that metric lines fit (see core/check/normalize.ts fitTags).
 * - `submit` only encodes and queues; the sender paces, reconnects with backoff, and gives up on what
 *   waited past the flush timeout while the Agent was unreachable.
 * - `stats().maxDatagramBytes` is the largest datagram actually sent.
 */
export class DogStatsdSink implements Sink {
  readonly maxDatagramBytes: number;
  private readonly logger: Logger;
  private readonly counters: SinkStats = emptySinkStats();
  private readonly packer: DatagramPacker;
  private readonly sender: DatagramSender;
  private sealScheduled = false;
  private closePromise: Promise<void> | undefined;
  private closed = false;
  private readonly loggedOnce = new Set<string>();

  constructor(options: DogStatsdSinkOptions) {
    const transport = validatedTransport(options);
    this.logger = options.logger;
    const defaultMax =
      options.transport === 'udp' ? DEFAULT_UDP_MAX_DATAGRAM_BYTES : DEFAULT_UDS_MAX_DATAGRAM_BYTES;
    this.maxDatagramBytes = integerOption(
      'maxDatagramBytes',
      options.maxDatagramBytes,
      defaultMax,
      64,
      AGENT_MAX_DATAGRAM_BYTES,
    );
    const tuning = senderTuning(options, this.maxDatagramBytes);
    this.sender = new DatagramSender(transport, tuning, this.logger, this.counters);
    this.packer = new DatagramPacker(this.maxDatagramBytes, (datagram) => this.sender.enqueue(datagram));
  }

  get maxLineBytes(): number {
    return this.maxDatagramBytes;
  }

  submit(sample: Sample, delivery?: Delivery): void {
    this.counters.samples++;
    delivery?.expect();
    const refused = this.closed ? 'the DogStatsD sink is closed' : this.pack(sample, delivery);
    if (refused === undefined) return;
    this.counters.dropped++;
    delivery?.failed(1, refused);
  }

  flush(): Promise<void> {
    this.packer.seal();
    return this.sender.drained(this.packer.sequence - 1);
  }

  close(): Promise<void> {
    this.closePromise ??= (async () => {
      await this.flush();
      this.closed = true;
      await this.sender.close();
    })();
    return this.closePromise;
  }

  stats(): SinkStats {
    return { ...this.counters };
  }

  health(): SinkHealth {
    return this.sender.health();
  }

  /** Encodes and packs a sample; returns why it was refused, if it was. */
  private pack(sample: Sample, delivery: Delivery | undefined): string | undefined {
    let line: string | undefined;
    try {
      line = encodeSample(sample);
    } catch (error) {
      // Only a sample that breaks samples.ts' types gets here (e.g. tags not an array).
      line = undefined;
      this.warnOnce('encode', `DogStatsD: could not encode a sample: ${String(error)}`);
    }
    if (line === undefined) {
      this.warnOnce(
        'unencodable',
        `DogStatsD: a ${sample.kind} cannot be encoded (non-finite value or bad status)`,
      );
      return `a ${sample.kind} that cannot be encoded`;
    }
    const bytes = Buffer.byteLength(line, 'utf8');
    if (bytes > this.maxDatagramBytes) {
      const reason = `a ${bytes}-byte line does not fit a ${this.maxDatagramBytes}-byte datagram (${line.slice(0, 60)}…)`;
      this.warnOnce('oversized', `DogStatsD: refused ${reason}; further ones are only counted in dropped`);
      return reason;
    }
    this.packer.add(line, bytes, delivery);
    this.scheduleSeal();
    return undefined;
  }

  /** A partly packed datagram leaves on the next tick, so one synchronous batch shares datagrams. */
  private scheduleSeal(): void {
    if (this.sealScheduled) return;
    this.sealScheduled = true;
    setImmediate(() => {
      this.sealScheduled = false;
      this.packer.seal();
    });
  }

  private warnOnce(key: string, message: string): void {
    if (this.loggedOnce.has(key)) return;
    this.loggedOnce.add(key);
    this.logger.warn(message);
  }
}

function validatedTransport(options: DogStatsdSinkOptions): DatagramTransport {
  if (options.transport === 'udp') {
    if (typeof options.host !== 'string' || options.host === '') {
      throw new Error('DogStatsdSink: host must be a non-empty string (e.g. "127.0.0.1")');
    }
    if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) {
      throw new Error(
        `DogStatsdSink: port must be an integer between 1 and 65535, got ${String(options.port)}`,
      );
    }
    return new UdpTransport(options.host, options.port);
  }
  if (options.transport === 'uds') {
    if (typeof options.path !== 'string' || options.path === '') {
      throw new Error(
        'DogStatsdSink: path must be a non-empty socket path (e.g. /var/run/datadog/dsd.socket)',
      );
    }
    return new UdsTransport(options.path);
  }
  throw new Error(
    `DogStatsdSink: transport must be "udp" or "uds", got ${String((options as { transport: unknown }).transport)}`,
  );
}

function senderTuning(options: DogStatsdSinkTuning, maxDatagramBytes: number): SenderTuning {
  const max = Number.MAX_SAFE_INTEGER;
  const reconnectInitialDelayMs = integerOption(
    'reconnectInitialDelayMs',
    options.reconnectInitialDelayMs,
    DEFAULTS.reconnectInitialDelayMs,
    1,
    max,
  );
  return {
    maxQueuedDatagrams: integerOption(
      'maxQueuedDatagrams',
      options.maxQueuedDatagrams,
      Math.floor(DEFAULTS.queuedBytes / maxDatagramBytes),
      1,
      max,
    ),
    sliceDatagrams: integerOption('sliceDatagrams', options.sliceDatagrams, DEFAULTS.sliceDatagrams, 1, max),
    sliceBytes: integerOption('sliceBytes', options.sliceBytes, DEFAULTS.sliceBytes, 1, max),
    slicePauseMs: integerOption('slicePauseMs', options.slicePauseMs, DEFAULTS.slicePauseMs, 0, 60_000),
    flushTimeoutMs: integerOption('flushTimeoutMs', options.flushTimeoutMs, DEFAULTS.flushTimeoutMs, 0, max),
    reconnectInitialDelayMs,
    reconnectMaxDelayMs: Math.max(
      reconnectInitialDelayMs,
      integerOption('reconnectMaxDelayMs', options.reconnectMaxDelayMs, DEFAULTS.reconnectMaxDelayMs, 1, max),
    ),
  };
}
