/**
 * Signals that reach `dogwatch run` while it is still loading (the checks and the AWS SDK take a
 * second or more to load on a busy machine). The default action of SIGHUP, SIGTERM and SIGINT ends a
 * process at once: a SIGHUP from a config tool right after a restart would kill the daemon without a
 * word, and a SIGTERM would skip the shutdown. They are held from the command line's first line (this
 * module imports nothing, so it is loaded before anything slow) and handed to the daemon once its own
 * handlers are in place.
 */
const HELD_SIGNALS = ['SIGHUP', 'SIGTERM', 'SIGINT'] as const;
export type HeldSignal = (typeof HELD_SIGNALS)[number];

let held: HeldSignal[] | undefined;
const hold = (signal: NodeJS.Signals): void => {
  held?.push(signal as HeldSignal);
};

export function holdStartupSignals(): void {
  if (held) return;
  held = [];
  for (const signal of HELD_SIGNALS) process.on(signal, hold);
}

/** Stops holding; returns the signals that arrived meanwhile, in order, for the daemon to act on. */
export function releaseStartupSignals(): HeldSignal[] {
  const arrived = held ?? [];
  held = undefined;
  for (const signal of HELD_SIGNALS) process.off(signal, hold);
  return arrived;
}
