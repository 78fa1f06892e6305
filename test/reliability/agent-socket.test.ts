/**
 * The Agent side, through the daemon's run path: the DogStatsD unix socket is missing at start, then
 * removed and recreated while collection goes on; and a UDP target nobody listens on.
 *
 * Properties:
 * - runs never throw; a run whose samples the sink dropped fails with the reason (status lastError);
 * - the sink reconnects by itself once the socket is back; drops are counted (sink stats) and reported
 *   as dogwatch.sink.dropped by the daemon's self-telemetry;
 * - the queue is bounded by maxQueuedDatagrams whatever is submitted during the outage;
 * - no point is lost: the engine does not commit watermarks for batches the sink dropped, so every
 *   point of the world arrives once the socket is back. Duplicates are measured and printed.
 * - UDP to a closed port: no crash, runs OK.
 *
 * Prints `# agent socket: <runs> runs, <dropped> samples dropped during outages, <lost> points lost, <dup> duplicated`.
 */
import assert from 'node:assert/strict';
import { builtinChecksModule } from '../../checks/index.js';
import { normalizeTags } from '../../core/check/normalize.js';
import { after, before, describe, test } from 'node:test';
import { ManualClock, SystemClock } from '../../core/clock.js';
import { createSilentLogger } from '../../core/log/logger.js';
import { Daemon } from '../../core/runtime/daemon.js';
import type { RunOutcome } from '../../core/runtime/instance-runner.js';
import { DogStatsdSink } from '../../core/sink/dogstatsd-sink.js';
import { AwsEmulator, type WorldOptions } from '../../emulator/index.js';
import { checkModule } from '../fixtures/checks/test-check.js';
import { CollectionHarness, useEmulatorCredentials } from '../support/collection-harness.js';
import { TempWorkspace, testSettings } from '../support/daemon-harness.js';
import { startUdpListener, startUdsListener, type UdsListener } from '../support/dogstatsd-listener.js';
import { assertValidDatagram } from '../support/dogstatsd-validator.js';
import { bareWorld, MINUTE, seriesIdentity, T0 } from '../support/emulated-collection.js';
import {
  diffPoints,
  expectedPoints,
  identityOf,
  metricTable,
  parseMetricLine,
  pointKey,
  type ParsedMetricLine,
} from '../support/world-truth.js';

const WORLD: WorldOptions = bareWorld({ rekognitionOperations: 3 });
const QUEUE_CAP = 64;

const identity = seriesIdentity;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const figures = {
  runs: 0,
  dropped: 0,
  lost: 0,
  firstWindowLost: 0,
  duplicated: 0,
  maxQueued: 0,
  daemonDropped: 0,
};
/** Points of the first run's window (socket missing at start) that never arrived. */
let firstWindowMissing: string[] = [];
const workspaces: TempWorkspace[] = [];

before(() => useEmulatorCredentials());
after(() => {
  for (const ws of workspaces) ws.cleanup();
  console.log(
    `# agent socket: ${figures.runs} runs, ${figures.dropped} samples dropped during outages, ` +
      `${figures.lost} points lost after the first window (+${figures.firstWindowLost} of the first window), ` +
      `${figures.duplicated} duplicated, queue peak ${figures.maxQueued}/${QUEUE_CAP} datagrams; ` +
      `daemon test: ${figures.daemonDropped} samples dropped and reported`,
  );
});

function udsSink(path: string): DogStatsdSink {
  return new DogStatsdSink({
    transport: 'uds',
    path,
    logger: createSilentLogger(),
    flushTimeoutMs: 300,
    reconnectInitialDelayMs: 20,
    reconnectMaxDelayMs: 200,
    maxQueuedDatagrams: QUEUE_CAP,
  });
}

/** Datagrams waiting in the sink (a private field: measured, not part of the contract). */
function queued(sink: DogStatsdSink): number {
  const internals = sink as unknown as { sender: { queue: { size: number } } };
  return internals.sender.queue.size;
}

async function settle(listener: UdsListener): Promise<void> {
  let previous = -1;
  while (listener.datagrams.length !== previous) {
    previous = listener.datagrams.length;
    await sleep(40);
  }
}

describe('the Agent socket goes away and comes back', () => {
  test('UDS missing at start, removed and recreated: runs fail with the reason, then every point arrives', async () => {
    const clock = new ManualClock(T0);
    const emulator = new AwsEmulator({
      clock,
      world: WORLD,
      publicationDelay: { baseSeconds: 0, jitterSeconds: 0 },
      quotas: false,
    });
    const endpoint = await emulator.start();
    const ws = new TempWorkspace();
    workspaces.push(ws);
    ws.writeConf(
      'amazon_rekognition',
      `instances:\n  - endpoint_url: ${endpoint}\n    regions: [us-east-1]\n`,
    );
    const socketPath = ws.path('dsd.socket');
    const settings = testSettings(ws, { DD_DOGSTATSD_URL: `unix://${socketPath}` });
    const sink = udsSink(socketPath);
    const harness = new CollectionHarness({ settings, clock, sink });
    await harness.start();
    const received: string[] = [];
    let listener: UdsListener | undefined;
    const openSocket = async (): Promise<void> => {
      listener = await startUdsListener(socketPath);
    };
    const closeSocket = async (): Promise<void> => {
      if (!listener) return;
      await settle(listener);
      for (const d of listener.datagrams) assertValidDatagram(d, 8192);
      received.push(...listener.lines());
      await listener.close();
      listener = undefined;
    };
    // Socket state per run: down, up, up, down, down, up, up, up.
    const plan = [false, true, true, false, false, true, true, true];
    const outcomes: RunOutcome[] = [];
    try {
      for (const [i, up] of plan.entries()) {
        if (up && !listener) await openSocket();
        if (!up && listener) await closeSocket();
        const [outcome] = await harness.runAll();
        outcomes.push(outcome!);
        figures.runs++;
        figures.maxQueued = Math.max(figures.maxQueued, queued(sink));
        if (!up) {
          assert.equal(outcome!.ok, false, `run ${i}: a run whose samples were dropped is not OK`);
          assert.match(outcome!.error ?? '', /not delivered.*unreachable/, `run ${i}: says why`);
          const status = harness.status.snapshot({ version: 't', sink: {} }).instances[0]!;
          assert.match(status.lastError?.message ?? '', /Datadog Agent at unix:\/\/.* is unreachable/);
        }
        clock.advance(MINUTE);
      }
      await closeSocket();
      // Bounded: an outage burst of many samples keeps at most QUEUE_CAP datagrams queued.
      const before = sink.stats().dropped;
      for (let i = 0; i < 20_000; i++)
        sink.submit({
          kind: 'metric',
          metric: 'burst.metric',
          type: 'gauge',
          value: i,
          tags: normalizeTags(['burst:yes']),
        });
      await sleep(50);
      figures.maxQueued = Math.max(figures.maxQueued, queued(sink));
      assert.ok(queued(sink) <= QUEUE_CAP, `queue bounded: ${queued(sink)} datagrams`);
      assert.ok(sink.stats().dropped > before, 'burst drops are counted');
      figures.dropped = sink.stats().dropped;
      assert.ok(
        outcomes.slice(5).every((o) => o.ok),
        `runs after recovery are OK: ${outcomes.map((o) => o.error ?? 'ok').join(' / ')}`,
      );

      // Every point of every window after the first, delivered exactly once (the first: see the todo).
      const world = emulator.world;
      const expectedFrom = (fromMs: number, toMs: number) =>
        expectedPoints({
          world,
          series: world.series({ namespace: 'AWS/Rekognition' }),
          rows: metricTable('amazon_rekognition'),
          scopeOf: () => 'operation',
          identity,
          fromMs,
          toMs,
        });
      const lines = received
        .map(parseMetricLine)
        .filter((l): l is ParsedMetricLine => l !== undefined && l.metric.startsWith('aws.rekognition.'));
      const firstWindow = expectedFrom(T0 - 3 * MINUTE, T0 - 2 * MINUTE);
      firstWindowMissing = diffPoints(firstWindow, lines, ['operation', 'region']).missing;
      figures.firstWindowLost = firstWindowMissing.length;
      const expected = expectedFrom(T0 - 2 * MINUTE, T0 + (plan.length - 1) * MINUTE - 2 * MINUTE);
      const diff = diffPoints(
        expected,
        lines.filter(
          (l) =>
            !firstWindow.has(pointKey(l.metric, l.timestamp ?? 0, identityOf(l, ['operation', 'region']))),
        ),
        ['operation', 'region'],
      );
      figures.lost = diff.missing.length;
      figures.duplicated = diff.duplicated.length;
      assert.ok(expected.size > 50, `a meaningful world (${expected.size} points)`);
      assert.deepEqual(diff.missing.slice(0, 5), [], `${diff.missing.length} points lost`);
      assert.deepEqual(diff.unexpected, []);
      assert.deepEqual(diff.wrongValue, []);
      assert.deepEqual(diff.duplicated.slice(0, 5), [], `${diff.duplicated.length} duplicates`);
    } finally {
      await harness.stop();
      await sink.close();
      if (listener) await listener.close();
      await emulator.stop();
    }
  });

  test(
    'the first window of a run whose samples were dropped is fetched again (socket missing at start)',
    {},
    () => {
      assert.ok(figures.runs > 0, 'the outage test ran');
      assert.deepEqual(
        firstWindowMissing.slice(0, 5),
        [],
        `${firstWindowMissing.length} points of the first window lost`,
      );
    },
  );

  test('the daemon keeps running with the socket missing, reconnects, and reports dogwatch.sink.dropped', async () => {
    const ws = new TempWorkspace();
    workspaces.push(ws);
    ws.writeConf('dogwatch_test', 'instances:\n  - value: 5\n    min_collection_interval: 1\n');
    const socketPath = ws.path('dsd.socket');
    const settings = testSettings(ws, { DD_DOGSTATSD_URL: `unix://${socketPath}` });
    const sink = udsSink(socketPath);
    const daemon = new Daemon({
      settings,
      env: {},
      logger: createSilentLogger(),
      clock: new SystemClock(),
      sink,
      modules: [builtinChecksModule, checkModule],
      maxStartJitterMs: 10,
      telemetryIntervalMs: 200,
    });
    await daemon.start();
    let listener: UdsListener | undefined;
    try {
      await sleep(1500);
      assert.ok(sink.stats().dropped > 0, 'samples were dropped while the socket was missing');
      assert.equal(daemon.instanceIds().length, 1, 'the instance is still scheduled');
      const down = daemon.status.snapshot({ version: 't', sink: {} }).instances[0]!;
      // The test check records no progress, so its runs stay OK; the drops are in the sink's counters.
      assert.ok(down.totalRuns >= 1, 'runs went on during the outage');
      listener = await startUdsListener(socketPath);
      await listener.waitFor(
        (lines) =>
          lines.some((l) => /^dogwatch\.sink\.dropped:[1-9]\d*\|c/.test(l)) &&
          lines.some((l) => l.startsWith('test.value:5|g')),
        8000,
      );
      for (const d of listener.datagrams) assertValidDatagram(d, 8192);
      const up = daemon.status.snapshot({ version: 't', sink: {} }).instances[0]!;
      assert.ok(up.totalRuns > down.totalRuns, 'the instance kept running after the socket came back');
      figures.daemonDropped = sink.stats().dropped;
    } finally {
      await daemon.stop();
      if (listener) await listener.close();
    }
  });

  test('UDP to a port nobody listens on: no crash, runs OK', async () => {
    const probe = await startUdpListener();
    const port = probe.port;
    await probe.close();
    const ws = new TempWorkspace();
    workspaces.push(ws);
    ws.writeConf('dogwatch_test', 'instances:\n  - value: 1\n    min_collection_interval: 1\n');
    const settings = testSettings(ws, { DD_DOGSTATSD_URL: `udp://127.0.0.1:${port}` });
    const sink = new DogStatsdSink({
      ...settings.dogstatsd,
      logger: createSilentLogger(),
      flushTimeoutMs: 300,
    });
    const daemon = new Daemon({
      settings,
      env: {},
      logger: createSilentLogger(),
      clock: new SystemClock(),
      sink,
      modules: [builtinChecksModule, checkModule],
      maxStartJitterMs: 10,
      telemetryIntervalMs: 200,
    });
    await daemon.start();
    try {
      await sleep(2500);
      const status = daemon.status.snapshot({ version: 't', sink: {} }).instances[0]!;
      assert.ok(status.totalRuns >= 2, `runs went on (${status.totalRuns})`);
      assert.equal(status.errors, 0, status.lastError?.message);
      assert.ok(sink.stats().datagrams > 0, 'datagrams were handed to the OS');
    } finally {
      await daemon.stop();
    }
  });
});
