import { AsyncResource } from 'node:async_hooks';

/**
 * Async work keeps the async context it was started in: a socket for as long as it lives (its
 * callbacks run in it), a timer or a promise chain until it ends. A sink's sending loop, its timers and
 * its socket outlive the run whose sample set them going, and started in that run's context they kept
 * the run's scope reachable (its abort signal, its AWS call statistics and whatever still listened on
 * them). Sinks start their own work in the context this module was loaded in, where no run is.
 */
const processContext = new AsyncResource('dogwatch.sink');

export function inProcessContext<T>(create: () => T): T {
  return processContext.runInAsyncScope(create);
}
