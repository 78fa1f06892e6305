/**
 * Idle log groups are not read every run (issue 17: "without asking for idle groups every run"), and
 * skipping them loses nothing: a group that wakes up is read from its cursor. The world's logs begin an
 * hour before its creation instant, so until then every group is idle. Prints `# logs idle: …`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../core/clock.js';
import { MemoryLogSink } from '../../core/logs-sink/memory-log-sink.js';
import { AwsEmulator, BARE_WORLD, DEFAULT_ACCOUNT } from '../../emulator/index.js';
import { CollectionHarness, useEmulatorCredentials } from '../support/collection-harness.js';
import { sinkFor, TempWorkspace, testSettings } from '../support/daemon-harness.js';
import { startUdpListener } from '../support/dogstatsd-listener.js';

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);
const MINUTE = 60_000;
const figures: string[] = [];
before(() => useEmulatorCredentials());
after(() => {
  for (const line of figures) console.log(`# logs idle: ${line}`);
});

describe('idle log groups', () => {
  test('are read at growing intervals (at most 5 min apart) and lose nothing when they wake up', async () => {
    const idleRuns = 14;
    const logsBeginAt = T0 + idleRuns * MINUTE;
    const clock = new ManualClock(T0);
    const emulator = new AwsEmulator({
      clock,
      world: { ...BARE_WORLD, functions: 3, createdAtMs: logsBeginAt + 60 * MINUTE },
      quotas: false,
    });
    const endpoint = await emulator.start();
    const listener = await startUdpListener();
    const ws = new TempWorkspace();
    ws.writeConf(
      'amazon_lambda',
      `instances:\n  - endpoint_url: ${endpoint}\n    regions: [us-east-1]\n    collect_logs: true\n` +
        '    lookback: 300\n    metrics: {include: ["aws.lambda.invocations"]}\n',
    );
    const settings = testSettings(ws, { DD_DOGSTATSD_URL: `udp://127.0.0.1:${listener.port}` });
    const logSink = new MemoryLogSink();
    const harness = new CollectionHarness({ settings, clock, sink: sinkFor(settings), logSink });
    const calls = (): number => emulator.accounting.requests({ operation: 'FilterLogEvents' });
    try {
      await harness.start();
      for (let run = 0; run < idleRuns; run++) {
        for (const outcome of await harness.runAll()) assert.ok(outcome.ok, outcome.error);
        clock.advance(MINUTE);
      }
      const idleCalls = calls();
      // The groups wake up (the world's logs begin); a run a minute from here on.
      const activeRuns = 18;
      for (let run = 0; run < activeRuns; run++) {
        for (const outcome of await harness.runAll()) assert.ok(outcome.ok, outcome.error);
        clock.advance(MINUTE);
      }
      const activeCalls = calls() - idleCalls;
      const groups = emulator.logs.groupNames(DEFAULT_ACCOUNT, 'us-east-1');
      const expected = new Set<string>();
      for (const group of groups) {
        const events = emulator.logs.events(DEFAULT_ACCOUNT, 'us-east-1', group, {
          startMs: logsBeginAt,
          // Every event is ingested within 6 minutes of its time.
          endMs: clock.now() - 7 * MINUTE,
          asOfMs: Number.MAX_SAFE_INTEGER,
        })!;
        for (const event of events) expected.add(event.eventId);
      }
      const received = logSink.records.map((r) => String(r.attributes?.id));
      const missing = [...expected].filter((id) => !received.includes(id));
      const duplicated = received.length - new Set(received).size;
      figures.push(
        `${groups.length} groups idle for ${idleRuns} runs: ${idleCalls} FilterLogEvents calls ` +
          `(${(idleCalls / groups.length / idleRuns).toFixed(2)} per group and run); then busy for ${activeRuns} runs: ` +
          `${activeCalls} calls (${(activeCalls / groups.length / activeRuns).toFixed(2)} per group and run); ` +
          `${expected.size} events after waking up, ${missing.length} lost, ${duplicated} duplicated`,
      );
      assert.ok(
        // Read at runs 0, 1, 3, 7 and 12: 1, 2, 4, then 5 minutes apart.
        idleCalls <= groups.length * 5,
        `idle groups read at most 5 times in 14 runs (${idleCalls} calls)`,
      );
      assert.ok(
        idleCalls >= groups.length * 5,
        `idle groups still read at least every 5 minutes (${idleCalls} calls)`,
      );
      assert.ok(expected.size > 500);
      assert.deepEqual(missing.slice(0, 5), [], `${missing.length} events lost`);
      assert.equal(duplicated, 0);
    } finally {
      await harness.stop();
      await listener.close();
      await emulator.stop();
      ws.cleanup();
    }
  });
});
