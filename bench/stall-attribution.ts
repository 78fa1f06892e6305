/**
 * What the event loop's longest stall in a run was made of. monitorEventLoopDelay says how long the
 * loop was blocked, not why: a GC pause over a large heap, synchronous work of our own, or the OS
 * running someone else (the bench shares 2 cores with the emulator and the listeners). This records
 * every gap between 20 ms ticks, the main-thread pauses V8 reports for GC (perf_hooks 'gc' entries),
 * the main thread's own CPU time and its time runnable but waiting for a core (Linux schedstat; null
 * elsewhere), and splits the worst gap of each run into those; the rest the thread was asleep (idle
 * until the tick was due, or blocked in a system call).
 */
import { readFileSync } from 'node:fs';
import { constants, PerformanceObserver } from 'node:perf_hooks';

export const STALL_TICK_MS = 20;

export interface StallBreakdown {
  /** The longest gap between two ticks, beyond the tick interval. */
  readonly ms: number;
  /** Main-thread GC pauses inside that gap. */
  readonly gcMs: number;
  /** Of which major (mark-compact) pauses. */
  readonly majorGcMs: number;
  /** CPU time of the main thread over the gap (GC pauses included); null without schedstat. */
  readonly mainThreadCpuMs: number | null;
  /** Time the main thread was runnable but not running (waiting for a core) over the gap. */
  readonly runQueueWaitMs: number | null;
  /** When it ended, in µs of the monotonic clock V8's CPU profiles use (process.hrtime): to find it in one. */
  readonly endHrUs: number;
}

export interface RunGcFigures {
  readonly worst: StallBreakdown;
  /** All main-thread GC pauses in the run, and the longest one. */
  readonly gcTotalMs: number;
  readonly gcMaxPauseMs: number;
  readonly majorGcs: number;
}

interface Span {
  readonly start: number;
  readonly end: number;
}

export class StallAttributor {
  private readonly gcPauses: (Span & { major: boolean })[] = [];
  private worstGap: (Span & { cpuMs: number | null; waitMs: number | null; endHrUs: number }) | undefined;
  private lastTick = performance.now();
  private lastSched = mainThreadSchedMs();
  private readonly observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as { detail?: { kind?: number } }).detail?.kind;
      this.gcPauses.push({
        start: entry.startTime,
        end: entry.startTime + entry.duration,
        major: kind === constants.NODE_PERFORMANCE_GC_MAJOR,
      });
    }
  });
  private readonly timer: NodeJS.Timeout;

  constructor() {
    this.observer.observe({ entryTypes: ['gc'] });
    this.timer = setInterval(() => this.tick(), STALL_TICK_MS);
  }

  /** Starts a run: forgets everything before (a forced GC between runs is not the run's). */
  begin(): void {
    this.gcPauses.length = 0;
    this.worstGap = undefined;
    this.lastTick = performance.now();
    this.lastSched = mainThreadSchedMs();
  }

  /** The run's figures. Call after the run's work has settled. */
  takeRun(): RunGcFigures {
    // GC entries are delivered asynchronously: attribute now, not at the tick that saw the gap.
    const gap = this.worstGap;
    const overlap = (major: boolean): number =>
      gap === undefined
        ? 0
        : this.gcPauses
            .filter((p) => !major || p.major)
            .reduce((ms, p) => ms + Math.max(0, Math.min(p.end, gap.end) - Math.max(p.start, gap.start)), 0);
    const figures: RunGcFigures = {
      worst: {
        ms: gap ? gap.end - gap.start - STALL_TICK_MS : 0,
        gcMs: overlap(false),
        majorGcMs: overlap(true),
        mainThreadCpuMs: gap?.cpuMs ?? null,
        runQueueWaitMs: gap?.waitMs ?? null,
        endHrUs: gap?.endHrUs ?? 0,
      },
      gcTotalMs: this.gcPauses.reduce((ms, p) => ms + (p.end - p.start), 0),
      gcMaxPauseMs: this.gcPauses.reduce((ms, p) => Math.max(ms, p.end - p.start), 0),
      majorGcs: this.gcPauses.filter((p) => p.major).length,
    };
    return figures;
  }

  stop(): void {
    clearInterval(this.timer);
    this.observer.disconnect();
  }

  private tick(): void {
    const now = performance.now();
    const sched = mainThreadSchedMs();
    const last = this.lastSched;
    if (this.worstGap === undefined || now - this.lastTick > this.worstGap.end - this.worstGap.start)
      this.worstGap = {
        start: this.lastTick,
        end: now,
        cpuMs: sched === null || last === null ? null : sched.cpuMs - last.cpuMs,
        waitMs: sched === null || last === null ? null : sched.waitMs - last.waitMs,
        endHrUs: Number(process.hrtime.bigint() / 1000n),
      };
    this.lastTick = now;
    this.lastSched = sched;
  }
}

/**
 * The main thread's (its task id is the pid) CPU time and run-queue wait so far, in ms, from
 * /proc/self/task/<pid>/schedstat: `<ns on a CPU> <ns runnable, waiting for one> <timeslices>`.
 */
function mainThreadSchedMs(): { cpuMs: number; waitMs: number } | null {
  try {
    const [cpuNs, waitNs] = readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'latin1').split(' ');
    const cpuMs = Number(cpuNs) / 1e6;
    const waitMs = Number(waitNs) / 1e6;
    return Number.isFinite(cpuMs) && Number.isFinite(waitMs) ? { cpuMs, waitMs } : null;
  } catch {
    return null;
  }
}
