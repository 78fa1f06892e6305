import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
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
import { AgentLogsSink } from '../../../core/logs-sink/agent-logs-sink.js';
import { DEFAULT_TCP_LINE_SENDER_TUNING } from '../../../core/logs-sink/tcp-line-sender.js';
import { cursorId } from '../../../core/state/cursor-id.js';
import { CursorStore } from '../../../core/state/cursor-store.js';
import { LineListener } from '../../support/line-listener.js';

const T0 = Date.UTC(2026, 10, 25, 12);
const MINUTE = 60_000;
const ACCOUNT = '123456789012';

interface WorldEvent extends FilteredLogEvent {
  readonly logGroupName: string;
  readonly ingestionTime: number;
}

/** A deterministic generator (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A hand-written CloudWatch Logs: events become readable at their ingestion time (seconds late, some
 * minutes late, out of order), FilterLogEvents pages of `pageSize`, and every `throttleEvery`th call
 * is throttled (what the SDK raises once its retries are spent).
 */
class FakeLogs implements FilterLogEventsPort {
  readonly events: WorldEvent[] = [];
  calls = 0;
  throttled = 0;
  constructor(
    private readonly clock: ManualClock,
    private readonly pageSize: number,
    private readonly throttleEvery: number,
  ) {}

  filterLogEvents(request: FilterLogEventsRequest): Promise<FilterLogEventsResponse> {
    this.calls++;
    if (this.calls % this.throttleEvery === 0) {
      this.throttled++;
      const error = new Error('Rate exceeded');
      error.name = 'ThrottlingException';
      return Promise.reject(error);
    }
    const now = this.clock.now();
    const matching = this.events
      .filter(
        (event) =>
          event.logGroupName === request.logGroupName &&
          event.ingestionTime <= now &&
          event.timestamp >= request.startTime &&
          event.timestamp <= request.endTime,
      )
      .sort((a, b) => a.timestamp - b.timestamp || a.eventId.localeCompare(b.eventId));
    const from = request.nextToken !== undefined ? Number(request.nextToken) : 0;
    const page = matching.slice(from, from + this.pageSize);
    const more = from + this.pageSize < matching.length;
    return Promise.resolve({ events: page, ...(more ? { nextToken: String(from + this.pageSize) } : {}) });
  }
}

function world(logs: FakeLogs, groups: readonly string[], minutes: number, perMinute: number): void {
  const next = random(17);
  let n = 0;
  for (let minute = 0; minute < minutes; minute++)
    for (const group of groups)
      for (let i = 0; i < perMinute; i++) {
        const timestamp = T0 + minute * MINUTE + Math.floor(next() * MINUTE);
        // Most events are readable within seconds; one in ten only 2 to 8 minutes later.
        const late = next() < 0.1 ? 2 * MINUTE + next() * 6 * MINUTE : 500 + next() * 5_000;
        const eventId = String(n++).padStart(56, '0');
        logs.events.push({
          eventId,
          timestamp,
          ingestionTime: Math.floor(timestamp + late),
          logGroupName: group,
          logStreamName: `2026/11/25/[$LATEST]${minute % 3}`,
          message: `${group} event ${eventId}\n`,
        });
      }
}

function target(logGroupName: string): LogGroupTarget {
  const name = logGroupName.split('/').pop()!;
  const arn = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${name}`;
  return {
    region: 'us-east-1',
    accountId: ACCOUNT,
    logGroupName,
    ddsource: 'lambda',
    service: name,
    host: arn,
    tags: [`functionname:${name}`],
    attributes: { lambda: { arn } },
  };
}

describe('CloudWatch Logs collection to a TCP listener', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  /**
   * One busy Lambda log group in FakeLogs (pages of `pageSize`, never throttled), a TCP listener, a cursor
   * store and a logs sink with `tuning` (confirmations after 5 ms), the clock 40 minutes on and the store
   * ready to write.
   */
  async function busyGroup(options: {
    pageSize: number;
    minutes: number;
    perMinute: number;
    tuning: Partial<typeof DEFAULT_TCP_LINE_SENDER_TUNING>;
    maxPages: number;
  }): Promise<{
    dir: string;
    clock: ManualClock;
    logs: FakeLogs;
    group: string;
    listener: LineListener;
    sink: AgentLogsSink;
    context: LogCollectionContext;
  }> {
    const dir = join(mkdtempSync(join(tmpdir(), 'dogwatch-logs-')), 'state');
    cleanup.push(() => rmSync(join(dir, '..'), { recursive: true, force: true }));
    const clock = new ManualClock(T0);
    const logs = new FakeLogs(clock, options.pageSize, 1_000_000);
    const group = '/aws/lambda/busy';
    world(logs, [group], options.minutes, options.perMinute);
    const listener = new LineListener();
    await listener.start();
    cleanup.push(() => listener.stop());
    const store = new CursorStore({ stateDir: dir, logger: createSilentLogger(), clock });
    await store.load();
    const sink = new AgentLogsSink({ host: '127.0.0.1', port: listener.port }, createSilentLogger(), {
      ...DEFAULT_TCP_LINE_SENDER_TUNING,
      confirmDelayMs: 5,
      ...options.tuning,
    });
    cleanup.push(() => sink.close());
    const context: LogCollectionContext = {
      port: logs,
      sink,
      store,
      checkName: 'amazon_lambda',
      instanceName: 'busy',
      lookbackMs: 60 * MINUTE,
      maxPages: options.maxPages,
      pageLimit: options.pageSize,
    };
    clock.set(T0 + 40 * MINUTE);
    await store.prepareToWrite();
    return { dir, clock, logs, group, listener, sink, context };
  }

  test('a window with more lines than the sink can queue makes progress, page by page, every event once', async () => {
    // Room for a few pages of lines, not for the 1,200 events of the first run's window.
    const { logs, group, listener, sink, context, clock } = await busyGroup({
      pageSize: 100,
      minutes: 30,
      perMinute: 40,
      tuning: { maxQueuedBytes: 96 * 1024 },
      maxPages: 100,
    });
    for (let run = 0; run < 3; run++) {
      try {
        await collectLogGroup(context, target(group), clock.now());
      } catch {
        // a run that met a full queue; the next one goes on from what was delivered
      }
    }
    await listener.until(logs.events.length);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const ids = listener.lines.map((line) => (JSON.parse(line) as { id: string }).id);
    assert.equal(ids.length, logs.events.length, 'every event, none twice');
    assert.equal(new Set(ids).size, logs.events.length);
    assert.equal(sink.stats().dropped, 0, 'nothing given up: the collector waits for each page');
  });

  test('a page confirmed over several settlements: at every moment the state on disk covers exactly what was confirmed', async () => {
    // Small writes and little room for unconfirmed bytes: one page is confirmed in many settlements.
    const { dir, clock, group, sink, context } = await busyGroup({
      pageSize: 1_000,
      minutes: 20,
      perMinute: 50,
      tuning: { maxWriteBytes: 4 * 1024, maxUnconfirmedBytes: 16 * 1024 },
      maxPages: 1,
    });
    // What a SIGKILL at each of these moments would leave: the state folder, and the lines confirmed.
    const moments: { copy: string; confirmed: number }[] = [];
    let collecting = true;
    const watch = (async () => {
      while (collecting) {
        const confirmed = sink.stats().lines;
        if (confirmed > 0 && confirmed < 1_000 && moments.length < 20) {
          const copy = join(dir, '..', `at-${moments.length}`);
          cpSync(dir, copy, { recursive: true });
          moments.push({ copy, confirmed });
        }
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    const run = await collectLogGroup(context, target(group), clock.now());
    collecting = false;
    await watch;
    assert.equal(run.sent, 1_000);
    assert.ok(moments.length >= 3, `${moments.length} moments mid-page`);
    for (const { copy, confirmed } of moments) {
      const restarted = new CursorStore({ stateDir: copy, logger: createSilentLogger(), clock });
      await restarted.load();
      const cursor = restarted.get(cursorId(['log', 'amazon_lambda', 'busy', ACCOUNT, 'us-east-1', group]));
      // The cursor was created before the page was read, with nothing marked.
      assert.ok(cursor !== undefined);
      assert.equal(
        cursor.seen.length,
        confirmed,
        'a restart from here would repeat nothing and lose nothing',
      );
    }
  });

  test('35 simulated minutes, late ingestion, throttling, a restart and a listener restart: every event once', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'dogwatch-logs-')), 'state');
    cleanup.push(() => rmSync(join(dir, '..'), { recursive: true, force: true }));
    const clock = new ManualClock(T0);
    const logs = new FakeLogs(clock, 100, 13);
    const groups = ['/aws/lambda/orders', '/aws/lambda/billing', '/aws/lambda/idle'];
    world(logs, groups.slice(0, 2), 35, 30);
    const listener = new LineListener();
    await listener.start();
    cleanup.push(() => listener.stop());

    const open = async (): Promise<LogCollectionContext & { sink: AgentLogsSink }> => {
      const store = new CursorStore({ stateDir: dir, logger: createSilentLogger(), clock });
      await store.load();
      const sink = new AgentLogsSink({ host: '127.0.0.1', port: listener.port }, createSilentLogger(), {
        ...DEFAULT_TCP_LINE_SENDER_TUNING,
        confirmDelayMs: 5,
        reconnectInitialDelayMs: 10,
      });
      cleanup.push(() => sink.close());
      return {
        port: logs,
        sink,
        store,
        checkName: 'amazon_lambda',
        instanceName: 'main',
        lookbackMs: 60 * MINUTE,
        maxPages: 20,
        pageLimit: 100,
      };
    };
    let context = await open();
    let failedRuns = 0;
    let callsForIdle = 0;
    for (let minute = 1; minute <= 48; minute++) {
      clock.set(T0 + minute * MINUTE + 7_000);
      if (minute === 15) {
        // A restart: the process is gone, a new one reads the state folder.
        await context.sink.close();
        context = await open();
      }
      if (minute === 22) {
        await listener.stop();
        await listener.start();
      }
      await context.store.prepareToWrite();
      for (const group of groups) {
        try {
          const run = await collectLogGroup(context, target(group), clock.now());
          if (group.endsWith('idle')) callsForIdle += run.calls;
        } catch (error) {
          assert.equal((error as Error).name, 'ThrottlingException');
          failedRuns++;
        }
      }
    }
    await listener.until(logs.events.length);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const received = listener.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const ids = received.map((record) => record.id as string);
    assert.equal(ids.length, logs.events.length, 'no duplicates');
    assert.deepEqual(new Set(ids).size, logs.events.length);
    assert.deepEqual([...ids].sort(), logs.events.map((event) => event.eventId).sort());
    assert.ok(logs.throttled > 0 && failedRuns === logs.throttled);
    assert.ok(callsForIdle <= 48, `${callsForIdle} calls for an idle group`);

    const byId = new Map(logs.events.map((event) => [event.eventId, event]));
    for (const record of received) {
      const event = byId.get(record.id as string)!;
      const name = event.logGroupName.split('/').pop()!;
      assert.equal(record.message, event.message);
      assert.equal(record.timestamp, event.timestamp);
      assert.equal(record.ddsource, 'lambda');
      assert.equal(record.service, name);
      assert.equal(record.ddtags, `functionname:${name}`);
      assert.deepEqual(record.aws, {
        awslogs: { logGroup: event.logGroupName, logStream: event.logStreamName, owner: ACCOUNT },
      });
      assert.deepEqual(record.lambda, { arn: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${name}` });
    }
  });
});
