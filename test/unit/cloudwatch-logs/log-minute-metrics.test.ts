/**
 * Per-minute metrics derived from a log group (Lambda's enhanced metrics) through collectLogGroup, the real
 * CursorStore on disk and "crashes": the journal append of a delivered page, or of a sent minute, fails as if
 * the process died right there, and the run goes on from a store read back from disk. Every minute must still
 * be sent with exactly the world's values, and a minute sent again must carry the same values.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { lambdaEnhancedMetrics } from '../../../checks/amazon_lambda/lambda-enhanced-metrics.js';
import type { DeliveryGroup, SubmitOptions } from '../../../core/check/check.js';
import { ManualClock } from '../../../core/clock.js';
import type {
  FilteredLogEvent,
  FilterLogEventsPort,
  FilterLogEventsRequest,
  FilterLogEventsResponse,
} from '../../../core/cloudwatch-logs/filter-log-events.js';
import {
  collectLogGroup,
  type LogCollectionContext,
} from '../../../core/cloudwatch-logs/log-group-collector.js';
import type { LogGroupTarget } from '../../../core/cloudwatch-logs/log-group-target.js';
import { createSilentLogger } from '../../../core/log/logger.js';
import type { Delivery } from '../../../core/sink/delivery.js';
import { CursorStore } from '../../../core/state/cursor-store.js';
import { invocationLines, SeededRandom, type LambdaInvocation } from '../../../emulator/index.js';

const T0 = Date.UTC(2026, 10, 25, 12);
const MINUTE = 60_000;
const GROUPS = { '/aws/lambda/text-fn': 'Text', '/aws/lambda/json-fn': 'JSON' } as const;

interface StoredEvent extends FilteredLogEvent {
  readonly group: string;
  readonly ingestionTime: number;
}

/** CloudWatch Logs in a few lines: events readable from their ingestion time, pages of 50. */
class FakeLogs implements FilterLogEventsPort {
  readonly events: StoredEvent[] = [];
  constructor(private readonly clock: ManualClock) {}
  filterLogEvents(request: FilterLogEventsRequest): Promise<FilterLogEventsResponse> {
    const now = this.clock.now();
    const matching = this.events.filter(
      (e) =>
        e.group === request.logGroupName &&
        e.ingestionTime <= now &&
        e.timestamp >= request.startTime &&
        e.timestamp <= request.endTime,
    );
    const from = Number(request.nextToken ?? 0);
    const more = from + 50 < matching.length;
    return Promise.resolve({
      events: matching.slice(from, from + 50),
      ...(more ? { nextToken: String(from + 50) } : {}),
    });
  }
}

/** 30 minutes of invocations per group: some cold, some timed out or out of memory; lines up to 5 min late. */
function world(logs: FakeLogs): Map<string, LambdaInvocation[]> {
  const rng = new SeededRandom(7);
  const truth = new Map<string, LambdaInvocation[]>();
  let n = 0;
  for (const [group, format] of Object.entries(GROUPS)) {
    const invocations: LambdaInvocation[] = [];
    for (let i = 0; i < 600; i++) {
      const startMs = T0 + Math.floor(rng.next() * 30 * MINUTE);
      const durationMs = Math.round(rng.next() * 4_000_000) / 100;
      const roll = rng.next();
      const inv: LambdaInvocation = {
        requestId: `00000000-0000-4000-8000-${String(n++).padStart(12, '0')}`,
        startMs,
        durationMs,
        billedDurationMs: Math.ceil(durationMs),
        memorySizeMb: 256,
        maxMemoryUsedMb: 40 + Math.floor(rng.next() * 200),
        ...(roll < 0.05 ? { initDurationMs: 200.25 } : {}),
        outcome: roll > 0.95 ? 'timeout' : roll > 0.9 ? 'out_of_memory' : 'success',
        logStreamName: `2026/11/25/[$LATEST]${i % 4}`,
      };
      invocations.push(inv);
      for (const line of invocationLines(inv, format))
        logs.events.push({
          ...line,
          group,
          eventId: String(n++).padStart(56, '0'),
          ingestionTime: line.timestamp + (rng.next() < 0.1 ? 5 * MINUTE : 2_000),
        });
    }
    truth.set(group, invocations);
  }
  return truth;
}

interface Sent {
  readonly metric: string;
  readonly value: number;
  readonly options: SubmitOptions;
}

/** A delivery group that the "Agent" takes at once. */
function takenGroup(sent: Sent[]): DeliveryGroup {
  const add = (metric: string, value: number, options: SubmitOptions = {}) =>
    void sent.push({ metric, value, options });
  return {
    gauge: add,
    count: add,
    event: () => undefined,
    settle: () => Promise.resolve(),
    onSettled: (callback) => callback(),
  };
}

interface Simulation {
  /** `metric@timestamp{tags}` → value; a point sent again with another value fails the simulation. */
  readonly points: Map<string, number>;
  readonly truth: Map<string, LambdaInvocation[]>;
  readonly crashes: number;
  readonly repeats: number;
}

/**
 * Runs the two groups every 2 minutes from T0 + 1 min to T0 + 80 min. `crashEvery`: every nth journal
 * append (from the second run on: a crash before a new group's first record moves its lookback, by design)
 * throws as if the process died before it, and the run goes on from a store read back from disk.
 * `offFrom`/`offTo`: the metrics are turned off for the runs in between.
 */
async function simulate(options: {
  crashEvery?: number;
  offFrom?: number;
  offTo?: number;
}): Promise<Simulation> {
  const dir = join(mkdtempSync(join(tmpdir(), 'dogwatch-minutes-')), 'state');
  try {
    const clock = new ManualClock(T0);
    const logs = new FakeLogs(clock);
    const truth = world(logs);
    const sent: Sent[] = [];
    const sink = {
      submit: (_record: unknown, delivery?: Delivery) => {
        delivery?.expect();
        delivery?.delivered();
      },
      openMetrics: () => takenGroup(sent),
    };
    const targets = (withMetrics: boolean): LogGroupTarget[] =>
      Object.keys(GROUPS).map((group) => ({
        region: 'us-east-1',
        accountId: '123456789012',
        logGroupName: group,
        ddsource: 'lambda',
        service: group,
        host: group,
        tags: [],
        ...(withMetrics
          ? {
              metrics: lambdaEnhancedMetrics({
                functionName: group.split('/').pop()!,
                region: 'us-east-1',
                accountId: '123456789012',
                timeoutSeconds: 60,
                extraTags: [],
              }),
            }
          : {}),
      }));
    let records = 0;
    let crashes = 0;
    const open = async (): Promise<CursorStore> => {
      const s = await openStore(dir, clock);
      const record = s.record.bind(s);
      s.record = (updates) => {
        const every = options.crashEvery ?? 0;
        if (every > 0 && clock.now() > T0 + MINUTE && ++records % every === 0) throw new Error('crash');
        record(updates);
      };
      return s;
    };
    let store = await open();
    clock.set(T0 + MINUTE);
    while (clock.now() < T0 + 80 * MINUTE) {
      const off = clock.now() >= (options.offFrom ?? Infinity) && clock.now() < (options.offTo ?? -Infinity);
      for (const target of targets(!off)) {
        const context: LogCollectionContext = {
          port: logs,
          sink,
          store,
          checkName: 'amazon_lambda',
          instanceName: undefined,
          lookbackMs: 2 * MINUTE,
          maxPages: 100,
        };
        try {
          await collectLogGroup(context, target, clock.now());
        } catch {
          crashes++;
          store = await open();
        }
      }
      clock.advance(2 * MINUTE);
    }
    await store.close();
    const points = new Map<string, number>();
    for (const s of sent) {
      const key = `${s.metric}@${s.options.timestamp}{${s.options.tags?.join(',')}}`;
      const before = points.get(key);
      assert.ok(before === undefined || before === s.value, `${key}: ${before} then ${s.value}`);
      points.set(key, s.value);
    }
    return { points, truth, crashes, repeats: sent.length - points.size };
  } finally {
    rmSync(join(dir, '..'), { recursive: true, force: true });
  }
}

/** Whether the minute was sent for the function, and if so, that it equals the world's invocations. */
function checkMinute(sim: Simulation, group: string, minute: number): boolean {
  const fn = group.split('/').pop()!;
  const inMinute = sim.truth.get(group)!.filter((i) => Math.floor(i.startMs / MINUTE) * MINUTE === minute);
  const matching = (metric: string, filter = '') =>
    [...sim.points].filter(
      ([key]) =>
        key.startsWith(`aws.lambda.enhanced.${metric}@${minute / 1000}{`) &&
        key.includes(`functionname:${fn}`) &&
        key.includes(filter),
    );
  const sum = (metric: string, filter = '') => matching(metric, filter).reduce((n, [, v]) => n + v, 0);
  if (matching('invocations').length === 0) return false;
  const where = `${fn} ${new Date(minute).toISOString()}`;
  assert.equal(sum('invocations'), inMinute.length, `${where} invocations`);
  assert.equal(sum('invocations', 'cold_start:true'), inMinute.filter((i) => i.initDurationMs).length, where);
  assert.equal(sum('timeouts'), inMinute.filter((i) => i.outcome === 'timeout').length, `${where} timeouts`);
  assert.equal(sum('out_of_memory'), inMinute.filter((i) => i.outcome === 'out_of_memory').length, where);
  const durationMs = inMinute.reduce((n, i) => n + i.durationMs, 0);
  assert.ok(Math.abs(sum('duration.sum') * 1000 - durationMs) < 1e-6 * Math.max(1, durationMs), where);
  return true;
}

test('crashes between delivery and record neither drop nor double-count a minute', async () => {
  const sim = await simulate({ crashEvery: 5 });
  assert.ok(sim.crashes >= 10, `crashes (${sim.crashes})`);
  for (const group of Object.keys(GROUPS))
    for (let minute = T0; minute < T0 + 30 * MINUTE; minute += MINUTE)
      assert.ok(checkMinute(sim, group, minute), `${group} ${new Date(minute).toISOString()} sent`);
  console.log(
    `# minutes: ${sim.crashes} crashes, ${sim.points.size} points, ${sim.repeats} sent again with the same value`,
  );
});

test('turned off and on again, the metrics never send a minute that misses the pages read meanwhile', async () => {
  // Off from T0 + 25 min to T0 + 35 min: minutes 0 to 10 were final and sent before (the last run at T0 + 23 min); the
  // later ones lack the pages read while off, and the world's invocations end at T0 + 30.
  const sim = await simulate({ offFrom: T0 + 25 * MINUTE, offTo: T0 + 35 * MINUTE });
  const sent: string[] = [];
  for (const group of Object.keys(GROUPS))
    for (let minute = T0; minute < T0 + 30 * MINUTE; minute += MINUTE)
      if (checkMinute(sim, group, minute)) sent.push(`${group} ${(minute - T0) / MINUTE}`);
  for (const group of Object.keys(GROUPS))
    for (let m = 0; m <= 10; m++) assert.ok(sent.includes(`${group} ${m}`), `${group} minute ${m} sent`);
  assert.equal(sent.length, 2 * 11, sent.join(', '));
});

async function openStore(dir: string, clock: ManualClock): Promise<CursorStore> {
  const store = new CursorStore({ stateDir: dir, logger: createSilentLogger(), clock });
  await store.load();
  await store.prepareToWrite();
  return store;
}
