/**
 * Fault-injection points for the restart tests. Handed to the parts that have crash points (the metrics
 * source: `before-emit`, `mid-emit`; the events source: `event-before-emit`, `event-after-record`; the
 * cursor store: `after-journal`, `mid-state-write`, `after-state-rename`) by the composition in
 * core/container.ts, never imported by them (issue: SIGKILL before emit, after emit, during the state
 * write). Inert unless DOGWATCH_CRASH_AT=<point>[:<nth>] is set: then the nth time the point is reached
 * the process kills itself with SIGKILL, exactly as an OOM killer or `kill -9` would.
 */
const spec = process.env.DOGWATCH_CRASH_AT;
const [armedPoint, nthText] = spec ? spec.split(':') : [];
const nth = Number(nthText ?? '1');
let hits = 0;

export function crashPoint(name: string): void {
  if (armedPoint !== name) return;
  hits++;
  if (hits === nth) process.kill(process.pid, 'SIGKILL');
}
