/**
 * What the event loop's longest stall in a run was made of. monitorEventLoopDelay says how long the
 * loop was blocked, not why: a GC pause over a large heap, synchronous work of our own, or the OS
 * running someone else (the bench shares 2 cores with the emulator and the listeners). This records
 * every gap between 20 ms ticks, the main-thread pauses V8 reports for GC (perf_hooks 'gc' entries),
 * and the main thread's own CPU time (Linux /proc; null elsewhere), and splits the worst gap of each
 * run into those three.
 */
import { readFileSync } from 'node:fs';
import { constants, PerformanceObserver } from 'node:perf_hooks';

const TICK_MS = 20;

export interface StallBreakdown {
  /** The longest gap between two ticks, beyond the tick interval. */
  readonly ms: number;
  /** Main-thread GC pauses inside that gap. */
  readonly gcMs: number;
  /** Of which major (mark-compact) pauses. */
  readonly majorGcMs: number;
  /** CPU time of the main thread over the gap; null where /proc/self/task is not readable. */
  readonly mainThreadCpuMs: number | null;
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
  private worstGap: (Span & { cpuMs: number | null; endHrUs: number }) | undefined;
  private lastTick = performance.now();
  private lastCpuMs = mainThreadCpuMs();
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
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  /** Starts a run: forgets everything before (a forced GC between runs is not the run's). */
  begin(): void {
    this.gcPauses.length = 0;
    this.worstGap = undefined;
    this.lastTick = performance.now();
    this.lastCpuMs = mainThreadCpuMs();
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
        ms: gap ? gap.end - gap.start - TICK_MS : 0,
        gcMs: overlap(false),
        majorGcMs: overlap(true),
        mainThreadCpuMs: gap?.cpuMs ?? null,
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
    const cpu = mainThreadCpuMs();
    if (this.worstGap === undefined || now - this.lastTick > this.worstGap.end - this.worstGap.start)
      this.worstGap = {
        start: this.lastTick,
        end: now,
        cpuMs: cpu === null || this.lastCpuMs === null ? null : cpu - this.lastCpuMs,
        endHrUs: Number(process.hrtime.bigint() / 1000n),
      };
    this.lastTick = now;
    this.lastCpuMs = cpu;
  }
}

/** utime + stime of the main thread (its task id is the pid), in ms; /proc counts in 10 ms ticks. */
function mainThreadCpuMs(): number | null {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the command name: state is field 3, utime 14, stime 15 (1-based), i.e. index 11 and 12 here.
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}
