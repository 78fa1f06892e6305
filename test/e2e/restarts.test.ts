import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ScaledClock } from '../../core/clock.js';
import { normalizeTag } from '../../core/check/normalize.js';
import { AwsEmulator, BARE_WORLD, type Series } from '../../emulator/index.js';
import { TempWorkspace } from '../support/daemon-harness.js';
import { daemonEnv, spawnDaemon, within } from '../support/daemon-process.js';
import { startUdsListener } from '../support/dogstatsd-listener.js';
import { assertValidDatagram } from '../support/dogstatsd-validator.js';
import {
  diffPoints,
  expectedPoints,
  metricTable,
  parseMetricLine,
  type ParsedMetricLine,
} from '../support/world-truth.js';

const MINUTE = 60_000;
/** Virtual seconds per real second: a 1 s interval is one CloudWatch minute. */
const SPEED = 60;

const identity = (series: Series): string[] => [
  ...series.dimensions.map((d) => normalizeTag(`${d.Name}:${d.Value}`)!),
  `region:${series.region}`,
];

interface ScenarioResult {
  readonly crashes: number;
  readonly diffs: Record<string, ReturnType<typeof diffPoints> & { points: number }>;
}

/**
 * Runs a real daemon process against the emulator under 20% throttling and 5% 5xx, kills it once per
 * step (a crash point armed with DOGWATCH_CRASH_AT, or a SIGKILL after n ms), then lets one clean
 * process catch up and stops it with SIGTERM. Returns what the listener got against the world.
 */
async function runScenario(
  plan: readonly (string | number)[],
  minStretchMinutes: number,
  checks: readonly string[] = ['amazon_rekognition', 'amazon_lambda'],
  extraEnv: Record<string, string> = {},
): Promise<ScenarioResult> {
  const origin = Math.ceil(Date.now() / MINUTE) * MINUTE;
  const clock = new ScaledClock(Date.now(), Date.UTC(2026, 10, 25, 12, 0, 0), SPEED);
  const emulator = new AwsEmulator({
    clock,
    world: { ...BARE_WORLD, functions: 3, rekognitionOperations: 4, createdAtMs: origin - 6 * 3600_000 },
  });
  const endpoint = await emulator.start();
  const ws = new TempWorkspace();
  // Over UDS (the container's default) a datagram is delivered once the socket took it, so what a crash
  // point loses or repeats is the write path's doing alone. Over UDP a datagram is confirmed only after
  // 50 ms without a refusal, and a kill inside that window re-sends it: the soak test measures that.
  const listener = await startUdsListener(ws.path('dsd.socket'));
  const conf = `instances:\n  - endpoint_url: ${endpoint}\n    regions: [us-east-1]\n    min_collection_interval: 1\n`;
  for (const check of checks) ws.writeConf(check, conf);
  const env = { ...daemonEnv(clock, ws, `unix://${ws.path('dsd.socket')}`), ...extraEnv };
  emulator.setFaults({
    seed: 7,
    rules: [
      { kind: 'throttle', rate: 0.2 },
      { kind: 'internal-error', rate: 0.05 },
    ],
  });
  try {
    let crashes = 0;
    for (const step of plan) {
      const daemon = spawnDaemon(typeof step === 'string' ? { ...env, DOGWATCH_CRASH_AT: step } : env);
      // A crash point fires once the daemon gets there; a loaded machine can take a while to start it and
      // run a few collections. Killing it at a random moment instead would test something else (the
      // second test's window), so a crash point that never fires fails the test.
      const ended = await within(daemon.exited, typeof step === 'string' ? 90_000 : step);
      if (!ended) {
        daemon.child.kill('SIGKILL');
        await daemon.exited;
        assert.equal(typeof step, 'number', `crash point ${step} never fired in 90 s: ${daemon.stderr}`);
      } else {
        assert.equal(
          ended.signal,
          'SIGKILL',
          `crash point ${step} should have killed the daemon: ${daemon.stderr}`,
        );
      }
      crashes++;
    }
    const throttled = emulator.accounting
      .snapshot()
      .requests.filter((r) => r.outcome === 'throttled')
      .reduce((n, r) => n + r.count, 0);
    assert.ok(throttled > 0, 'the fault injection really throttled calls');
    // Recovery: faults gone, one clean process, stopped gracefully.
    emulator.clearFaults();
    const sentBefore = listener.datagrams.length;
    const last = spawnDaemon(env);
    // Five seconds of collection once it sends (a loaded machine can take seconds just to start it).
    await listener.waitFor((_, datagrams) => datagrams.length > sentBefore, 60_000);
    await new Promise((r) => setTimeout(r, 5000));
    last.child.kill('SIGTERM');
    const exit = await last.exited;
    assert.equal(exit.code, 0, `SIGTERM exits 0: ${JSON.stringify(exit)} ${last.stderr}`);
    await new Promise((r) => setTimeout(r, 300));

    for (const d of listener.datagrams) assertValidDatagram(d, 8192);
    const lines = listener
      .lines()
      .map(parseMetricLine)
      .filter((l): l is ParsedMetricLine => l !== undefined && l.timestamp !== undefined);
    const world = emulator.world;
    const scopes: [string, string, string, (s: Series) => string | undefined, string[]][] = [
      [
        'amazon_rekognition',
        'AWS/Rekognition',
        'aws.rekognition.',
        () => 'operation',
        ['operation', 'region'],
      ],
      [
        'amazon_lambda',
        'AWS/Lambda',
        'aws.lambda.',
        (s) => {
          const names = s.dimensions.map((d) => d.Name).join(',');
          return names === 'FunctionName' ? 'function' : names === '' ? 'account' : undefined;
        },
        ['functionname', 'region'],
      ],
    ];
    const diffs: ScenarioResult['diffs'] = {};
    for (const [check, namespace, prefix, scopeOf, keys] of scopes) {
      if (!checks.includes(check)) continue;
      const mine = lines.filter((l) => l.metric.startsWith(prefix));
      const stamps = mine.map((l) => l.timestamp! * 1000);
      const fromMs = Math.min(...stamps);
      const toMs = Math.max(...stamps) + MINUTE;
      assert.ok(
        toMs - fromMs >= minStretchMinutes * MINUTE,
        `${check}: a long enough stretch (${(toMs - fromMs) / MINUTE} min)`,
      );
      const expected = expectedPoints({
        world,
        series: world.series({ namespace }),
        rows: metricTable(check),
        scopeOf,
        identity,
        fromMs,
        toMs,
      });
      diffs[check] = { ...diffPoints(expected, mine, keys), points: expected.size };
    }
    return { crashes, diffs };
  } finally {
    await listener.close();
    await emulator.stop();
    ws.cleanup();
  }
}

/** Every check saw over 300 points of the world, each exactly once with its value, and nothing else. */
function assertEveryPointOnce({ crashes, diffs }: ScenarioResult): void {
  for (const [check, diff] of Object.entries(diffs)) {
    assert.ok(diff.points > 300, `${check}: ${diff.points} points`);
    assert.deepEqual(
      {
        missing: diff.missing,
        duplicated: diff.duplicated,
        wrongValue: diff.wrongValue,
        unexpected: diff.unexpected,
      },
      { missing: [], duplicated: [], wrongValue: [], unexpected: [] },
      `${check} after ${crashes} SIGKILLs`,
    );
  }
}

describe('restarts and faults: a real daemon process, SIGKILLed again and again', () => {
  test('SIGKILL at every point of the write path, under 20% throttling + 5% 5xx: every point exactly once', async () => {
    const result = await runScenario(
      [
        'before-emit:1',
        'before-emit:3',
        'after-journal:2',
        // A restart after a SIGKILL compacts the journals it finds at start: the state writes below are
        // those compactions (inside the snapshot, at its end before the rename, after the rename).
        'mid-state-write:1',
        'mid-state-write:2',
        'after-state-rename:1',
        'after-journal:5',
      ],
      10,
      // One check, one batch per run: each crash point hits with nothing else in flight. With two checks,
      // one check's batch can be on its way to the socket when the other's crash point fires, and is then
      // sent again after the restart: that window is the second test's, not the write path's.
      ['amazon_rekognition'],
    );
    assertEveryPointOnce(result);
  });

  test('SIGKILL right after the first datagram of a query whose points span datagrams: none of them repeated', async () => {
    // 512-byte datagrams carry two or three lines: every query's points span several, and each
    // process is killed as soon as it recorded what its first datagrams carried.
    const result = await runScenario(
      ['after-journal:1', 'after-journal:1', 'after-journal:3', 'after-journal:1'],
      5,
      ['amazon_rekognition'],
      { DOGWATCH_MAX_DATAGRAM_BYTES: '512' },
    );
    assertEveryPointOnce(result);
  });

  test('SIGKILL at random moments (also while a batch is leaving the socket): no gap; a repeat only re-sends identical points', async () => {
    const { crashes, diffs } = await runScenario(['mid-emit:2', 1700, 2300, 1100, 2900], 3);
    for (const [check, diff] of Object.entries(diffs)) {
      assert.deepEqual(diff.missing, [], `${check}: no gap after ${crashes} SIGKILLs`);
      assert.deepEqual(diff.wrongValue, [], `${check}: a repeated point carries the same value`);
      assert.deepEqual(diff.unexpected, []);
      // A kill while datagrams are on their way can repeat that one batch after restart: at-least-once
      // is the only choice over a connectionless socket (Datadog keeps one value per timestamp).
      console.log(
        `# ${check}: ${diff.points} points, ${diff.duplicated.length} re-sent after ${crashes} SIGKILLs`,
      );
    }
  });
});
