import cron, { type ScheduledTask } from 'node-cron';
import type { InstanceRunner } from './instance-runner.js';

export interface ScheduleOptions {
  /** Upper bound of the random delay before the first run, so instances don't all start at once. */
  readonly maxStartJitterMs: number;
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
    const jitter = Math.floor(Math.random() * Math.min(this.options.maxStartJitterMs, intervalMs));
    // Fixed-rate ticks measured from the first run, so a slow run does not drift the schedule.
    const firstAt = Date.now() + jitter;
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
