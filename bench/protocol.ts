/**
 * Messages between the bench orchestrator (bench/run.ts, which hosts the AWS emulator) and its child
 * processes: the collector workers (bench/worker.ts) and the DogStatsD listeners (bench/listener.ts).
 */
import type { RunGcFigures } from './stall-attribution.js';

/** `floor`: the machine's floor for dogwatch's captured work (bench/floor.ts), not a collector. */
export type CollectorKind = 'dogwatch' | 'naive' | 'overlap' | 'floor';
export type Transport = 'udp' | 'uds';

export interface WorkerConfig {
  readonly collector: CollectorKind;
  readonly endpoint: string;
  readonly udpPort: number;
  readonly udsPath: string;
  /** Runs in total, the first one included. */
  readonly runs: number;
  /** Virtual seconds between runs (the polling interval). */
  readonly pollSeconds: number;
  /** Virtual time of the first run (ms). */
  readonly t0: number;
  /** Temp folder for conf.d and the state dir. */
  readonly workdir: string;
  /** 'alternate': run 0 over UDP, then UDS, UDP, … ; 'udp' / 'uds': every run over that one. */
  readonly transports: 'alternate' | 'udp' | 'uds';
  /**
   * Write a V8 CPU profile of the steady runs (all but the first) here; a path ending in
   * `.heapprofile` gets an allocation-sampling profile instead.
   */
  readonly profilePath?: string;
  /** dogwatch: write its plan (emitted queries) here after the first run. Baselines: read it from here. */
  readonly planPath: string;
  /**
   * Diagnosis (`--heap-snapshots`): a forced full GC after every run, its heap used recorded, and a V8
   * heap snapshot written after the listed runs (1-based) into `heapSnapshotDir`. The GC calls change
   * the heap's dynamics: stall figures of such a run are not comparable.
   */
  readonly heapSnapshotRuns?: readonly number[];
  readonly heapSnapshotDir?: string;
  /**
   * dogwatch: this run (0-based, a steady UDS run) is captured for the floor: the parent records its
   * GetMetricData exchanges and the UDS listener its lines, between the worker's `capture` messages.
   */
  readonly captureRun?: number;
  /** floor: the captured exchanges (JSON: CapturedExchange[]) and lines (one a line) to replay. */
  readonly capture?: { readonly exchangesPath: string; readonly linesPath: string };
}

export interface RunRecord {
  readonly index: number;
  readonly transport: Transport;
  readonly wallMs: number;
  readonly cpuUserMs: number;
  readonly cpuSystemMs: number;
  /** Timestamped metric lines handed to the transport (CloudWatch points × Datadog metrics). */
  readonly points: number;
  /** Of those, (series, statistic, timestamp) never sent before. */
  readonly distinctPoints: number;
  readonly datagrams: number;
  readonly bytes: number;
  readonly maxDatagramBytes: number;
  /** Emulator-side, this run only: requests by operation (ok outcome), and metrics requested. */
  readonly requests: Record<string, number>;
  readonly metricsRequested: number;
  /** See AccountingReply.discoveryQuotaMs. */
  readonly discoveryQuotaMs: number;
  readonly rssMb: number;
  /** V8 heap reserved (heapTotal) and memory outside it (external: Buffers, ArrayBuffers), at the same moment. */
  readonly heapTotalMb: number;
  readonly externalMb: number;
  /** Heap used after a forced full GC following the run: only in diagnosis (`heapSnapshotRuns`). */
  readonly heapAfterGcMb?: number;
  readonly eventLoopMaxMs: number;
  /** GC pauses of the run and what its longest stall was made of (bench/stall-attribution.ts). */
  readonly gc: RunGcFigures;
  readonly failures: number;
}

export interface WorkerResult {
  readonly collector: CollectorKind;
  readonly queries: number;
  readonly series: number;
  readonly idleRssMb: number;
  readonly peakRssMb: number;
  readonly heapAfterFirstMb: number;
  readonly heapAfterTenthMb: number | null;
  /** Lowest heap used after a forced GC following runs STEADY_FROM_RUN to +2, with more runs than +5. */
  readonly heapAfterSteadyMb: number | null;
  /** After a forced GC following the last run, when there were more than 11 (lowest of the last 3 with
   *  more than STEADY_FROM_RUN + 5). */
  readonly heapAfterLastMb: number | null;
  readonly runs: RunRecord[];
  readonly freshnessP50: number;
  readonly freshnessP99: number;
  readonly sentPoints: Record<Transport, number>;
  readonly errors: string[];
  /** floor only: the captured work it replays each run. */
  readonly floor?: FloorSetup;
}

/** What the floor replays per run (bench/floor.ts). */
export interface FloorSetup {
  readonly requests: number;
  readonly requestBytes: number;
  readonly responseBytes: number;
  /** Lines formatted from parsed response values, and lines sent as captured (dogwatch's telemetry). */
  readonly linesFormatted: number;
  readonly linesVerbatim: number;
  /** GetMetricData calls answered "throttled" and sent again, over all runs. */
  readonly throttledRetries: number;
}

export interface AccountingReply {
  readonly requests: Record<string, number>;
  readonly metricsRequested: number;
  /** Σ over the run's calls other than GetMetricData of 1 ÷ their quota's rate: discovery's quota-bound time. */
  readonly discoveryQuotaMs: number;
}

/** worker → parent */
export type WorkerMessage =
  | { type: 'clock'; id: number; realOrigin: number; virtualOrigin: number }
  | { type: 'accounting'; id: number }
  | { type: 'capture'; id: number; on: boolean }
  | { type: 'progress'; text: string }
  | { type: 'result'; result: WorkerResult }
  | { type: 'fatal'; error: string };

/** parent → worker */
export type ParentMessage =
  { type: 'start'; config: WorkerConfig } | { type: 'reply'; id: number; body: unknown };

/** listener ↔ parent */
export interface ListenerCounts {
  readonly datagrams: number;
  readonly bytes: number;
  readonly maxDatagramBytes: number;
  /** Lines with a `|T` timestamp: CloudWatch points. */
  readonly points: number;
  readonly lines: number;
}
export type ListenerMessage =
  | { type: 'ready'; port?: number; path?: string }
  | { type: 'counts'; counts: ListenerCounts }
  | { type: 'capturing' }
  | { type: 'captured'; lines: number };
/**
 * parent → listener: `'report'`, `'exit'`, `'capture'` (keep what arrives from now on, answered by
 * `capturing`), or `{ save }` (write the lines kept since, one a line, to that path; answered by `captured`).
 */
export type ListenerCommand = 'report' | 'exit' | 'capture' | { readonly save: string };

/**
 * First run of the load's steady state: the first discovery refresh (600 s TTL, run 12) is behind, and
 * so is the late horizon (900 s): the state's pending late periods have reached their usual number.
 */
export const STEADY_FROM_RUN = 16;
