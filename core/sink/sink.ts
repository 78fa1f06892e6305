import type { Delivery } from './delivery.js';
import type { Sample } from './samples.js';

/** Counters every sink keeps; surfaced in status and as `dogwatch.*` self-metrics. */
export interface SinkStats {
  samples: number;
  datagrams: number;
  bytes: number;
  maxDatagramBytes: number;
  sendErrors: number;
  /** Samples given up on (Agent unreachable past the flush timeout, queue full). Never silent. */
  dropped: number;
}

/** Whether the sink can currently reach its destination, for status and health. */
export interface SinkHealth {
  readonly reachable: boolean;
  /** Why not, while unreachable. */
  readonly problem?: string;
  /** Since when (ISO time), while unreachable. */
  readonly since?: string;
}

/**
 * Where samples go. Contract:
 * - `submit` MUST NOT throw for a well-formed sample and MUST NOT block on the network; it buffers.
 *   With a `delivery`, the sink reports on the sample to it (see Delivery): delivered once the
 *   transport accepted it, failed if the sink gave up on it. A source commits its cursor only after
 *   its delivery settled successfully.
 * - `flush` resolves once everything submitted so far is accounted for (delivered or dropped).
 * - `close` flushes, then releases sockets; calling it twice is safe.
 * - `maxLineBytes`, when set, is the longest line the sink can carry; the runtime trims tags to fit.
 */
export interface Sink {
  readonly maxLineBytes?: number;
  submit(sample: Sample, delivery?: Delivery): void;
  flush(): Promise<void>;
  close(): Promise<void>;
  stats(): SinkStats;
  health?(): SinkHealth;
}

export function emptySinkStats(): SinkStats {
  return { samples: 0, datagrams: 0, bytes: 0, maxDatagramBytes: 0, sendErrors: 0, dropped: 0 };
}
