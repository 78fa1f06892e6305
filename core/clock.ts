import { readFileSync } from 'node:fs';

/**
 * Time source shared by the daemon and the AWS emulator.
 *
 * Everything that decides *which CloudWatch period* to ask for reads time from a Clock, never
 * `Date.now()` directly, so tests can run hours of collection in seconds and the emulator and dogwatch
 * agree on what "now" is. Timers (scheduling, backoff) stay on real time.
 *
 * `now()` is the wall clock, which an administrator, NTP or a suspended VM can step; `monotonic()`
 * never steps (it is on the same scale as `now()` when the clock starts). Collection judges time by
 * AWS's own clock carried forward monotonically (see core/aws/server-time.ts), so a wall clock that is
 * ahead or behind skips nothing.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch, as the wall clock says. */
  now(): number;
  /** Milliseconds on a clock that never steps. */
  monotonic(): number;
}

/** performance.now() on the epoch scale: Date.now() at process start, then monotonic. */
const monotonicMs = (): number => performance.timeOrigin + performance.now();

export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }
  monotonic(): number {
    return monotonicMs();
  }
}

/** A clock a test moves by hand. `advance` and `set` move time; `step` moves only the wall clock. */
export class ManualClock implements Clock {
  private wallOffset = 0;
  constructor(private current: number) {}
  now(): number {
    return this.current + this.wallOffset;
  }
  monotonic(): number {
    return this.current;
  }
  set(ms: number): void {
    this.current = ms - this.wallOffset;
  }
  advance(ms: number): void {
    this.current += ms;
  }
  /** The wall clock jumps by `ms` (negative: back) while time itself goes on as before. */
  step(ms: number): void {
    this.wallOffset += ms;
  }
}

/**
 * Virtual time running `speed` times faster than real time from a fixed origin. Two processes given the
 * same (realOrigin, virtualOrigin, speed) agree on the time without talking to each other, which is how
 * the demo and the restart tests share time between dogwatch and the emulator.
 *
 * `wallStepFile` (tests only): a file holding a number of milliseconds added to this process's wall
 * clock, read again at most every 50 ms real time: a test steps one daemon's clock from outside.
 */
export class ScaledClock implements Clock {
  private stepMs = 0;
  private stepReadAt = 0;

  constructor(
    readonly realOrigin: number,
    readonly virtualOrigin: number,
    readonly speed: number,
    readonly wallStepFile?: string,
  ) {}

  now(): number {
    return Math.floor(this.virtualOrigin + (Date.now() - this.realOrigin) * this.speed) + this.wallStep();
  }

  monotonic(): number {
    return Math.floor(this.virtualOrigin + (monotonicMs() - this.realOrigin) * this.speed);
  }

  /** Serialised form for the DOGWATCH_CLOCK environment variable (see clockFromSpec). */
  toSpec(wallStepFile = this.wallStepFile): string {
    const base = `scaled:${this.realOrigin}:${this.virtualOrigin}:${this.speed}`;
    return wallStepFile ? `${base}:${wallStepFile}` : base;
  }

  private wallStep(): number {
    if (!this.wallStepFile) return 0;
    const real = Date.now();
    if (real - this.stepReadAt >= 50) {
      this.stepReadAt = real;
      try {
        const value = Number(readFileSync(this.wallStepFile, 'utf8').trim());
        this.stepMs = Number.isFinite(value) ? value : 0;
      } catch {
        this.stepMs = 0;
      }
    }
    return this.stepMs;
  }
}

/**
 * Parses DOGWATCH_CLOCK (test and demo use only). Unset → the system clock.
 * `scaled:<realOriginMs>:<virtualOriginMs>:<speed>[:<wallStepFile>]` → a ScaledClock.
 */
export function clockFromSpec(spec: string | undefined): Clock {
  if (!spec) return new SystemClock();
  const parts = spec.split(':');
  if (parts[0] === 'scaled' && (parts.length === 4 || parts.length === 5)) {
    const [realOrigin, virtualOrigin, speed] = parts.slice(1, 4).map(Number) as [number, number, number];
    if ([realOrigin, virtualOrigin, speed].every(Number.isFinite) && speed > 0) {
      return new ScaledClock(realOrigin, virtualOrigin, speed, parts[4] || undefined);
    }
  }
  throw new Error(
    `DOGWATCH_CLOCK="${spec}" is not valid: expected scaled:<realOriginMs>:<virtualOriginMs>:<speed>[:<wallStepFile>]`,
  );
}
