/**
 * One settlement: a transport telling the deliveries of what it sent at once (a datagram, a run of
 * datagrams, a TCP write) that it was taken. Every source whose samples rode in it records its cursor
 * then, and a kill between two of those records would repeat what the unrecorded ones sent. So work
 * deferred with `afterSettlement` runs when the settlement ends, by phase: sources build their records
 * (`record`), the cursor store writes them all as one journal record (`write`), and what must come
 * after that write runs last (`after`: the restart tests' crash points). Outside a settlement the
 * phases run as microtasks, in the same order.
 *
 * Settlements are synchronous and cannot interleave (one JavaScript thread), so one process-wide
 * queue serves every sink.
 */
export type SettlementPhase = 'record' | 'write' | 'after';

const PHASES: readonly SettlementPhase[] = ['record', 'write', 'after'];

const waiting: Record<SettlementPhase, (() => void)[]> = { record: [], write: [], after: [] };
let depth = 0;
let microtaskQueued = false;

/** Runs `settle` as one settlement: what it defers runs once it returns (nested calls join the outer one). */
export function settleTogether(settle: () => void): void {
  depth++;
  try {
    settle();
  } finally {
    if (--depth === 0) runDeferred();
  }
}

/** Runs `work` in `phase` at the end of the current settlement, or soon (a microtask) outside one. */
export function afterSettlement(work: () => void, phase: SettlementPhase = 'record'): void {
  waiting[phase].push(work);
  if (depth > 0 || microtaskQueued) return;
  microtaskQueued = true;
  queueMicrotask(() => {
    microtaskQueued = false;
    if (depth === 0) runDeferred();
  });
}

/**
 * The waiting work, earliest phase first, until nothing waits: work may defer more (a source's record
 * asks for the store's write). Work that throws does not stop the rest; the first error is thrown once
 * all ran (deferred work is expected to handle its own errors).
 */
function runDeferred(): void {
  depth++;
  let failure: { error: unknown } | undefined;
  try {
    for (;;) {
      const phase = PHASES.find((p) => waiting[p].length > 0);
      if (phase === undefined) break;
      try {
        waiting[phase].shift()!();
      } catch (error) {
        failure ??= { error };
      }
    }
  } finally {
    depth--;
  }
  if (failure) throw failure.error;
}

/** True while a settlement (or the work deferred to its end) runs: records then wait for its `write` phase. */
export function inSettlement(): boolean {
  return depth > 0;
}
