import type { Sample } from './samples.js';

/** Counters every sink keeps; surfaced in status and as `dogwatch.*` self-metrics. */
export interface SinkStats {
  samples: number;
  datagrams: number;
  bytes: number;
  maxDatagramBytes: number;
  sendErrors: number;
  /** Samples given up on (socket gone and the bounded queue full). Never silent: counted here. */
  dropped: number;
}

/**
 * Where samples go. Contract:
 * - `submit` MUST NOT throw for a well-formed sample and MUST NOT block on the network; it buffers.
 * - `flush` resolves once everything submitted so far has been handed to the OS (or counted as dropped).
 *   The engine commits watermarks only after `flush` resolves.
 * - `close` flushes, then releases sockets; calling it twice is safe.
 */
export interface Sink {
  submit(sample: Sample): void;
  /** Same as calling submit for each, but lets a sink encode a batch without per-call overhead. */
  submitMany(samples: readonly Sample[]): void;
  flush(): Promise<void>;
  close(): Promise<void>;
  stats(): SinkStats;
}

export function emptySinkStats(): SinkStats {
  return { samples: 0, datagrams: 0, bytes: 0, maxDatagramBytes: 0, sendErrors: 0, dropped: 0 };
}
