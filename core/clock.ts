/**
 * Time source shared by the daemon and the AWS emulator.
 *
 * Everything that decides *which CloudWatch period* to ask for reads `now()` from a Clock, never
 * `Date.now()` directly, so tests can run hours of collection in seconds and the emulator and dogwatch
 * agree on what "now" is. Timers (scheduling, backoff) stay on real time.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }
}

/** A clock a test moves by hand. */
export class ManualClock implements Clock {
  constructor(private current: number) {}
  now(): number {
    return this.current;
  }
  set(ms: number): void {
    this.current = ms;
  }
  advance(ms: number): void {
    this.current += ms;
  }
}

/**
 * Virtual time running `speed` times faster than real time from a fixed origin. Two processes given the
 * same (realOrigin, virtualOrigin, speed) agree on the time without talking to each other, which is how
 * the demo and the restart tests share time between dogwatch and the emulator.
 */
export class ScaledClock implements Clock {
  constructor(
    readonly realOrigin: number,
    readonly virtualOrigin: number,
    readonly speed: number,
  ) {}
  now(): number {
    return Math.floor(this.virtualOrigin + (Date.now() - this.realOrigin) * this.speed);
  }
  /** Serialised form for the DOGWATCH_CLOCK environment variable: `scaled:<realOrigin>:<virtualOrigin>:<speed>`. */
  toSpec(): string {
    return `scaled:${this.realOrigin}:${this.virtualOrigin}:${this.speed}`;
  }
}

/**
 * Parses DOGWATCH_CLOCK (test and demo use only). Unset → the system clock.
 * `scaled:<realOriginMs>:<virtualOriginMs>:<speed>` → a ScaledClock.
 */
export function clockFromSpec(spec: string | undefined): Clock {
  if (!spec) return new SystemClock();
  const parts = spec.split(':');
  if (parts[0] === 'scaled' && parts.length === 4) {
    const [realOrigin, virtualOrigin, speed] = parts.slice(1).map(Number) as [number, number, number];
    if ([realOrigin, virtualOrigin, speed].every(Number.isFinite) && speed > 0) {
      return new ScaledClock(realOrigin, virtualOrigin, speed);
    }
  }
  throw new Error(
    `DOGWATCH_CLOCK="${spec}" is not valid: expected scaled:<realOriginMs>:<virtualOriginMs>:<speed>`,
  );
}
