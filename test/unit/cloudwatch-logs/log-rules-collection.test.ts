/**
 * log_processing_rules inside the exactly-once collection: over several runs, small pages (some of
 * them entirely excluded), late events and a restart, every event the rules keep reaches the TCP
 * listener once, no excluded one ever does, and the secret a mask rule hides never crosses the
 * socket. An excluded event is handled: the cursor moves past it and a later run sends nothing more.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
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
import { LogProcessingRules } from '../../../core/cloudwatch-logs/log-processing-rules.js';
import { createSilentLogger } from '../../../core/log/logger.js';
import { AgentLogsSink } from '../../../core/logs-sink/agent-logs-sink.js';
import { DEFAULT_TCP_LINE_SENDER_TUNING } from '../../../core/logs-sink/tcp-line-sender.js';
import { CursorStore } from '../../../core/state/cursor-store.js';
import { LineListener } from '../../support/line-listener.js';

const T0 = Date.UTC(2026, 10, 25, 12);
const MINUTE = 60_000;
const GROUP = '/aws/lambda/login';

/**
 * Events readable from their ingestion time, in pages of `pageSize`, sorted as FilterLogEvents sorts;
 * the calls in `throttled` fail, so a window stops after some of its pages were sent and recorded.
 */
class FakeLogs implements FilterLogEventsPort {
  readonly events: (FilteredLogEvent & { ingestionTime: number })[] = [];
  readonly throttled = new Set([4, 31, 58, 90]);
  calls = 0;
  constructor(
    private readonly clock: ManualClock,
    private readonly pageSize: number,
  ) {}
  filterLogEvents(request: FilterLogEventsRequest): Promise<FilterLogEventsResponse> {
    if (this.throttled.has(++this.calls)) {
      const error = new Error('Rate exceeded');
      error.name = 'ThrottlingException';
      return Promise.reject(error);
    }
    const matching = this.events
      .filter(
        (e) =>
          e.ingestionTime <= this.clock.now() &&
          e.timestamp >= request.startTime &&
          e.timestamp <= request.endTime,
      )
      .sort((a, b) => a.timestamp - b.timestamp || a.eventId.localeCompare(b.eventId));
    const from = request.nextToken !== undefined ? Number(request.nextToken) : 0;
    const more = from + this.pageSize < matching.length;
    return Promise.resolve({
      events: matching.slice(from, from + this.pageSize),
      ...(more ? { nextToken: String(from + this.pageSize) } : {}),
    });
  }
}

const TARGET: LogGroupTarget = {
  region: 'us-east-1',
  accountId: '123456789012',
  logGroupName: GROUP,
  ddsource: 'lambda',
  service: 'login',
  host: 'login',
  tags: [],
};

const RULES = LogProcessingRules.compile([
  { type: 'exclude_at_match', name: 'no_health', pattern: 'GET /health' },
  { type: 'mask_sequences', name: 'pw', pattern: 'password=\\S+', replace_placeholder: 'password=[masked]' },
]);

describe('log_processing_rules in the exactly-once collection', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  test('kept events once, excluded never, the secret never on the socket, across a restart', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'dogwatch-rules-')), 'state');
    cleanup.push(() => rmSync(join(dir, '..'), { recursive: true, force: true }));
    const clock = new ManualClock(T0);
    const logs = new FakeLogs(clock, 7);
    // 20 minutes × 12 events: runs of health checks (whole pages of them), logins with a password,
    // and one event in five ingested 3 minutes late.
    for (let i = 0; i < 240; i++) {
      const timestamp = T0 + i * 5_000;
      const message =
        Math.floor(i / 10) % 3 === 0 ? `GET /health 200 #${i}` : `user${i} login password=hunter${i} ok`;
      logs.events.push({
        eventId: String(i).padStart(56, '0'),
        timestamp,
        ingestionTime: timestamp + (i % 5 === 0 ? 3 * MINUTE : 1_000),
        logStreamName: 'stream',
        message,
      });
    }
    // Every exclusion the collector makes, failed runs included.
    let excluded = 0;
    const countingRules = {
      processPage: (events: readonly FilteredLogEvent[]) => {
        const page = RULES.processPage(events);
        excluded += page.excluded;
        return page;
      },
    };
    const listener = new LineListener();
    await listener.start();
    cleanup.push(() => listener.stop());
    const open = async (): Promise<LogCollectionContext & { sink: AgentLogsSink }> => {
      const store = new CursorStore({ stateDir: dir, logger: createSilentLogger(), clock });
      await store.load();
      const sink = new AgentLogsSink({ host: '127.0.0.1', port: listener.port }, createSilentLogger(), {
        ...DEFAULT_TCP_LINE_SENDER_TUNING,
        confirmDelayMs: 5,
      });
      cleanup.push(() => sink.close());
      return {
        port: logs,
        sink,
        store,
        checkName: 'amazon_lambda',
        instanceName: 'rules',
        lookbackMs: 5 * MINUTE,
        maxPages: 100,
        pageLimit: 7,
        rules: countingRules,
      };
    };
    let context = await open();
    let failedRuns = 0;
    for (let minute = 1; minute <= 30; minute++) {
      clock.set(T0 + minute * MINUTE);
      if (minute === 11) {
        await context.sink.close();
        context = await open();
      }
      await context.store.prepareToWrite();
      try {
        const outcome = await collectLogGroup(context, TARGET, clock.now());
        // Minutes 21 to 30 have no new event: a run after everything was handled sends nothing.
        if (minute > 24) assert.equal(outcome.sent + outcome.excluded, 0, `minute ${minute}`);
      } catch (error) {
        // A window cut short: the pages before the failure were recorded, excluded events included
        // (were they not, the next run would read and exclude them again, and count them twice).
        assert.equal((error as Error).name, 'ThrottlingException');
        failedRuns++;
      }
    }
    const kept = logs.events.filter((e) => !e.message.includes('GET /health'));
    await listener.until(kept.length);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const received = listener.lines.map((line) => JSON.parse(line) as { id: string; message: string });
    assert.equal(received.length, kept.length, 'each kept event once');
    assert.deepEqual(received.map((r) => r.id).sort(), kept.map((e) => e.eventId).sort());
    assert.equal(excluded, logs.events.length - kept.length, 'each health check excluded once');
    assert.equal(failedRuns, logs.throttled.size, 'every throttled call cut a window short');
    assert.ok(!listener.lines.some((line) => line.includes('hunter')), 'no password crossed the socket');
    assert.ok(received.every((r) => /password=\[masked\] ok$/.test(r.message)));
    console.log(
      `rules collection: ${logs.events.length} events, ${received.length} sent, ${excluded} excluded, ` +
        `${failedRuns} windows cut short, ${logs.calls} calls`,
    );
  });
});
