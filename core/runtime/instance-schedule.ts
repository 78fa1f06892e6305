import cron, { type ScheduledTask } from 'node-cron';
import type { InstanceRunner } from './instance-runner.js';

export interface ScheduleOptions {
  /** Where instances of each interval run (shared by the daemon's instances). */
  readonly grid: ScheduleGrid;
}

/**
 * The run times of interval schedules: every instance with the same interval runs on the same grid, one
 * random phase per interval (up to maxStartJitterMs after the first instance of that interval started),
 * so that instances sharing credentials and region run together and share GetMetricData requests (see
 * SharedMetricRequests), while different intervals stay spread. An instance added by a reload joins
 * the grid at its next point.
 */
export class ScheduleGrid {
  private readonly anchors = new Map<number, number>();

  constructor(private readonly maxStartJitterMs: number) {}

  /** The first run time at or after `now` for this interval. */
  firstRunAt(intervalMs: number, now = Date.now()): number {
    let anchor = this.anchors.get(intervalMs);
    if (anchor === undefined) {
      anchor = now + Math.floor(Math.random() * Math.min(this.maxStartJitterMs, intervalMs));
      this.anchors.set(intervalMs, anchor);
    }
    if (anchor >= now) return anchor;
    return anchor + Math.ceil((now - anchor) / intervalMs) * intervalMs;
  }
}

/**
 * Drives one instance on its interval or cron expression. A tick that finds the previous run still in
 * flight is skipped and counted (InstanceRunner.recordSkip), never queued.
 */
export class InstanceSchedule {
  private timer: NodeJS.Timeout | undefined;
  private cronTask: ScheduledTask | undefined;
  private stopped = false;

  constructor(
    private readonly runner: InstanceRunner,
    private readonly options: ScheduleOptions,
  ) {}

  start(): void {
    const { reserved } = this.runner.instance;
    if (reserved.schedule) {
      this.cronTask = cron.schedule(reserved.schedule, () => this.tick(), {
        name: this.runner.instance.instanceId,
      });
      return;
    }
    const intervalMs = reserved.min_collection_interval * 1000;
    // Fixed-rate ticks measured from the first run, so a slow run does not drift the schedule.
    const firstAt = this.options.grid.firstRunAt(intervalMs);
    let n = 0;
    const next = (): void => {
      if (this.stopped) return;
      const due = firstAt + n * intervalMs;
      n++;
      this.timer = setTimeout(
        () => {
          this.tick();
          next();
        },
        Math.max(0, due - Date.now()),
      );
    };
    next();
  }

  private tick(): void {
    if (this.stopped) return;
    if (this.runner.busy) {
      this.runner.recordSkip();
      return;
    }
    // run() never rejects; the returned promise is tracked by the runner itself (busy / drain).
    void this.runner.run();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.cronTask) void Promise.resolve(this.cronTask.destroy());
  }
}
