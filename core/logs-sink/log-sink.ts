import type { Delivery } from '../sink/delivery.js';
import type { SinkHealth } from '../sink/sink.js';
import type { LogRecord } from './log-record.js';

/** Counters a logs sink keeps; surfaced in status. */
export interface LogSinkStats {
  /** Records submitted. */
  records: number;
  /** Records whose line was written to the socket. */
  lines: number;
  bytes: number;
  /** Records whose message was cut to fit the Agent's line limit. */
  truncated: number;
  sendErrors: number;
  /** Records given up on (Agent unreachable or not reading past the flush timeout, queue full). */
  dropped: number;
  /** Bytes waiting to be written, right now. */
  queuedBytes: number;
}

/**
 * Where log records go. Same contract as the metrics Sink:
 * - `submit` MUST NOT throw for a well-formed record and MUST NOT block on the network; it buffers.
 *   With a `delivery`, the sink reports on the record to it: delivered once its line was written to
 *   the socket, failed if the sink gave up on it. A source commits its cursor only after its delivery
 *   settled successfully.
 * - `flush` resolves once everything submitted so far is accounted for (delivered or dropped).
 * - `close` flushes, then releases the socket; calling it twice is safe.
 */
export interface LogSink {
  submit(record: LogRecord, delivery?: Delivery): void;
  /**
   * Resolves when the sink can take `records` more without dropping what it holds (its bounded queue
   * has room): sources wait for it between batches. Absent: always room.
   */
  room?(records?: number): Promise<void>;
  flush(): Promise<void>;
  close(): Promise<void>;
  stats(): LogSinkStats;
  health?(): SinkHealth;
}

export function emptyLogSinkStats(): LogSinkStats {
  return { records: 0, lines: 0, bytes: 0, truncated: 0, sendErrors: 0, dropped: 0, queuedBytes: 0 };
}
